"""Casino rounds as the CRM builds them, and the rules that need what came before.

`judge` looks at stored activities and rounds and says what is wrong and what the event would do;
`apply` does it. Intake calls `apply` only for events with no error-severity violation, so a rejected
event never moves a round, and a retry is counted once.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal


from simulator.core.money import ZERO, to_money
from simulator.contract.parse import digest
from simulator.contract.plugin import Facts, ReadinessItem
from simulator.types.casino import tables
from simulator.types.casino.tables import Activity, Round
from simulator.core.violations import Violation


@dataclass(slots=True)
class Event:
    """The fields of a schema-valid casino event that rounds are built from."""
    activity_id: str
    user_id: str
    round_id: str | None
    kind: str
    rollback: bool
    amount: Decimal
    currency: str
    game_id: str
    round_end: bool
    at: datetime
    digest: str

    @classmethod
    def of(cls, payload: dict, at: datetime | None, written: bytes | None = None) -> "Event | None":
        """None when a field rounds need is absent or malformed (possible when its rule is switched off).
        written: the payload's canonical bytes, when parsing wrote them."""
        get = payload.get
        activity_id, user_id, currency, kind = get("activity_id"), get("user_id"), get("currency"), get("type")
        round_id = get("round_id")  # absent: joins no round (judged so); null or not text: no event
        game_id = _game_id(get("game_id"))
        if (at is None or kind not in ("Bet", "Win") or game_id is None or not isinstance(activity_id, str)
                or not isinstance(user_id, str) or not isinstance(currency, str)
                or not (isinstance(round_id, str) or "round_id" not in payload)):
            return None
        amount = to_money(get("amount"))
        if amount is None:  # lenient profile: amount is optional, so take the parts
            amount = sum((to_money(get(k)) or ZERO for k in
                          ("wager_amount", "bonus_wager_amount", "locked_wager_amount")), ZERO)
        return cls(activity_id, user_id, round_id, kind, get("status", "Approved") == "Rollback", amount, currency,
                   game_id, get("is_round_end") is True, at,
                   digest(payload, written))


