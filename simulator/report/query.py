"""The summary everyone reads, built from the store's counters and the event types' own summary views."""
from __future__ import annotations


def summary(runtime) -> dict:
    counts = runtime.store.counts()
    p50, p99 = runtime.store.latency_quantiles((0.5, 0.99))
    counts["latency_ms"] = {"p50": _ms(p50), "p99": _ms(p99), "budget": runtime.settings.latency_budget * 1000}
    counts["channels"] = {name: state.as_dict() for name, state in runtime.channels.items()}
    counts["profile"] = runtime.settings.profile
    counts["store"] = runtime.store.health()
    for view in runtime.registry.views("summary"):  # casino adds "rounds": {"open", "closed"}
        counts.update(view(runtime.store))
    return counts


def _ms(value):
    return None if value is None else round(float(value), 3)
