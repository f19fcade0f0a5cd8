"""POST /v1/integration/<type>: what an operator's REST sender talks to, as the CRM would answer it."""
from __future__ import annotations

import threading
from contextlib import nullcontext
from http import HTTPStatus

import orjson
from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import ClientDisconnected

from simulator.core.errors import StoreError
from simulator.transports.rest import answers, server as httpserver
from simulator.core.envelope import Envelope, utcnow

ingest = Blueprint("ingest", __name__)
DRAIN_LIMIT = 16 * 1024 * 1024  # bytes of a refused body read and dropped, so that its sender reads the answer
REASONS = {400: "Bad Request", 408: "Request Timeout", 413: "Payload Too Large", 415: "Unsupported Media Type",
           503: "Service Unavailable"}
# A body costs about ten times its size while it is read, judged and handed on (its bytes, the parsed
# payload, the canonical text, the schema engine's copy, the hand-over to the supervisor); measured, 400
# senders of 1 MB bodies took a worker to 1.4-1.7 GiB at 64 threads. Bodies up to SMALL_BODY (an FT event
# is 1-3 KB) are read at once on any of the server's threads; larger ones (a chunked one once it is past
# SMALL_BODY) take one of LARGE_BODIES places a process first, so a flood of big bodies costs at most about
# LARGE_BODIES x 10 x max_body, however many threads stalled bodies have started.
SMALL_BODY = 16 * 1024  # (the catalog's words for transport.busy name both figures)
LARGE_BODIES = 16
_large = threading.BoundedSemaphore(LARGE_BODIES)
BUSY_RETRY_AFTER = 1  # seconds a sender refused for want of a place is asked to wait


def _runtime():
    return current_app.extensions["ftsim"]


def _reject(status: int, rule: str, message: str, detail: str, drain: int = 0):
    """A refusal answered through Flask (see `_refused`)."""
    return _answered(*_refused(_runtime(), request.stream, utcnow(), status, rule, message, detail, drain))


def _refused(runtime, stream, received_at, status: int, rule: str, message: str, detail: str, drain: int = 0,
             *headers: tuple[str, str]) -> tuple[int, list, bytes]:
    """Count the refusal and answer it; `drain` bytes of the unread body are read first, because a sender
    still writing its body (urllib does, before it reads anything) gets a broken pipe, not this answer, if
    the connection closes under it. The connection is closed after the answer either way."""
    _drain(stream, drain)
    runtime.store.add_rejection("rest", received_at, rule, detail)
    return answers.as_json(status, {"error": REASONS[status], "rule": rule, "message": message}, *headers,
                           ("Connection", "close"))


def _drain(stream, n: int) -> None:
    try:
        while n > 0:
            chunk = stream.read(min(65536, n))
            if not chunk:
                return
            n -= len(chunk)
    except (OSError, ClientDisconnected):  # the sender is gone or stalled: nothing left to protect
        pass


class _LargePlace:
    """One of the LARGE_BODIES places, held for the block; entered as True once taken, False when none came
    free within the body deadline."""

    __slots__ = ("taken",)

    def __enter__(self) -> bool:
        self.taken = _large.acquire(timeout=httpserver.BODY_TIMEOUT)
        return self.taken

    def __exit__(self, *exc) -> None:
        if self.taken:
            _large.release()


_NO_PLACE_NEEDED = nullcontext(True)  # shared: a small body, the usual request, pays for no object


def _place_for(size: int):
    """What a body of `size` bytes (a chunked one: what was read of it, at most SMALL_BODY + 1) is read and
    judged under: at once when small, else once one of the LARGE_BODIES places is free."""
    return _NO_PLACE_NEEDED if size <= SMALL_BODY else _LargePlace()


def _busy(runtime, stream, length: int | None, received_at) -> tuple[int, list, bytes]:
    """The answer to a large body that found no place within the deadline: 503, send it again."""
    size = f"{length} bytes" if length is not None else "chunked"
    return _refused(runtime, stream, received_at, 503, "transport.busy",
                    f"body: {size}; the {LARGE_BODIES} places for bodies over {SMALL_BODY} bytes stayed taken "
                    f"for {httpserver.BODY_TIMEOUT:g} s; this message was not kept: send it again", size,
                    DRAIN_LIMIT if length is None else length, ("Retry-After", str(BUSY_RETRY_AFTER)))


