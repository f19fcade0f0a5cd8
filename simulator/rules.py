"""Rules that judge one event on its own: small functions in a registry, each yielding violations.

Adding a rule is adding a function here and its id to catalog.py. Rules that need what came before
(duplicates, rounds, rollbacks) live in ledger.py, because they read and change stored state.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import islice
from typing import Callable, Iterable

from .money import to_money
from .violations import Violation

FUTURE_SKEW = timedelta(seconds=5)
PARTS = ("wager_amount", "bonus_wager_amount", "locked_wager_amount")
SUGGEST_MAX = 5  # unknown fields worded one by one with a suggestion (~135 us each); the rest are summed up
LISTED_MAX = 5  # of the rest, the names shown in the summary


@dataclass(slots=True)
class Facts:
    """What a stateless rule may look at."""
    payload: dict
    fields: frozenset  # the names the event type's schema defines
    received_at: datetime
    timestamp: datetime | None  # the payload's timestamp, parsed; None when absent or not RFC 3339
    latency_budget: float
    amount_tolerance: Decimal


Rule = Callable[[Facts], Iterable[Violation]]
RULES: list[Rule] = []


def rule(fn: Rule) -> Rule:
    RULES.append(fn)
    return fn


def check(facts: Facts) -> list[Violation]:
    return [v for fn in RULES for v in fn(facts)]


@rule
def amount_sum(f: Facts):
    sent = [(name, to_money(f.payload[name])) for name in PARTS if name in f.payload]
    total = to_money(f.payload.get("amount"))
    if not sent or total is None or any(v is None for _, v in sent):
        return
    parts = sum((v for _, v in sent), Decimal(0))
    if abs(total - parts) > f.amount_tolerance:
        shown = " + ".join(f"{n} {v}" for n, v in sent)
        yield Violation("amount.sum", "/amount",
                        f"amount: expected {parts} ({shown}), got {total}: differs by {abs(total - parts)}, "
                        f"more than the tolerance {f.amount_tolerance}")


@rule
def unknown_fields(f: Facts):
    extra = f.payload.keys() - f.fields  # a set operation in C: a 100,000-key body costs milliseconds, not seconds
    if not extra:
        return
    names = [name for name in f.payload if name in extra] if len(extra) <= SUGGEST_MAX else None
    if names is None:  # the first few in the sender's order, without walking all of them in Python
        names = list(islice((name for name in f.payload if name in extra), SUGGEST_MAX + LISTED_MAX))
    known = sorted(f.fields)
    for name in names[:SUGGEST_MAX]:
        near = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        yield Violation("payload.unknown_field", "/" + name.replace("~", "~0").replace("/", "~1"),
                        f"{name}: not a field of the contract, ignored by the CRM{hint}")
    rest = len(extra) - SUGGEST_MAX
    if rest > 0:
        listed = ", ".join(repr(n[:40]) for n in names[SUGGEST_MAX:])
        more = ", ..." if rest > LISTED_MAX else ""
        yield Violation("payload.unknown_field", "",
                        f"body: {rest} more fields that are not in the contract, ignored by the CRM "
                        f"(not suggested for, one by one): {listed}{more}")


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
