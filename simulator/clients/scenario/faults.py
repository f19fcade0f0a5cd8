"""Named faults: small functions in a registry, each turning one clean message into what a buggy platform sends.

A fault either changes the message it is given (a bad amount, a missing field, a wrong type, a late
timestamp, a missing or wrong type marker) or adds messages after it (a retry, a conflicting duplicate,
a win without a bet, an event after the round ended). Each names the rule ftsim must report, so the
oracle (expect.py) and the reader know what to look for; the oracle still works out every consequence
itself (a rejected bet makes its round's later win a win without a bet).

Adding a fault is adding a function here with `@fault(...)`; scenarios name it under [faults].
"""
from __future__ import annotations

import random
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Callable

from simulator.clients.scenario.journeys import Ids
from simulator.clients.scenario.planned import Planned

BROKERS = frozenset({"rabbit", "kafka"})
ALL = frozenset({"rest", "rabbit", "kafka"})


@dataclass
class Context:
    rng: random.Random
    ids: Ids
    late_seconds: tuple[float, float]


@dataclass(frozen=True)
class FaultKind:
    name: str
    rule: str  # the rule id ftsim reports for it
    summary: str
    stateless: bool  # judged from the message alone (the oracle takes the rule as given)
    channels: frozenset  # the channels that can carry it; elsewhere the message goes out clean
    eligible: Callable[[Planned], bool]
    inject: Callable[[Context, Planned], list[Planned]]


FAULTS: dict[str, FaultKind] = {}


def fault(name: str, rule: str, summary: str, *, stateless: bool, eligible=None, channels=ALL):
    def register(fn):
        FAULTS[name] = FaultKind(name, rule, summary, stateless, channels, eligible or _any, fn)
        return fn
    return register


def _any(p: Planned) -> bool:
    return True


def _approved(p: Planned) -> bool:
    return not p.rollback


def _copy(p: Planned, **changes) -> Planned:
    """A new message built from p: its own payload and meta, so seq numbers stay apart."""
    payload = {**p.payload, "meta": dict(p.payload["meta"]), **changes}
    return Planned(0, payload, p.user_id)


# -- faults that change the message ---------------------------------------------------------------

@fault("bad_amount", "amount.sum", "amount is not wager_amount + bonus_wager_amount + locked_wager_amount",
       stateless=True)
def bad_amount(ctx: Context, p: Planned) -> list[Planned]:
    p.payload["amount"] += ctx.rng.choice((Decimal("0.05"), Decimal("0.50"), Decimal("1.00"), Decimal("5.00")))
    return [p]


MISSABLE = ("origin", "vendor_id", "exchange_rate", "game_id", "currency")  # required by both profiles


@fault("missing_field", "schema.required", "a field both spec versions require is left out", stateless=True)
def missing_field(ctx: Context, p: Planned) -> list[Planned]:
    del p.payload[ctx.rng.choice(MISSABLE)]
    return [p]


def _as_text(value) -> str:
    return str(value)


WRONG_TYPES = {  # field -> how a sloppy serializer sends it
    "amount": _as_text,  # "20.00": a number sent as a string
    "exchange_rate": _as_text,
    "is_round_end": lambda v: "true" if v else "false",
    "game_id": int,  # "10911" sent as the integer 10911
}


@fault("wrong_type", "schema.type", "a field sent with the wrong JSON type (a number as text, ...)",
       stateless=True)
def wrong_type(ctx: Context, p: Planned) -> list[Planned]:
    name = ctx.rng.choice(sorted(WRONG_TYPES))
    p.payload[name] = WRONG_TYPES[name](p.payload[name])
    return [p]


@fault("late", "latency.budget", "the timestamp is seconds behind the send time (beyond the 1 s budget)",
       stateless=True)
def late(ctx: Context, p: Planned) -> list[Planned]:
    p.late_by = round(ctx.rng.uniform(*ctx.late_seconds), 3)
    return [p]


@fault("marker", "transport.type", "the broker's type marker is missing, lower-case or in the wrong place "
       "(brokers only: over REST the path is the marker)", stateless=True, channels=BROKERS)
def marker(ctx: Context, p: Planned) -> list[Planned]:
    p.marker_fault = ctx.rng.choice(("missing", "lowercase", "header"))
    return [p]


# -- faults that add messages -----------------------------------------------------------------------

@fault("retry", "activity.retry", "the same message sent again (a sender that did not see the 200)",
       stateless=False, eligible=_approved)
def retry(ctx: Context, p: Planned) -> list[Planned]:
    return _after(p, replace(p, retry=True))  # the same payload object: the same bytes go out


@fault("duplicate", "activity.duplicate", "another event reusing an activity_id already taken",
       stateless=False, eligible=lambda p: _approved(p) and p.payload["type"] == "Bet")
def duplicate(ctx: Context, p: Planned) -> list[Planned]:
    extra = ctx.rng.choice((Decimal("1.00"), Decimal("2.50"), Decimal("10.00")))
    other = _copy(p, amount=p.payload["amount"] + extra, wager_amount=p.payload["wager_amount"] + extra)
    return _after(p, other)


@fault("win_without_bet", "round.win_without_bet", "a Win in a round that had no Bet", stateless=False,
       eligible=_approved)
def win_without_bet(ctx: Context, p: Planned) -> list[Planned]:
    win = ctx.rng.choice((Decimal("0.50"), Decimal("2.00"), Decimal("7.50")))
    before = p.payload["balance_after"]
    other = _copy(p, activity_id=ctx.ids.activity(), round_id=ctx.ids.round(), type="Win", status="Approved",
                  amount=win, wager_amount=win, bonus_wager_amount=Decimal("0.00"),
                  locked_wager_amount=Decimal("0.00"), balance_before=before, balance_after=before + win,
                  is_round_end=True)
    return _after(p, other)


@fault("after_end", "round.after_end", "a Win for a round that already ended with is_round_end=true",
       stateless=False,
       eligible=lambda p: _approved(p) and p.payload["type"] == "Win" and p.payload["is_round_end"] is True)
def after_end(ctx: Context, p: Planned) -> list[Planned]:
    win = ctx.rng.choice((Decimal("1.00"), Decimal("3.00")))
    before = p.payload["balance_after"]
    other = _copy(p, activity_id=ctx.ids.activity(), amount=win, wager_amount=win,
                  bonus_wager_amount=Decimal("0.00"), locked_wager_amount=Decimal("0.00"),
                  balance_before=before, balance_after=before + win)
    return _after(p, other)


def _after(p: Planned, other: Planned) -> list[Planned]:
    """p, then the added message; the player's farewell moves to whichever is last."""
    other.farewell, p.farewell = p.farewell, False
    return [p, other]


def inject(ctx: Context, rates: dict[str, float], p: Planned) -> list[Planned]:
    """At most one fault per clean message: one draw against the scenario's rates, in their order."""
    if not rates:
        return [p]
    draw = ctx.rng.random()
    edge = 0.0
    for name, rate in rates.items():
        edge += rate
        if draw < edge:
            kind = FAULTS[name]
            if not kind.eligible(p):
                return [p]
            out = kind.inject(ctx, p)
            for q in out:
                if q is not p or kind.stateless:
                    q.fault = name
            return out
    return [p]
