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
    """A page of messages; it stops early, with `truncated` and `next_offset`, once its stored bytes reach
    the `page_bytes` setting, so `limit=10000` over large messages cannot exhaust memory."""
    runtime = _runtime()
    page = runtime.store.message_page(
        max_bytes=runtime.settings.page_bytes,
        channel=request.args.get("channel") or None, valid=_bool("valid"), rule=request.args.get("rule") or None,
        user_id=request.args.get("user_id") or None, limit=_int("limit", 100, 1, 10_000),
        offset=_int("offset", 0, 0, 10**12), newest_first=_order() == "desc")
    return jsonify(page)


def _order() -> str:
    order = request.args.get("order") or "asc"
    if order not in ("asc", "desc"):
        abort(400, f"order: expected asc or desc, got {order!r}")
    return order


@api.delete("/messages")
def clear():
    _runtime().store.clear()
    _runtime().pipeline.clear()
    return jsonify(cleared=True)


def _view(name: str):
    """A view some event type offers (rounds and sessions: casino's); 404 when none does."""
    view = _runtime().registry.view(name)
    if view is None:
        abort(404, f"no event type offers {name}")
    return view


@api.get("/rounds")
def rounds():
    status = request.args.get("status") or None
    if status not in (None, "open", "closed"):
        abort(400, f"status: expected open or closed, got {status!r}")
    found = _view("rounds")(_runtime().store, user_id=request.args.get("user_id") or None,
                            round_id=request.args.get("round_id") or None, status=status,
                            limit=_int("limit", 1000, 1, 100_000), offset=_int("offset", 0, 0, 10**12))
    return jsonify(rounds=found)


@api.get("/sessions")
def sessions():
    """A page of sessions; rounds are read only up to the page's end (sessions are not stored, so there is
    no total: `next_offset` says whether there is more)."""
    runtime = _runtime()
    limit, offset = _int("limit", 1000, 1, 10_000), _int("offset", 0, 0, 10**12)
    page, more = _view("sessions")(runtime.store, user_id=request.args.get("user_id") or None,
                                   idle=runtime.settings.session_idle, limit=limit, offset=offset)
    return jsonify(sessions=page, next_offset=offset + limit if more else None)


@api.get("/users")
def users():
    """Every user the feed named, paged, from the counters (GET /api/users/<id> for the whole player view)."""
    store = _runtime().store
    limit, offset = _int("limit", 100, 1, 10_000), _int("offset", 0, 0, 10**12)
    found = store.users(user_id=request.args.get("user_id") or None, limit=limit, offset=offset)
    return jsonify(users=found, total=store.user_count())


@api.get("/users/<path:user_id>")
def user(user_id: str):
    found = query.player(_runtime(), user_id)
    if found is None:
        abort(404, f"user_id: no message named user {user_id!r}")
    return jsonify(found)


@api.get("/summary")
def summary():
    return jsonify(query.summary(_runtime()))


@api.get("/rules")
def rules():
    runtime = _runtime()
    severities = runtime.severities
    return jsonify(rules=[{"rule": r.id, "severity": severities.of(r.id), "default": r.severity,
                           "summary": r.summary} for r in runtime.catalog.values()])


@api.get("/operator-calls")
def operator_calls():
    """The calls ftsim made to the operator's API (with --operator-api), newest first, paged."""
    runtime = _runtime()
    if getattr(runtime, "operator", None) is None:
        return jsonify(calls=[], total=0, configured=False)
    items, total = runtime.store.operator_calls(
        endpoint=request.args.get("endpoint") or None, user_id=request.args.get("user_id") or None,
        valid=_bool("valid"), limit=_int("limit", 100, 1, 10_000), offset=_int("offset", 0, 0, 10**12))
    return jsonify(calls=items, total=total, configured=True)


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
