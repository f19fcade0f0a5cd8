"""Named faults: small functions in a registry, each turning one clean message into what a buggy platform sends.

A fault either changes the message it is given (a bad amount, a missing field, a wrong type, a late
timestamp, a missing or wrong type marker) or adds messages after it (a retry, a conflicting duplicate,
a win without a bet, an event after the round ended). Each names the rule ftsim must report, so the
oracle (expect.py) and the reader know what to look for; the oracle still works out every consequence
itself (a rejected bet makes its round's later win a win without a bet).

Adding a fault is adding a function here with `@fault(...)`; scenarios name it under [faults]. FAULTS are
the faults of casino traffic, which every scenario can carry; TYPE_FAULTS (`@fault(..., marker=M)`) break
one of the other types' rules and need a [journey] that sends that type. A fault only lands on a message it
fits (casino faults on casino events, a payment fault on a PAYMENT); elsewhere the draw leaves it clean, as
it does a fault of a brokers-only type on a REST run.
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
    namespace: str = ""
    carried: frozenset | None = None  # the markers the channel carries (None: every one)
    clean: int = 0  # clean messages offered to inject so far
    profile: str = "strict"  # the target's profile: a fault is only what that profile refuses


@dataclass(frozen=True)
class FaultKind:
    name: str
    rule: str  # the rule id ftsim reports for it
    summary: str
    stateless: bool  # judged from the message alone (the oracle takes the rule as given)
    channels: frozenset  # the channels that can carry it; elsewhere the message goes out clean
    eligible: Callable[[Planned], bool]
    inject: Callable[[Context, Planned], list[Planned]]
    marker: str | None = None  # a type fault: the type whose rule it breaks
    in_place: bool = False  # a history fault that changes the message itself (it carries the fault)
    # not before this many clean messages: for a fault whose rule depends on what the run saw first, since
    # concurrent senders (REST workers, Kafka partitions) do not keep the order of different users
    after: int = 0


FAULTS: dict[str, FaultKind] = {}
TYPE_FAULTS: dict[str, FaultKind] = {}
KNOWN: dict[str, FaultKind] = {}  # both: what a scenario may name


def fault(name: str, rule: str, summary: str, *, stateless: bool, eligible=None, channels=ALL, marker=None,
          in_place=False, after=0):
    def register(fn):
        kind = FaultKind(name, rule, summary, stateless, channels, eligible or _any, fn, marker, in_place, after)
        (TYPE_FAULTS if marker else FAULTS)[name] = KNOWN[name] = kind
        return fn
    return register


def _any(p: Planned) -> bool:
    return True


def _casino(p: Planned) -> bool:
    return p.casino


def _approved(p: Planned) -> bool:
    """Any message but a casino Rollback (a Rollback's retry and duplicates are the ledger's own story)."""
    return not p.rollback


def _retriable(p: Planned) -> bool:
    """USER_BALANCES_UPDATE has no identity (a balance is the latest one): the same update again is judged
    as new, so a retry of it shows nothing to check."""
    return _approved(p) and p.marker != "USER_BALANCES_UPDATE"


def _copy(p: Planned, **changes) -> Planned:
    """A new message built from p: its own payload and meta, so seq numbers stay apart."""
    payload = {**p.payload, "meta": dict(p.payload["meta"]), **changes}
    return Planned(0, payload, p.user_id)


# -- faults that change the message ---------------------------------------------------------------

@fault("bad_amount", "amount.sum", "amount is not wager_amount + bonus_wager_amount + locked_wager_amount",
       stateless=True, eligible=_casino)
def bad_amount(ctx: Context, p: Planned) -> list[Planned]:
    p.payload["amount"] += ctx.rng.choice((Decimal("0.05"), Decimal("0.50"), Decimal("1.00"), Decimal("5.00")))
    return [p]


MISSABLE = ("origin", "vendor_id", "exchange_rate", "game_id", "currency")  # required by both profiles


@fault("missing_field", "schema.required", "a field both spec versions require is left out", stateless=True,
       eligible=_casino)
def missing_field(ctx: Context, p: Planned) -> list[Planned]:
    del p.payload[ctx.rng.choice(MISSABLE)]
    return [p]


def _as_text(value) -> str:
    return str(value)


EVERY_PROFILE = frozenset(("strict", "lenient", "ft"))
WRONG_TYPES = {  # field -> (how a sloppy serializer sends it, the profiles that refuse it)
    "amount": (_as_text, EVERY_PROFILE),  # "20.00": a number sent as a string
    "exchange_rate": (_as_text, EVERY_PROFILE),
    "is_round_end": (lambda v: "true" if v else "false", EVERY_PROFILE),
    "game_id": (int, frozenset(("strict",))),  # "10911" as the integer 10911: lenient and ft take a number
}


@fault("wrong_type", "schema.type", "a field sent with the wrong JSON type (a number as text, ...)",
       stateless=True, eligible=_casino)
def wrong_type(ctx: Context, p: Planned) -> list[Planned]:
    """Only a field whose wrong type the target's profile refuses: a run against a lenient ftsim expected
    schema.type for a numeric game_id, which lenient takes, and reported ftsim DIFFERENT for judging right."""
    name = ctx.rng.choice([n for n, (_, refused) in sorted(WRONG_TYPES.items()) if ctx.profile in refused]
                          or sorted(WRONG_TYPES))  # a profile this ftsim does not know: strict's choice
    p.payload[name] = WRONG_TYPES[name][0](p.payload[name])
    return [p]


@fault("late", "latency.budget", "the timestamp is seconds behind the send time (beyond the 1 s budget)",
       stateless=True,  # a late balance is stale too; a GAME has no timestamp to be late
       eligible=lambda p: p.marker != "USER_BALANCES_UPDATE" and "timestamp" in p.payload)
def late(ctx: Context, p: Planned) -> list[Planned]:
    p.late_by = round(ctx.rng.uniform(*ctx.late_seconds), 3)
    return [p]


@fault("marker", "transport.type", "the broker's type marker is missing, lower-case or in the wrong place "
       "(brokers only: over REST the path is the marker)", stateless=True, channels=BROKERS,
       eligible=lambda p: p.located_by_seq)  # the stored copy is found by meta.seq, not by its marker
def marker(ctx: Context, p: Planned) -> list[Planned]:
    p.marker_fault = ctx.rng.choice(("missing", "lowercase", "header"))
    return [p]


# -- faults that add messages -----------------------------------------------------------------------

@fault("retry", "activity.retry", "the same message sent again (a sender that did not see the 200)",
       stateless=False, eligible=_retriable)
def retry(ctx: Context, p: Planned) -> list[Planned]:
    return _after(p, replace(p, retry=True))  # the same payload object: the same bytes go out


@fault("duplicate", "activity.duplicate", "another event reusing an activity_id already taken",
       stateless=False, eligible=lambda p: p.casino and _approved(p) and p.payload["type"] == "Bet")
def duplicate(ctx: Context, p: Planned) -> list[Planned]:
    extra = ctx.rng.choice((Decimal("1.00"), Decimal("2.50"), Decimal("10.00")))
    other = _copy(p, amount=p.payload["amount"] + extra, wager_amount=p.payload["wager_amount"] + extra)
    return _after(p, other)


@fault("win_without_bet", "round.win_without_bet", "a Win in a round that had no Bet", stateless=False,
       eligible=lambda p: p.casino and _approved(p))
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
       eligible=lambda p: p.casino and _approved(p) and p.payload["type"] == "Win"
       and p.payload["is_round_end"] is True)
def after_end(ctx: Context, p: Planned) -> list[Planned]:
    win = ctx.rng.choice((Decimal("1.00"), Decimal("3.00")))
    before = p.payload["balance_after"]
    other = _copy(p, activity_id=ctx.ids.activity(), amount=win, wager_amount=win,
                  bonus_wager_amount=Decimal("0.00"), locked_wager_amount=Decimal("0.00"),
                  balance_before=before, balance_after=before + win)
    return _after(p, other)


# -- faults of the other types (they need a [journey]) ------------------------------------------------

def _sibling(p: Planned, **changes) -> Planned:
    """Another message of p's type and user, built from p: its own payload (and meta, so its own seq)."""
    payload = {**p.payload, **changes}
    if isinstance(payload.get("meta"), dict):
        payload["meta"] = dict(payload["meta"])
    return Planned(0, payload, p.user_id, marker=p.marker)


