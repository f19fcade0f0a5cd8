"""The query API: stable JSON that CI jobs, the live page and our tests read."""
from __future__ import annotations


from flask import Blueprint, abort, current_app, jsonify, request

from simulator.contract.catalog import unknown_rules
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


CHANNELS = ("rest", "rabbit", "kafka", "file")  # what a message's channel can be (core/envelope.py)


def channel_arg() -> str | None:
    """A filter by channel; a name no channel has (rabbitmq for rabbit) is a 400, not an empty page."""
    channel = request.args.get("channel") or None
    if channel is not None and channel not in CHANNELS:
        abort(400, f"channel: expected one of {', '.join(CHANNELS)}, got {channel!r}")
    return channel


def rule_arg() -> str | None:
    """A filter by rule; an id no rule has (a typo) is a 400 with the closest one, not an empty page."""
    rule = request.args.get("rule") or None
    if rule is not None and (unknown := unknown_rules([rule], _runtime().catalog)):
        abort(400, f"rule: no rule {unknown[0]}; GET /api/rules lists them")
    return rule


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
        channel=channel_arg(), valid=_bool("valid"), rule=rule_arg(),
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
    user_id = request.args.get("user_id") or None
    found = store.users(user_id=user_id, limit=limit, offset=offset)
    return jsonify(users=found, total=store.user_count(user_id=user_id))  # the filter's, as /api/messages


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
    rows, total = found.inputs(verdict=verdict, rule=rule_arg(),
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
