"""The four poker types (cash game and tournament, buy-in and cash-out): one family, one per-user document.

FT's schemas give them no id and no amount (only currency, exchange_rate, status, timestamp, user_id), so
ftsim counts events per user, game and currency: state kind "poker" keyed by user_id, shared by the four
types, so a cash-out can see the buy-ins before it.
"""
from __future__ import annotations

from simulator.contract.plugin import EventType, Facts, RuleInfo
from simulator.contract.registry import load_schema
from simulator.core.violations import Violation
from simulator.types._wagers import payload_identity

KIND = "poker"

RULES = (
    RuleInfo("poker.rollback_unmatched", "warning",
             "A Rollback when the user has no approved event of that type and currency left to reverse."),
    RuleInfo("poker.cash_out_without_buy_in", "warning",
             "An approved cash-out (cash game or tournament) from a user with no approved buy-in of that game before it."),
)

GAMES = {"cash_game": "cash game", "tournament": "tournament"}


def _net(doc: dict, game: str, step: str, currency: str | None = None) -> int:
    counts = doc.get(game, {}).get(step, {})
    return sum(c["approved"] - c["rolled_back"] for cur, c in counts.items() if currency in (None, cur))


class PokerBook:
    def __init__(self, game: str, step: str, marker: str):
        self.game, self.step, self.marker = game, step, marker

    def judge(self, tx, facts: Facts):
        p = facts.payload
        user_id, currency = p.get("user_id"), p.get("currency")
        if not isinstance(user_id, str) or not isinstance(currency, str):
            return [], None  # the cash-game pair's FT profile takes any currency: such an event counts nowhere
        doc = tx.get(KIND, user_id) or {}
        rollback = p.get("status") == "Rollback"
        found = []
        if rollback and _net(doc, self.game, self.step, currency) <= 0:
            found.append(Violation("poker.rollback_unmatched", "/status",
                                   f"status: Rollback of a {GAMES[self.game]} {self.step.replace('_', '-')} in "
                                   f"{currency}, but user {user_id!r} has no approved one left to reverse"))
            return found, None
        if not rollback and self.step == "cash_out" and _net(doc, self.game, "buy_in") <= 0:
            found.append(Violation("poker.cash_out_without_buy_in", "/user_id",
                                   f"user_id: {self.marker} from {user_id!r}, who has no approved "
                                   f"{GAMES[self.game]} buy-in before it"))
        return found, (user_id, currency, "rolled_back" if rollback else "approved")

    def apply(self, tx, plan) -> None:
        if plan is None:
            return
        user_id, currency, what = plan
        doc = tx.get(KIND, user_id) or {}
        counts = doc.setdefault(self.game, {}).setdefault(self.step, {}).setdefault(
            currency, {"approved": 0, "rolled_back": 0})
        counts[what] += 1
        tx.put(KIND, user_id, doc, user_id=user_id)

    def view(self, store, user_id: str) -> dict | None:
        docs = store.entities(KIND, user_id=user_id, limit=1)
        counts = docs[0].get(self.game, {}).get(self.step) if docs else None
        if not counts:
            return None
        return {f"poker_{self.game}_{self.step}s": {
            cur: {**c, "net": c["approved"] - c["rolled_back"]} for cur, c in sorted(counts.items())}}


def poker_type(name: str, marker: str, game: str, step: str) -> EventType:
    book = PokerBook(game, step, marker)
    return EventType(
        name=name, marker=marker, document=load_schema(name), book=book, identity=payload_identity,
        rule_info=RULES, views={"player": book.view},
        summary=f"Poker {GAMES[game]} {step.replace('_', '-')} (brokers only): counted per user and currency.")
