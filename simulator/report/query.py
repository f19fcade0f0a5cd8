"""The summary everyone reads, built from the store's counters and the event types' own summary views."""
from __future__ import annotations


def summary(runtime) -> dict:
    counts = runtime.store.counts()
    p50, p99 = runtime.store.latency_quantiles((0.5, 0.99))
    counts["latency_ms"] = {"p50": _ms(p50), "p99": _ms(p99), "budget": runtime.settings.latency_budget * 1000}
    counts["channels"] = runtime.channel_states()
    counts["profile"] = runtime.settings.profile
    counts["store"] = runtime.store.health()
    for view in runtime.registry.views("summary"):  # casino adds "rounds": {"open", "closed"}
        counts.update(view(runtime.store))
    operator = getattr(runtime, "operator", None)
    if operator is not None:  # calls to the operator's API (simulator/operator/), when one is configured
        counts["operator"] = operator.summary()
    pipeline = getattr(runtime, "pipeline", None)  # the upstream pairing, when this process runs one
    if pipeline is not None and pipeline.active:
        counts["pipeline"] = pipeline.summary()
    return counts


def player(runtime, user_id: str) -> dict | None:
    """What the CRM would know of one user from the feed: every type's part of the player view (registration,
    logins, payments, balances, bonuses, rounds ...), the user's messages by type; None for a user never seen."""
    store = runtime.store
    seen = store.users(user_id=user_id, limit=1)
    if not seen:
        return None
    out = {**seen[0], "by_type": store.user_types(user_id)}
    for view in runtime.registry.views("player"):
        part = view(store, user_id)
        if part:
            out.update(part)
    return out


def _ms(value):
    return None if value is None else round(float(value), 3)
