"""The two answers ftsim gives when it cannot judge a request, in one place for Flask's error handlers and
for ingest's fast path (which answers without Flask): 503 when the store failed, 500 for a bug."""
from __future__ import annotations

import secrets

RETRY_AFTER = 5  # seconds a sender is asked to wait after a 503: long enough for an operator's restart


def unavailable(exc, logger) -> tuple[int, list, dict]:
    """Nothing was kept: the sender must try again, here or after a restart."""
    logger.error("%s", exc)
    return 503, [("Retry-After", str(RETRY_AFTER))], {
        "error": "Service Unavailable", "message": f"{exc}; this message was not kept: send it again"}


def crashed(logger) -> tuple[int, list, dict]:
    """A bug answers 500 and is logged, never takes the server down. The exception's text may hold internals
    (paths, SQL, payload): the client gets an incident id to quote, the log has the rest."""
    incident = secrets.token_hex(4)
    logger.exception("unhandled error, incident %s", incident)
    return 500, [], {"error": "Internal Server Error", "incident": incident,
                     "message": f"ftsim failed on this request (a bug in ftsim); incident {incident} is in ftsim's log"}
