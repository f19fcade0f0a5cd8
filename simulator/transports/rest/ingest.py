"""POST /v1/integration/<type>: what an operator's REST sender talks to, as the CRM would answer it."""
from __future__ import annotations

import threading

import orjson
from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import ClientDisconnected

from simulator.transports.rest import server as httpserver
from simulator.core.envelope import Envelope, utcnow

ingest = Blueprint("ingest", __name__)
DRAIN_LIMIT = 16 * 1024 * 1024  # bytes of a refused body read and dropped, so that its sender reads the answer
REASONS = {400: "Bad Request", 408: "Request Timeout", 413: "Payload Too Large", 415: "Unsupported Media Type"}


def _runtime():
    return current_app.extensions["ftsim"]


def _reject(status: int, rule: str, message: str, detail: str, drain: int = 0):
    """Count the refusal and answer it; `drain` bytes of the unread body are read first, because a sender
    still writing its body (urllib does, before it reads anything) gets a broken pipe, not this answer, if
    the connection closes under it. The connection is closed after the answer either way."""
    if drain:
        _drain(drain)
    runtime = _runtime()
    runtime.store.add_rejection("rest", utcnow(), rule, detail)
    response = jsonify(error=REASONS[status], rule=rule, message=message)
    response.status_code = status
    response.headers["Connection"] = "close"
    return response


def _drain(n: int) -> None:
    try:
        while n > 0:
            chunk = request.stream.read(min(65536, n))
            if not chunk:
                return
            n -= len(chunk)
    except (OSError, ClientDisconnected):  # the sender is gone or stalled: nothing left to protect
        pass


def _read_at_most(n: int, parts: list) -> bytes:
    """Up to n bytes of the body; `parts` holds what arrived if the read fails (the stall or break is the
    caller's to report)."""
    stream, size = request.stream, 0
    while size < n:
        chunk = stream.read(min(65536, n - size))
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


class _Incomplete:
    """`transport.incomplete`: a body that did not arrive whole is the transport's failure, not a message the
    operator sent; it is counted as a rejection, apart from messages, and never reaches intake."""

    def __init__(self, runtime, received_at, length):
        self.runtime, self.received_at, self.length = runtime, received_at, length
        self._once = threading.Lock()
        self.expected = f"expected {length} bytes (Content-Length)" if length is not None else "chunked"

    def timed_out(self):
        """The answer to a body that outlasted the server's deadline (also called by granian's watchdog)."""
        timeout = httpserver.BODY_TIMEOUT
        self._record(f"timed out after {timeout:g} s, {self.expected}")
        body = {"error": REASONS[408], "rule": "transport.incomplete",
                "message": f"body: {self.expected}, not complete after {timeout:g} s"}
        return 408, [("Content-Type", "application/json")], orjson.dumps(body) + b"\n"

    def answer(self, got: int, exc: BaseException | None):
        if isinstance(exc, TimeoutError):
            status, headers, body = self.timed_out()
        else:
            if self.length is not None:
                why, detail = f"{self.expected}, got {got} before the sender stopped", f"{got} of {self.length} bytes"
            else:
                reason = str(exc) if exc is not None and str(exc) else type(exc).__name__
                why, detail = f"broken chunked encoding after {got} bytes ({reason})", f"chunked: {reason}"[:200]
            self._record(detail)
            status, headers = 400, [("Content-Type", "application/json")]
            body = orjson.dumps({"error": REASONS[400], "rule": "transport.incomplete", "message": f"body: {why}"})
        response = current_app.response_class(body, status=status, headers=headers)
        response.headers["Connection"] = "close"
        return response

    def _record(self, detail: str) -> None:
        if self._once.acquire(blocking=False):  # once, whether the watchdog or the request thread comes first
            self.runtime.store.add_rejection("rest", self.received_at, "transport.incomplete", detail)


@ingest.route("/<version>/integration/<path:kind>", methods=["POST", "PUT", "PATCH", "DELETE", "GET"])
def receive(version: str, kind: str):
    received_at = utcnow()
    runtime = _runtime()
    methods = runtime.registry.routes.get(request.path)
    if methods is None:
        known = ", ".join(f"{m} {p}" for p, ms in sorted(runtime.registry.routes.items()) for m in sorted(ms))
        return jsonify(error="Not Found", message=f"ftsim has no event type at {request.path}; it serves {known}"), 404
    event_type = methods.get(request.method)
    if event_type is None:
        allowed = ", ".join(sorted(methods))
        names = " and ".join(f"{m} for {t.marker}" for m, t in sorted(methods.items()))
        response = jsonify(error="Method Not Allowed",
                           message=f"{request.method} {request.path}: expected {names}")
        response.headers["Allow"] = allowed
        return response, 405
    limit = runtime.settings.max_body
    length = request.content_length  # known and within the limit: read exactly that; chunked: up to the limit
    if length is not None and length > limit:
        return _reject(413, "transport.size", f"body: expected at most {limit} bytes, got {length}",
                       f"{length} bytes", drain=length if length <= DRAIN_LIMIT else 0)
    mimetype = request.mimetype
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        return _reject(415, "transport.media_type",
                       f"Content-Type: expected application/json, got {request.content_type or 'none'}",
                       request.content_type or "none", drain=DRAIN_LIMIT if length is None else length)
    incomplete = _Incomplete(runtime, received_at, length)
    request.environ[httpserver.BODY_TIMEOUT_ANSWER] = incomplete.timed_out
    parts: list[bytes] = []
    try:
        raw = _read_at_most(limit + 1 if length is None else length, parts)
    except (OSError, ClientDisconnected) as exc:  # a stall (TimeoutError), a broken chunk, the sender gone
        if isinstance(exc, ClientDisconnected) and exc.__context__ is not None:
            exc = exc.__context__  # werkzeug's length-limited stream hides the socket's error behind its own
        return incomplete.answer(sum(map(len, parts)), exc)
    if length is not None and len(raw) < length:
        return incomplete.answer(len(raw), None)
    if len(raw) > limit:
        return _reject(413, "transport.size", f"body: expected at most {limit} bytes, got more (chunked)",
                       "chunked body over the limit", drain=DRAIN_LIMIT)
    verdict = runtime.intake.one(Envelope("rest", raw, event_type.marker, received_at, request.remote_addr or "",
                                         type_name=event_type.name))
    status = 200 if verdict.valid or runtime.settings.accept_invalid else 400
    body = orjson.dumps({"accepted": status == 200, **verdict.as_dict()}, option=orjson.OPT_SORT_KEYS) + b"\n"
    return current_app.response_class(body, status=status, mimetype="application/json")
