"""SPORTSBOOK: bets placed and settled, joined into bets by their ids (state kind "sportsbook_bet")."""
from __future__ import annotations

from simulator.contract.plugin import EventType, RuleInfo
from simulator.contract.registry import load_schema
from simulator.types._wagers import id_text
from simulator.types.sportsbook import book
from simulator.types.sportsbook.rules import amount_sum, legs, odds

RULES = (
    RuleInfo("sportsbook.amount_sum", "error",
             "amount differs from wager_amount + bonus_wager_amount + locked_wager_amount (those sent) by more "
             "than the tolerance."),
    RuleInfo("sportsbook.odds", "error", "Decimal odds (the slip's or a selection's) of 1 or less."),
    RuleInfo("sportsbook.legs", "warning",
             "bet_type Single with other than one selection, or Multi/System/Teaser with fewer than two."),
    RuleInfo("sportsbook.missing_id", "info",
             "No activity_id (nor activity_id_reference): the event joins no bet and retries cannot be told apart."),
    RuleInfo("sportsbook.settle_unknown", "warning",
             "A Settlement for a bet never placed (no approved Bet with that id) or rolled back: settles nothing."),
    RuleInfo("sportsbook.rollback_unknown", "warning", "A Rollback for a bet never placed: reverses nothing."),
    RuleInfo("sportsbook.settled_twice", "warning", "A second Settlement for a bet already settled."),
    RuleInfo("sportsbook.user_mismatch", "error", "A Settlement or Rollback from another user than the bet's."),
    RuleInfo("sportsbook.currency_mismatch", "error", "A Settlement or Rollback in another currency than the bet's."),
)


def identity(payload: dict) -> str | None:
    """activity_id with the event's type and status: a Settlement or Rollback may repeat its Bet's id."""
    ref = id_text(payload.get("activity_id"))
    if ref is None:
        return None
    return f"{ref}|{payload.get('type', 'Bet')}|{payload.get('status')}"


TYPE = EventType(
    name="sportsbook", marker="SPORTSBOOK", document=load_schema("sportsbook"), method="POST",
    path="/v1/integration/sports", ref="activity_id", keys=("activity_id", "activity_id_reference"),
    rules=(amount_sum, odds, legs), book=book.BOOK, identity=identity, rule_info=RULES,
    views={"player": book.player_view},
    summary="Sportsbook Bet and Settlement (and their Rollbacks): bets are opened, settled and reversed by id.")