def _game_id(value) -> str | None:
    """game_id as text: the lenient and ft profiles take a number, which joins the round of its string
    (10911, 10911.0 and "10911" are one game)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return str(int(value)) if float(value).is_integer() else repr(value)


@dataclass(slots=True)
class Plan:
    """What applying the event would do: record a new activity, or reverse a stored one."""
    event: Event
    reverses: Activity | None = None
    inert: bool = False  # a retry, a conflict or an unknown rollback: stored, changes nothing
    round: Round | None = None  # the event's round as judge read it


def judge(tx, ev: Event) -> tuple[list[Violation], Plan]:
    act = tables.activity(tx, ev.activity_id)
    if ev.rollback:
        return _judge_rollback(tx, ev, act)
    if act is not None:
        return _seen_before(ev, act.digest, f"{ev.activity_id!r} was received before with the same payload",
                            f"{ev.activity_id!r} was already used by a different event; expected a unique id "
                            f"per event (or the same payload for a retry)")
    if ev.round_id is None:
        return [Violation("round.missing_id", "/round_id",
                          "round_id: absent, so this event joins no round")], Plan(ev)
    found = []
    rnd = tables.round_of(tx, ev.user_id, ev.round_id)
    if rnd is not None:
        if rnd.status == "closed":
            found.append(Violation("round.after_end", "/round_id",
                                   f"round_id: round {ev.round_id!r} already ended with is_round_end=true at "
                                   f"{rnd.ended_at:%Y-%m-%dT%H:%M:%S.%fZ}; expected no further Bet or Win"))
        found += _round_mismatches(rnd, ev)
    if ev.kind == "Win" and (rnd is None or rnd.bets == 0):
        found.append(Violation("round.win_without_bet", "/type",
                               f"type: Win in round {ev.round_id!r} with no approved Bet before it"))
    return found, Plan(ev, round=rnd)


def _seen_before(ev: Event, stored_digest: str, same: str, different: str):
    """A retry when the payload is the one stored under this id; a conflicting duplicate otherwise."""
    if stored_digest == ev.digest:
        found = Violation("activity.retry", "/activity_id", f"activity_id: {same}; a retry, counted once")
    else:
        found = Violation("activity.duplicate", "/activity_id", f"activity_id: {different}")
    return [found], Plan(ev, inert=True)


def _round_mismatches(rnd: Round, ev: Event):
    if rnd.currency and ev.currency != rnd.currency:
        yield Violation("round.currency_mismatch", "/currency",
                        f"currency: expected {rnd.currency} like the rest of round {ev.round_id!r}, got {ev.currency}")
    if rnd.game_id and ev.game_id != rnd.game_id:
        yield Violation("round.game_mismatch", "/game_id",
                        f"game_id: expected {rnd.game_id!r} like the rest of round {ev.round_id!r}, got {ev.game_id!r}")


def _judge_rollback(tx, ev: Event, act: Activity | None):
    if act is not None and act.rollback_digest is not None:
        return _seen_before(ev, act.rollback_digest, f"the Rollback of {ev.activity_id!r} was received before",
                            f"{ev.activity_id!r} was already rolled back by a different Rollback")
    if act is None or act.user_id != ev.user_id or act.round_id != ev.round_id:
        where = f"round {ev.round_id!r} of user {ev.user_id!r}"
        return [Violation("round.rollback_unknown", "/activity_id",
                          f"activity_id: Rollback of {ev.activity_id!r}, but no approved event with that "
                          f"id exists in {where}; reverses nothing")], Plan(ev, inert=True)
    found = []
    if act.amount != ev.amount or act.kind != ev.kind:
        found.append(Violation("round.rollback_mismatch", "/amount",
                               f"amount: the Rollback says {ev.kind} {ev.amount}, the event it reverses was "
                               f"{act.kind} {act.amount}; {act.amount} is reversed"))
    rnd = tables.round_of(tx, ev.user_id, ev.round_id) if ev.round_id else None
    if rnd is not None:
        found += _round_mismatches(rnd, ev)
    return found, Plan(ev, reverses=act, round=rnd)


def apply(tx, plan: Plan) -> None:
    if plan.inert:
        return
    ev = plan.event
    if plan.reverses is not None:
        act = plan.reverses
        tables.save_activity(tx, replace(act, rollback_digest=ev.digest))
        rnd = plan.round
        if rnd is not None:
            if act.kind == "Bet":
                rnd.bet_total -= act.amount
            else:
                rnd.win_total -= act.amount
            rnd.rollback_total += act.amount
            rnd.events += 1
            rnd.last_event_at = max(rnd.last_event_at, ev.at)
            tables.save_round(tx, rnd)
        return
    tables.save_activity(tx, Activity(ev.activity_id, ev.user_id, ev.round_id, ev.kind, ev.amount, ev.digest))
    if ev.round_id is None:
        return
    rnd = plan.round or Round(
        ev.user_id, ev.round_id, ev.game_id, ev.currency, "open", ZERO, ZERO, ZERO, 0, 0, ev.at, None, ev.at)
    if ev.kind == "Bet":
        rnd.bet_total += ev.amount
        rnd.bets += 1
    else:
        rnd.win_total += ev.amount
    rnd.events += 1
    rnd.started_at = min(rnd.started_at, ev.at)
    rnd.last_event_at = max(rnd.last_event_at, ev.at)
    if ev.round_end:
        rnd.status = "closed"
        rnd.ended_at = ev.at
    tables.save_round(tx, rnd)


class CasinoBook:
    """The casino ledger as intake sees every type's book."""

    def judge(self, tx, facts: Facts):
        event = Event.of(facts.payload, facts.timestamp, facts.canonical)
        if event is None:
            return [], None
        return judge(tx, event)

    def apply(self, tx, plan: Plan | None) -> None:
        if plan is not None:
            apply(tx, plan)

    def prefetch(self, tx, batch: list[Facts]) -> None:
        """The batch's activities and rounds read at once (what judge would look up event by event)."""
        ids, rounds = [], []
        for facts in batch:
            p = facts.payload
            activity_id, user_id, round_id = p.get("activity_id"), p.get("user_id"), p.get("round_id")
            if isinstance(activity_id, str):
                ids.append(activity_id)
            if isinstance(user_id, str) and isinstance(round_id, str):
                rounds.append((user_id, round_id))
        tables.prefetch(tx, dict.fromkeys(ids), dict.fromkeys(rounds))


BOOK = CasinoBook()
EXAMPLES = 3


def _gather_rounds(store) -> dict:
    counts = store.state_counts(tables.KIND)
    return {"open": counts.get("open", 0), "closed": counts.get("closed", 0),
            "open_examples": [{"user_id": r.user_id, "round_id": r.round_id, "events": r.events}
                              for r in tables.rounds(store, status="open", limit=EXAMPLES)]}


def _judge_rounds(rounds: dict) -> tuple[bool, str]:
    if rounds["open"]:
        return False, (f"{rounds['open']} of {rounds['open'] + rounds['closed']} rounds still open: "
                       + ", ".join(f"{r['user_id']}/{r['round_id']}" for r in rounds["open_examples"]))
    closed = rounds["closed"]
    return True, ("no rounds" if not closed else "the round closed" if closed == 1 else f"all {closed} rounds closed")


def _explain_rounds(rounds: dict) -> str:
    return "\n".join(f"user {r['user_id']} round {r['round_id']}: open after {r['events']} events"
                     for r in rounds["open_examples"])


ROUNDS_CLOSED = ReadinessItem("rounds.closed", "Every round closed", _gather_rounds, _judge_rounds, _explain_rounds)
