"""The two answers ftsim gives when it cannot judge a request, in one place for Flask's error handlers and
for ingest's fast path (which answers without Flask): 503 when the store failed, 500 for a bug. Each is
(status, headers, body bytes), rendered here once, so both doors send the same bytes."""
from __future__ import annotations

import secrets

import orjson

RETRY_AFTER = 5  # seconds a sender is asked to wait after a 503: long enough for an operator's restart


def unavailable(exc, logger) -> tuple[int, list, bytes]:
    """Nothing was kept: the sender must try again, here or after a restart."""
    logger.error("%s", exc)
    return as_json(503, {"error": "Service Unavailable", "message": f"{exc}; this message was not kept: send it again"},
                 ("Retry-After", str(RETRY_AFTER)))


def crashed(logger) -> tuple[int, list, bytes]:
    """A bug answers 500 and is logged, never takes the server down. The exception's text may hold internals
    (paths, SQL, payload): the client gets an incident id to quote, the log has the rest."""
    incident = secrets.token_hex(4)
    logger.exception("unhandled error, incident %s", incident)
    return as_json(500, {"error": "Internal Server Error", "incident": incident,
                       "message": f"ftsim failed on this request (a bug in ftsim); incident {incident} is in ftsim's log"})


def as_json(status: int, body: dict, *headers: tuple[str, str]) -> tuple[int, list, bytes]:
    """(status, headers, body bytes) of a JSON answer, as every answer ftsim renders without Flask."""
    return status, [("Content-Type", "application/json"), *headers], orjson.dumps(body, option=orjson.OPT_SORT_KEYS) + b"\n"