def _read_at_most(stream, n: int, parts: list) -> bytes:
    """Up to n bytes of the body; `parts` holds what arrived if the read fails (the stall or break is the
    caller's to report)."""
    size = 0
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
        return answers.as_json(408, {"error": REASONS[408], "rule": "transport.incomplete",
                                     "message": f"body: {self.expected}, not complete after {timeout:g} s"})

    def answer(self, got: int, exc: BaseException | None) -> tuple[int, list, bytes]:
        """(status, headers, body) for a body that stopped short; the connection is closed after it."""
        if isinstance(exc, ClientDisconnected) and exc.__context__ is not None:
            exc = exc.__context__  # werkzeug's length-limited stream hides the socket's error behind its own
        if isinstance(exc, TimeoutError):
            status, headers, body = self.timed_out()
        else:
            if self.length is not None:
                why, detail = f"{self.expected}, got {got} before the sender stopped", f"{got} of {self.length} bytes"
            else:
                reason = str(exc) if exc is not None and str(exc) else type(exc).__name__
                why, detail = f"broken chunked encoding after {got} bytes ({reason})", f"chunked: {reason}"[:200]
            self._record(detail)
            status, headers, body = answers.as_json(400, {"error": REASONS[400], "rule": "transport.incomplete",
                                                          "message": f"body: {why}"})
        return status, [*headers, ("Connection", "close")], body

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
    if not _is_json(request.mimetype):
        return _reject(415, "transport.media_type",
                       f"Content-Type: expected application/json, got {request.content_type or 'none'}",
                       request.content_type or "none", drain=DRAIN_LIMIT if length is None else length)
    first = b""
    if length is None:  # chunked: as much as a small body may be is read before it asks for a place
        first, short = _read_body(runtime, request.environ, request.stream, received_at, None, SMALL_BODY + 1)
        if short is not None:
            return _answered(*short)
    with _place_for(length if length is not None else len(first)) as placed:
        if not placed:
            return _answered(*_busy(runtime, request.stream, length, received_at))
        if length is None and len(first) <= SMALL_BODY:  # the whole of a small chunked body
            raw = first
        else:
            rest, short = _read_body(runtime, request.environ, request.stream, received_at, length,
                                     limit + 1 - len(first) if length is None else length, already=len(first))
            if short is not None:
                return _answered(*short)
            raw = first + rest if first else rest
        if len(raw) <= limit:
            status, body = _judged(runtime, event_type, raw, received_at, request.remote_addr)
            return current_app.response_class(body, status=status, mimetype="application/json")
    # a chunked body over the limit: the rest is drained for its 413 after its place is let go
    return _reject(413, "transport.size", f"body: expected at most {limit} bytes, got more (chunked)",
                   "chunked body over the limit", drain=DRAIN_LIMIT)


def _answered(status: int, headers: list, body: bytes):
    return current_app.response_class(body, status=status, headers=headers)


def _is_json(mimetype: str) -> bool:
    """application/json, or a JSON-based type (application/vnd.x+json): a media type without parameters,
    lower case."""
    return mimetype == "application/json" or mimetype.endswith("+json")


def _read_body(runtime, environ, stream, received_at, length, most, already: int = 0):
    """(the body, None), or (None, the answer) when it stopped short: a stall, a broken chunk, the sender
    gone. The server's body watchdog answers a stall through the environ. `already`: bytes of a chunked body
    read before this part (counted in the answer)."""
    incomplete = _Incomplete(runtime, received_at, length)
    environ[httpserver.BODY_TIMEOUT_ANSWER] = incomplete.timed_out
    parts: list[bytes] = []
    try:
        raw = _read_at_most(stream, most, parts)
    except (OSError, ClientDisconnected) as exc:
        return None, incomplete.answer(already + sum(map(len, parts)), exc)
    if length is not None and len(raw) < length:
        return None, incomplete.answer(len(raw), None)
    return raw, None


def _judged(runtime, event_type, raw: bytes, received_at, remote_addr) -> tuple[int, bytes]:
    """The one intake's verdict on a whole body, as the CRM answers it: 200, or 400 for an invalid event
    (unless the operator asked for every event to be accepted)."""
    verdict = runtime.intake.one(Envelope("rest", raw, event_type.marker, received_at, remote_addr or "",
                                         type_name=event_type.name))
    status = 200 if verdict.valid or runtime.settings.accept_invalid else 400
    return status, orjson.dumps({"accepted": status == 200, **verdict.as_dict()}, option=orjson.OPT_SORT_KEYS) + b"\n"


class FastIngest:
    """WSGI middleware in front of Flask for the request a sender makes thousands of times a second: a POST
    of JSON with a Content-Length within the limit to a type's route, with no credentials to check. Flask's
    request machinery cost 170-200 us of CPU a request here against 2-3 for a bare WSGI function, a fifth of
    all a REST message costs. It reads, judges and answers as the route below does, through the same
    functions; every other request (another method or path, chunked, too big, another media type,
    credentials configured) goes to Flask, which answers it as before."""

    def __init__(self, wsgi_app, runtime, logger):
        self.next, self.runtime, self.logger = wsgi_app, runtime, logger

    def __call__(self, environ, start_response):
        fast = self._fast(environ)
        if fast is None:
            return self.next(environ, start_response)
        received_at = utcnow()
        event_type, length = fast
        runtime = self.runtime
        try:
            with _place_for(length) as placed:
                if not placed:
                    return _send(start_response, *_busy(runtime, environ["wsgi.input"], length, received_at))
                raw, short = _read_body(runtime, environ, environ["wsgi.input"], received_at, length, length)
                if short is not None:
                    return _send(start_response, *short)
                status, body = _judged(runtime, event_type, raw, received_at, environ.get("REMOTE_ADDR"))
        except StoreError as exc:
            return _send(start_response, *answers.unavailable(exc, self.logger))
        except Exception:
            return _send(start_response, *answers.crashed(self.logger))
        return _send(start_response, status, [("Content-Type", "application/json")], body)

    def _fast(self, environ):
        """(type, Content-Length) of a request that needs none of Flask's care, or None."""
        settings = self.runtime.settings
        if environ.get("REQUEST_METHOD") != "POST" or settings.has_auth or environ.get("HTTP_TRANSFER_ENCODING"):
            return None
        event_type = self.runtime.registry.routes.get(environ.get("PATH_INFO"), {}).get("POST")
        text = environ.get("CONTENT_LENGTH")
        if event_type is None or not text or not (text.isascii() and text.isdigit()) or int(text) > settings.max_body:
            return None
        if not _is_json(environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()):
            return None
        return event_type, int(text)


def _send(start_response, status: int, headers: list, body: bytes):
    start_response(f"{status} {HTTPStatus(status).phrase}", [*headers, ("Content-Length", str(len(body)))])
    return [body]