EXTRA = (Decimal("1.00"), Decimal("5.00"), Decimal("20.00"))
OUTCOMES = ("Approved", "Rejected", "Cancelled")


@fault("payment_changed", "payment.changed", "a payment's outcome carries another amount than its Requested",
       stateless=False, marker="PAYMENT", in_place=True,
       eligible=lambda p: p.marker == "PAYMENT" and p.payload["status"] in OUTCOMES)
def payment_changed(ctx: Context, p: Planned) -> list[Planned]:
    p.payload["amount"] += ctx.rng.choice(EXTRA)
    return [p]


@fault("payment_approved_twice", "activity.duplicate", "a payment Approved again with another amount",
       stateless=False, marker="PAYMENT",
       eligible=lambda p: p.marker == "PAYMENT" and p.payload["status"] == "Approved")
def payment_approved_twice(ctx: Context, p: Planned) -> list[Planned]:
    return _after(p, _sibling(p, amount=p.payload["amount"] + ctx.rng.choice(EXTRA)))


# A status the payment cannot take after the one it has: Approved only goes on to Rollback, Rejected and
# Cancelled are final.
IMPOSSIBLE = {"Approved": "Cancelled", "Rejected": "Approved", "Cancelled": "Approved"}


@fault("payment_transition", "payment.transition", "a payment moved to a status it cannot reach from its last",
       stateless=False, marker="PAYMENT",
       eligible=lambda p: p.marker == "PAYMENT" and p.payload["status"] in IMPOSSIBLE)
