"""What ftsim judged against what the oracle expected: verdicts per message, rounds per (user, round).

Stored messages are matched to planned ones by payload.meta.seq (a retry shares its original's seq;
they are matched in the order ftsim stored them); a type without `meta` by user and marker, in order. A message late only because the channel was slow (no
`late` fault, but received after the budget) is not a difference: it is counted and shown apart, since
it says something true about the run, not about ftsim's judgement.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from simulator.clients.scenario.expect import Expected, ExpectedRound

LATE = "latency.budget"


@dataclass
class Report:
    messages: int = 0
    same: int = 0
    differ: list = field(default_factory=list)  # lines describing each difference
    rounds: int = 0
    rounds_same: int = 0
    rounds_differ: list = field(default_factory=list)
    transit_late: int = 0
    faults: Counter = field(default_factory=Counter)  # fault kind -> messages carrying it, judged as expected

    @property
    def ok(self) -> bool:
        return not self.differ and not self.rounds_differ

    def lines(self, limit: int = 50) -> list[str]:
        out = [f"verdicts: {self.same} of {self.messages} as expected, {len(self.differ)} differ"]
        out += ["  " + d for d in self.differ[:limit]]
        if len(self.differ) > limit:
            out.append(f"  ... and {len(self.differ) - limit} more")
        out.append(f"rounds: {self.rounds_same} of {self.rounds} as expected, {len(self.rounds_differ)} differ")
        out += ["  " + d for d in self.rounds_differ[:limit]]
        if len(self.rounds_differ) > limit:
            out.append(f"  ... and {len(self.rounds_differ) - limit} more")
        if self.faults:
            out.append("faults judged as expected: " + ", ".join(f"{k} {n}" for k, n in sorted(self.faults.items())))
        if self.transit_late:
            out.append(f"note: {self.transit_late} messages without a late fault arrived after the latency budget "
                       f"(the channel was behind); not counted as differences")
        return out


def _shown(valid, rules) -> str:
    return f"{'valid' if valid else 'invalid':<7}  {', '.join(sorted(rules)) or '-'}"


def locator(m: dict):
    """Where a stored message is filed: by payload.meta.seq, or for a type whose schema has no `meta`
    (registrations, updates, blocks, consents, balances) by user and type marker, in the order received
    (a sender keeps one user's messages in order on every channel); a type without a user (GAME) by its
    id (the planned message's user_id is that id) and marker."""
    payload = m.get("payload")
    meta = payload.get("meta") if isinstance(payload, dict) else None
    if isinstance(meta, dict):
        seq = meta.get("seq")
        return seq if isinstance(seq, int) else None
    if m.get("user_id"):
        return m.get("user_id"), m.get("marker")
    return (m.get("activity_id"), m.get("marker")) if m.get("activity_id") else None  # GAME: by its id


def compare_messages(expected: list[Expected], stored: list[dict], report: Report) -> None:
    by_seq: dict = defaultdict(list)
    strays = 0
    for m in stored:
        where = locator(m)
        if where is not None:
            by_seq[where].append(m)
        else:
            strays += 1
    taken: Counter = Counter()
    for e in expected:
        report.messages += 1
        where = e.locator
        got_list = by_seq.get(where, [])
        i = taken[where]
        taken[where] += 1
        if i >= len(got_list):
            report.differ.append(f"{e.label}{_fault(e)}: expected {_shown(e.valid, e.rules)}; ftsim has not stored it")
            continue
        m = got_list[i]
        got_rules = {v["rule"] for v in m["violations"]}
        if LATE in got_rules and LATE not in e.rules:
            got_rules.discard(LATE)
            report.transit_late += 1
        if m["valid"] == e.valid and got_rules == set(e.rules):
            report.same += 1
            if e.fault:
                report.faults[e.fault] += 1
            continue
        why = "; ".join(f"{v['rule']} {v['path'] or '/'}: {v['message']}" for v in m["violations"]
                        if v["rule"] in got_rules ^ set(e.rules))
        report.differ.append(f"{e.label}{_fault(e)}: expected {_shown(e.valid, e.rules)} | ftsim "
                             f"{_shown(m['valid'], got_rules)}" + (f"  ({why})" if why else ""))
    for where, got_list in by_seq.items():
        for m in got_list[taken.get(where, 0):]:
            what = f"#{where} activity {m['activity_id']}" if isinstance(where, int) else \
                f"{where[1]} of user {where[0]}"
            report.differ.append(f"{what}: stored by ftsim (message id {m['id']}) but not sent that many times")
    if strays:
        report.differ.append(f"{strays} stored messages of this run carry no meta.seq")


def _fault(e: Expected) -> str:
    return f" [fault {e.fault}]" if e.fault else ""


def compare_rounds(expected: dict[tuple, ExpectedRound], stored: list[dict], report: Report) -> None:
    got = {(r["user_id"], r["round_id"]): r for r in stored}
    for key, want in sorted(expected.items()):
        report.rounds += 1
        r = got.pop(key, None)
        if r is None:
            report.rounds_differ.append(f"round {key[1]} (user {key[0]}): expected {_round_text(want.comparable())}; "
                                        f"ftsim has no such round")
            continue
        have = {"game_id": r["game_id"], "currency": r["currency"], "status": r["status"],
                "bet_total": Decimal(r["bet_total"]), "win_total": Decimal(r["win_total"]),
                "rollback_total": Decimal(r["rollback_total"]), "events": r["events"]}
        wanted = want.comparable()
        if have == wanted:
            report.rounds_same += 1
            continue
        diffs = ", ".join(f"{k} expected {wanted[k]}, ftsim {have[k]}" for k in wanted if wanted[k] != have[k])
        report.rounds_differ.append(f"round {key[1]} (user {key[0]}): {diffs}")
    for key, r in sorted(got.items()):
        report.rounds_differ.append(f"round {key[1]} (user {key[0]}): built by ftsim ({r['status']}, bets "
                                    f"{r['bet_total']}, wins {r['win_total']}) but expected no round")


def _round_text(d: dict) -> str:
    return (f"{d['status']}, bets {d['bet_total']}, wins {d['win_total']}, rolled back {d['rollback_total']}, "
            f"{d['events']} events")
