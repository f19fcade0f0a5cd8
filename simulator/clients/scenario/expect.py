"""The oracle: the verdict ftsim should give each planned message, and the rounds it should build.

It is written from the contract (README's rule table), not from ftsim's code: a small model of the CRM's
ledger (activities by id, rounds by user and round) walked in send order, and of the other types
(expect_types.py: registrations, payments, bonuses, balances). A message's own faults give
its stateless rules; the model gives what needs history (retries, duplicates, wins without bets, events
after the end, rollbacks of nothing). A message is valid when none of its rules has severity error, and
only valid messages move the model, as in the CRM. Severities and the latency budget are the target's
own (read from its /api/rules and /api/summary), so a run against an ftsim with --severity overrides
still compares like with like.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable

from simulator.contract.catalog import DEFAULT_SEVERITIES
from simulator.core.violations import Severities
from simulator.clients.scenario.expect_types import Accounts
from simulator.clients.scenario.faults import KNOWN as FAULTS
from simulator.clients.scenario.planned import Planned

ZERO = Decimal("0")


@dataclass(frozen=True)
class Expected:
    seq: int
    retry: bool
    valid: bool
    rules: frozenset  # rule ids with severity other than off
    fault: str | None
    label: str
    locator: object = None  # how compare.py finds the stored copy: meta.seq, or (user_id, marker)


@dataclass
class ExpectedRound:
    user_id: str
    round_id: str
    game_id: str
    currency: str
    status: str = "open"
    bet_total: Decimal = ZERO
    win_total: Decimal = ZERO
    rollback_total: Decimal = ZERO
    events: int = 0
    bets: int = 0

    def comparable(self) -> dict:
        return {"game_id": self.game_id, "currency": self.currency, "status": self.status,
                "bet_total": self.bet_total, "win_total": self.win_total,
                "rollback_total": self.rollback_total, "events": self.events}


@dataclass
class _Activity:
    user_id: str
    round_id: str
    kind: str
    amount: Decimal
    digest: int  # the seq of the payload it was built from: equal digests are equal payloads
    rollback_digest: int | None = None


@dataclass
class Oracle:
    channel: str
    severity: Callable[[str], str] = field(default_factory=lambda: Severities(DEFAULT_SEVERITIES).of)
    latency_budget: float = 1.0
    keep_departed: int = 1000  # players whose state is kept after their last message (retries may follow)
    activities: dict = field(default_factory=dict)
    rounds: dict = field(default_factory=dict)
    _departed: deque = field(default_factory=deque)
    _owned: dict = field(default_factory=dict)  # user_id -> (activity ids, round keys) to forget them fast
    accounts: Accounts = field(default_factory=Accounts)  # the other types' model (expect_types.py)

    def expect(self, p: Planned) -> Expected:
        rules = self._stateless(p)
        if rules is None:  # the marker was wrong: the payload is not even looked at
            rules, judged = ["transport.type"], False
        else:
            judged = True
        found = self._stamp(rules)
        valid = not any(level == "error" for level in found.values())
        if judged and valid:
            more, apply = self._ledger(p) if p.casino else self.accounts.judge(p)
            more = more + self.accounts.unknown_user(p)  # judges every event, whatever its own book found
            found.update(self._stamp(more))
            valid = not any(level == "error" for level in found.values())
            if valid:
                apply()
        if p.farewell:
            self._forget_later(p.user_id)
        kind = FAULTS.get(p.fault) if p.fault else None
        fault = p.fault if kind is not None and self.channel in kind.channels else None  # else it went out clean
        where = p.seq if p.located_by_seq else (p.user_id, p.marker)
        return Expected(p.seq, p.retry, valid, frozenset(found), fault, p.label, where)

    def _stamp(self, rules) -> dict[str, str]:
        return {r: level for r in rules if (level := self.severity(r)) != "off"}

    def _stateless(self, p: Planned) -> list[str] | None:
        kind = FAULTS.get(p.fault) if p.fault else None
        if kind is None or not kind.stateless or self.channel not in kind.channels:
            return []
        if kind.name == "marker":
            return None
        if kind.name == "late" and p.late_by <= self.latency_budget:
            return []
        return [kind.rule]

    # -- the ledger model ------------------------------------------------------------------------

    def _ledger(self, p: Planned):
        pl = p.payload
        aid, user, rid, kind = pl["activity_id"], pl["user_id"], pl["round_id"], pl["type"]
        amount = Decimal(pl["amount"])
        digest = p.seq
        act = self.activities.get(aid)
        rnd = self.rounds.get((user, rid))
        found: list[str] = []
        if p.rollback:
            if act is not None and act.rollback_digest is not None:
                return ["activity.retry" if act.rollback_digest == digest else "activity.duplicate"], _nothing
            if act is None or act.user_id != user or act.round_id != rid:
                return ["round.rollback_unknown"], _nothing
            if act.amount != amount or act.kind != kind:
                found.append("round.rollback_mismatch")
            found += _mismatches(rnd, pl)

            def reverse():
                act.rollback_digest = digest
                if rnd is not None:
                    if act.kind == "Bet":
                        rnd.bet_total -= act.amount
                    else:
                        rnd.win_total -= act.amount
                    rnd.rollback_total += act.amount
                    rnd.events += 1
            return found, reverse
        if act is not None:
            return ["activity.retry" if act.digest == digest else "activity.duplicate"], _nothing
        if rnd is not None:
            if rnd.status == "closed":
                found.append("round.after_end")
            found += _mismatches(rnd, pl)
        if kind == "Win" and (rnd is None or rnd.bets == 0):
            found.append("round.win_without_bet")

        def record():
            self.activities[aid] = _Activity(user, rid, kind, amount, digest)
            owned = self._owned.setdefault(user, ([], []))
            owned[0].append(aid)
            r = rnd
            if r is None:
                r = self.rounds[(user, rid)] = ExpectedRound(user, rid, pl["game_id"], pl["currency"])
                owned[1].append((user, rid))
            if kind == "Bet":
                r.bet_total += amount
                r.bets += 1
            else:
                r.win_total += amount
            r.events += 1
            if pl.get("is_round_end") is True:
                r.status = "closed"
        return found, record

    def _forget_later(self, user_id: str) -> None:
        """Keep a departed player's state a while (a retry may follow), then let it go: memory stays flat."""
        self._departed.append(user_id)
        while len(self._departed) > self.keep_departed:
            departed = self._departed.popleft()
            self.accounts.forget(departed)
            activities, rounds = self._owned.pop(departed, ((), ()))
            for aid in activities:
                self.activities.pop(aid, None)
            for key in rounds:
                self.rounds.pop(key, None)


def _nothing() -> None:
    return None


def _mismatches(rnd: ExpectedRound | None, pl: dict) -> list[str]:
    if rnd is None:
        return []
    out = []
    if rnd.currency != pl["currency"]:
        out.append("round.currency_mismatch")
    if rnd.game_id != pl["game_id"]:
        out.append("round.game_mismatch")
    return out


def expect_all(planned, channel: str, severity=None, latency_budget: float = 1.0):
    """Expected verdicts for a finite run, and the rounds it should leave, keyed by (user_id, round_id)."""
    oracle = Oracle(channel, severity or Severities(DEFAULT_SEVERITIES).of, latency_budget,
                    keep_departed=10**12)
    verdicts = [oracle.expect(p) for p in planned]
    return verdicts, oracle.rounds