def payment_transition(ctx: Context, p: Planned) -> list[Planned]:
    return _after(p, _sibling(p, status=IMPOSSIBLE[p.payload["status"]]))


@fault("login_before_registration", "login.before_registration",
       "a LOGIN_V2 of a user the platform never registered", stateless=False, marker="LOGIN_V2",
       eligible=lambda p: p.marker != "GAME", after=50)  # the rule waits for a registration judged first
def login_before_registration(ctx: Context, p: Planned) -> list[Planned]:
    uid = ctx.ids.make("ghost")
    # The warning needs a registration judged before the ghost. The senders keep order per key only, so on
    # a lane of its own the ghost could overtake every registration still queued on the others; on p's
    # lane it follows p, and with it p's player's registration.
    ghost = Planned(0, {"user_id": uid, "timestamp": None, "origin": p.payload.get("origin") or "www.brand.com",
                        "meta": {"run": ctx.namespace, "seq": 0}}, uid, marker="LOGIN_V2", farewell=True,
                    lane=p.key)
    return [p, ghost]  # the ghost never comes back; p keeps its own farewell


@fault("registered_twice", "user.registered_twice", "a second USER_CREATE_V2 of a user, with other details",
       stateless=False, marker="USER_CREATE_V2", eligible=lambda p: p.marker == "USER_CREATE_V2")
def registered_twice(ctx: Context, p: Planned) -> list[Planned]:
    return _after(p, _sibling(p, user_agent="ftsim-scenario/second-signup", note="signed up again"))


@fault("bonus_transition", "bonus.transition", "a completed bonus sent as Ongoing again (a step back)",
       stateless=False, marker="BONUS",
       eligible=lambda p: p.marker == "BONUS" and p.payload["status"] == "Completed")
def bonus_transition(ctx: Context, p: Planned) -> list[Planned]:
    other = _sibling(p, status="Ongoing")
    other.payload.pop("bonus_turned_real", None)
    return _after(p, other)


@fault("balance_key_twice", "balances.duplicate_key", "a balance key sent twice in one update, another amount",
       stateless=True, marker="USER_BALANCES_UPDATE", eligible=lambda p: p.marker == "USER_BALANCES_UPDATE")
def balance_key_twice(ctx: Context, p: Planned) -> list[Planned]:
    first = p.payload["balances"][0]
    p.payload["balances"] = [*p.payload["balances"], {**first, "amount": first["amount"] + ctx.rng.choice(EXTRA)}]
    return [p]


