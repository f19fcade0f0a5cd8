"""The query API: stable JSON that CI jobs, the live page and our tests read."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, request

from simulator.report import query

api = Blueprint("api", __name__, url_prefix="/api")


def _runtime():
    return current_app.extensions["ftsim"]


def _int(name: str, default: int, low: int = 0, high: int = 10_000) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        abort(400, f"{name}: expected a whole number, got {raw!r}")
    if not low <= value <= high:
        abort(400, f"{name}: expected {low}..{high}, got {value}")
    return value


def _bool(name: str):
    raw = request.args.get(name)
    if raw in (None, ""):
        return None
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    abort(400, f"{name}: expected true or false, got {raw!r}")


@api.get("/messages")
def messages():
    items, total = _runtime().store.messages(
        channel=request.args.get("channel") or None, valid=_bool("valid"), rule=request.args.get("rule") or None,
        user_id=request.args.get("user_id") or None, limit=_int("limit", 100, 1, 10_000),
        offset=_int("offset", 0, 0, 10**12), newest_first=request.args.get("order") == "desc")
    return jsonify(messages=items, total=total)


@api.delete("/messages")
def clear():
    _runtime().store.clear()
    _runtime().pipeline.clear()
    return jsonify(cleared=True)


@api.get("/rounds")
def rounds():
    status = request.args.get("status") or None
    if status not in (None, "open", "closed"):
        abort(400, f"status: expected open or closed, got {status!r}")
    found = _runtime().store.rounds(user_id=request.args.get("user_id") or None,
                                    round_id=request.args.get("round_id") or None, status=status,
                                    limit=_int("limit", 1000, 1, 100_000), offset=_int("offset", 0, 0, 10**12))
    return jsonify(rounds=[query.round_dict(r) for r in found])


@api.get("/sessions")
def sessions():
    runtime = _runtime()
    found = runtime.store.rounds_in_order(user_id=request.args.get("user_id") or None)
    return jsonify(sessions=query.sessions(found, runtime.settings.session_idle))


@api.get("/summary")
def summary():
    return jsonify(query.summary(_runtime()))


@api.get("/rules")
def rules():
    runtime = _runtime()
    severities = runtime.severities
    return jsonify(rules=[{"rule": r.id, "severity": severities.of(r.id), "default": r.severity,
                           "summary": r.summary} for r in runtime.catalog.values()])


# -- the upstream pipeline (simulator/upstream/): inputs a driver sent the platform, paired with FT events --

@api.get("/pipeline")
def pipeline():
    verdict = request.args.get("verdict") or None
    if verdict not in (None, "clean", "problem", "pending"):
        abort(400, f"verdict: expected clean, problem or pending, got {verdict!r}")
    found = _runtime().pipeline
    rows, total = found.inputs(verdict=verdict, rule=request.args.get("rule") or None,
                               input_id=request.args.get("input") or None, limit=_int("limit", 100, 1, 10_000),
                               offset=_int("offset", 0, 0, 10**12))
    return jsonify(summary=found.summary(), inputs=rows, total=total)


@api.post("/pipeline/inputs")
def pipeline_inputs():
    body = request.get_json(silent=True)
    items = body.get("inputs") if isinstance(body, dict) else body
    if not isinstance(items, list):
        abort(400, "expected a JSON object {\"inputs\": [...]} or a JSON array of inputs")
    try:
        return jsonify(_runtime().pipeline.register(items))
    except ValueError as exc:
        abort(400, str(exc))


@api.delete("/pipeline")
def pipeline_clear():
    _runtime().pipeline.clear()
    return jsonify(cleared=True)
