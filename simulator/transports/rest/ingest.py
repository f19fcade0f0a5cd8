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
    verdict = runtime.intake.one(Envelope("rest", raw, event_type.marker, received_at, request.remote_addr or "",
                                         type_name=event_type.name))
    status = 200 if verdict.valid or runtime.settings.accept_invalid else 400
    body = orjson.dumps({"accepted": status == 200, **verdict.as_dict()}, option=orjson.OPT_SORT_KEYS) + b"\n"
    return current_app.response_class(body, status=status, mimetype="application/json")
