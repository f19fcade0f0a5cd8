"""CASINO: Bet and Win events, built into game rounds and sessions as the CRM does.

The type whose two spec versions disagree (seeds 000 and 001): `strict` follows 000 where they differ,
`lenient` accepts what 001 leaves out, `ft` is what FT's own validator takes.
"""
from __future__ import annotations

from simulator.contract.plugin import EventType, RuleInfo
from simulator.contract.registry import load_schema
from simulator.types.casino import ledger, tables, views
from simulator.types.casino.rules import amount_sum

RULES = (
    RuleInfo("amount.sum", "error",
             "amount differs from wager_amount + bonus_wager_amount + locked_wager_amount (those sent) by more "
             "than the tolerance (default 0.01)."),
    RuleInfo("round.missing_id", "info", "No round_id (allowed by the lenient profile): the event joins no round."),
    RuleInfo("round.win_without_bet", "warning", "A Win in a round with no approved Bet before it."),
    RuleInfo("round.after_end", "error",
             "An approved event for a round that already ended with is_round_end=true (Rollbacks may follow the end)."),
    RuleInfo("round.rollback_unknown", "error",
             "A Rollback whose activity_id matches no approved, not yet reversed event in its round: reverses nothing."),
    RuleInfo("round.rollback_mismatch", "warning",
             "A Rollback whose amount or type differs from the event it reverses (the original amount is reversed)."),
    RuleInfo("round.currency_mismatch", "error", "An event in a different currency from the round's first event."),
    RuleInfo("round.game_mismatch", "warning", "An event with a different game_id from the round's first event."),
)

TYPE = EventType(
    name="casino", marker="CASINO", document=load_schema("casino"), method="POST",
    path="/v1/integration/casino", ref="activity_id", keys=("activity_id", "round_id"),
    rules=(amount_sum,), book=ledger.BOOK, rule_info=RULES, readiness=(ledger.ROUNDS_CLOSED,), tables=tables.TABLES,
    views=views.VIEWS,
    summary="Casino Bet/Win (and their Rollbacks): rounds and sessions are built from them.")
