"""Rules every event type shares, judging one event on its own: small functions in a registry.

A type's own stateless rules live in its folder (`EventType.rules`) and run after these; rules that need
what came before live in the type's book, because they read and change stored state.
"""
from __future__ import annotations

import difflib
from datetime import timedelta

from simulator.contract.plugin import Facts, Rule
from simulator.core.violations import Violation

FUTURE_SKEW = timedelta(seconds=5)
RULES: list[Rule] = []


def rule(fn: Rule) -> Rule:
    RULES.append(fn)
    return fn


def check(facts: Facts) -> list[Violation]:
    """The shared rules, then the type's own."""
    found = [v for fn in RULES for v in fn(facts)]
    for fn in facts.event_type.rules:
        found += fn(facts)
    return found


@rule
def unknown_fields(f: Facts):
    fields = f.event_type.fields
    for name in f.payload:
        if name not in fields:
            near = difflib.get_close_matches(name, sorted(fields), n=1, cutoff=0.75)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            yield Violation("payload.unknown_field", "/" + name.replace("~", "~0").replace("/", "~1"),
                            f"{name}: not a field of the contract, ignored by the CRM{hint}")


@rule
def latency(f: Facts):
    if f.timestamp is None:
        return
    late = (f.received_at - f.timestamp).total_seconds()
    if late > f.latency_budget:
        yield Violation("latency.budget", "/timestamp",
                        f"timestamp: received {late:.3f} s after the event, expected within "
                        f"{f.latency_budget:g} s")
    elif f.timestamp - f.received_at > FUTURE_SKEW:
        ahead = (f.timestamp - f.received_at).total_seconds()
        yield Violation("timestamp.future", "/timestamp",
                        f"timestamp: {ahead:.3f} s ahead of the time it was received; "
                        f"expected the time the event happened (check the sender's clock and time zone)")