@fault("sportsbook_settle_unknown", "sportsbook.settle_unknown", "a sportsbook Settlement (a lost one) for a bet "
       "never placed", stateless=False, marker="SPORTSBOOK", eligible=lambda p: p.marker == "SPORTSBOOK")
def sportsbook_settle_unknown(ctx: Context, p: Planned) -> list[Planned]:
    nothing = Decimal("0.00")
    return _after(p, _sibling(p, activity_id=ctx.ids.make("sb"), activity_id_reference=ctx.ids.make("nobet"),
                              type="Settlement", settlement_type="Lost", amount=nothing, wager_amount=nothing,
                              bonus_wager_amount=nothing, locked_wager_amount=nothing,
                              balance_before=p.payload["balance_after"]))


@fault("sportsbook_odds", "sportsbook.odds", "a sportsbook Bet priced at odds of 1 or less (its Settlement then "
       "settles a bet never placed)", stateless=True, marker="SPORTSBOOK",
       eligible=lambda p: p.marker == "SPORTSBOOK" and p.payload.get("type") == "Bet")
def sportsbook_odds(ctx: Context, p: Planned) -> list[Planned]:
    p.payload["odds"] = ctx.rng.choice((Decimal("1.00"), Decimal("0.95")))
    return [p]


REGISTERING = ("USER_CREATE_V2", "USER_MIGRATION")


@fault("poker_cash_out_without_buy_in", "poker.cash_out_without_buy_in",
       "a poker cash-out right after the player signed up, before any buy-in", stateless=False,
       marker="POKER_CASH_GAME_CASH_OUT_V2", eligible=lambda p: p.marker in REGISTERING, channels=BROKERS)
def poker_cash_out_without_buy_in(ctx: Context, p: Planned) -> list[Planned]:
    game = ctx.rng.choice(("POKER_CASH_GAME_CASH_OUT_V2", "POKER_TOURNAMENT_CASH_OUT_V2"))
    cash_out = {"user_id": p.user_id, "timestamp": None, "currency": "EUR", "exchange_rate": Decimal("1"), "status": "Approved"}
    return _after(p, Planned(0, cash_out, p.user_id, marker=game))


@fault("approve_unknown", "migration.approve_unknown", "a USER_MIGRATION_APPROVE of a player who registered "
       "(never migrated)", stateless=False, marker="USER_MIGRATION_APPROVE", channels=BROKERS,
       eligible=lambda p: p.marker == "USER_CREATE_V2")
def approve_unknown(ctx: Context, p: Planned) -> list[Planned]:
    approval = {k: p.payload[k] for k in ("user_id", "timestamp", "origin")}
    return _after(p, Planned(0, approval, p.user_id, marker="USER_MIGRATION_APPROVE"))


def _cart(p: Planned) -> bool:
    return p.marker == "CART"


@fault("cart_payments_sum", "cart.payments_sum", "a cart whose payments do not add up to what it cost",
       stateless=True, marker="CART", eligible=_cart, channels=BROKERS)
def cart_payments_sum(ctx: Context, p: Planned) -> list[Planned]:
    first = p.payload["payments"][0]
    p.payload["payments"] = [{**first, "amount": first["amount"] + ctx.rng.choice(EXTRA)}, *p.payload["payments"][1:]]
    return [p]


def _after(p: Planned, other: Planned) -> list[Planned]:
    """p, then the added message; the player's farewell moves to whichever is last."""
    other.farewell, p.farewell = p.farewell, False
    return [p, other]


def inject(ctx: Context, rates: dict[str, float], p: Planned) -> list[Planned]:
    """At most one fault per clean message: one draw against the scenario's rates, in their order."""
    ctx.clean += 1
    if not rates:
        return [p]
    draw = ctx.rng.random()
    edge = 0.0
    for name, rate in rates.items():
        edge += rate
        if draw < edge:
            kind = KNOWN[name]
            if not kind.eligible(p) or ctx.clean <= kind.after or (
                    kind.marker and ctx.carried is not None and kind.marker not in ctx.carried):
                return [p]  # a type fault the channel cannot carry (REST and a brokers-only type) stays out
            out = kind.inject(ctx, p)
            for q in out:
                if q is not p or kind.stateless or kind.in_place:
                    q.fault = name
            return out
    return [p]
