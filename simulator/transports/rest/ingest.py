"""POST /v1/integration/<type>: what an operator's REST sender talks to, as the CRM would answer it."""
from __future__ import annotations

import orjson
from flask import Blueprint, current_app, jsonify, request

from simulator.core.envelope import Envelope, utcnow

ingest = Blueprint("ingest", __name__)


def _runtime():
    return current_app.extensions["ftsim"]


def _reject(status: int, rule: str, message: str, detail: str):
    runtime = _runtime()
    runtime.store.add_rejection("rest", utcnow(), rule, detail)
    return jsonify(error={413: "Payload Too Large", 415: "Unsupported Media Type"}[status], rule=rule,
                   message=message), status


def _read_at_most(n: int) -> bytes:
    stream, parts, size = request.stream, [], 0
    while size < n:
        chunk = stream.read(min(65536, n - size))
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


@ingest.post("/v1/integration/<path:kind>")
def receive(kind: str):
    received_at = utcnow()
    runtime = _runtime()
    event_type = runtime.registry.by_path.get(request.path)
    if event_type is None:
        known = ", ".join(sorted(t.rest_path for t in runtime.registry))
        return jsonify(error="Not Found", message=f"ftsim has no event type at {request.path}; it serves {known}"), 404
    limit = runtime.settings.max_body
    if request.content_length is not None and request.content_length > limit:
        return _reject(413, "transport.size", f"body: expected at most {limit} bytes, got {request.content_length}",
                       f"{request.content_length} bytes")
    mimetype = request.mimetype
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        return _reject(415, "transport.media_type",
                       f"Content-Type: expected application/json, got {request.content_type or 'none'}",
                       request.content_type or "none")
    length = request.content_length  # known and within the limit: read exactly that; chunked: up to the limit
    raw = _read_at_most(limit + 1 if length is None else length)
    if len(raw) > limit:
        return _reject(413, "transport.size", f"body: expected at most {limit} bytes, got more (chunked)",
                       "chunked body over the limit")
    verdict = runtime.intake.one(Envelope("rest", raw, event_type.marker, received_at, request.remote_addr or ""))
    status = 200 if verdict.valid or runtime.settings.accept_invalid else 400
    body = orjson.dumps({"accepted": status == 200, **verdict.as_dict()}, option=orjson.OPT_SORT_KEYS) + b"\n"
    return current_app.response_class(body, status=status, mimetype="application/json")
