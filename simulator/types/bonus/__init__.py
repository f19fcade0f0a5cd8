"""BONUS: one message per status change of a player's bonus (user_bonus_id)."""
from __future__ import annotations

from simulator.contract.plugin import EventType, RuleInfo
from simulator.contract.registry import load_schema
from simulator.types import _money
from simulator.types.bonus import book

RULES = (
    RuleInfo("bonus.transition", "warning",
             "A status a player's bonus cannot reach from its last one (a step back from Ongoing, anything "
             "after a final status but Reversed after Completed/AutoCompleted); the bonus takes it anyway."),
    RuleInfo("bonus.changed", "error", "A user_bonus_id seen before with another bonus_id, currency or user_id."),
    RuleInfo("bonus.currency", "warning",
             "A new player's bonus in a currency other than the user's account currency (the first seen in "
             "their payments, bonuses or balances)."),
)


def identity(payload: dict) -> str | None:
    """One player's bonus at one status at one time: an Ongoing bonus is sent again as it is wagered, so
    the status alone does not make a retry; the same timestamp and payload again does."""
    key = _money.id_text(payload.get("user_bonus_id"))
    status, at = payload.get("status"), payload.get("timestamp")
    return f"{key}/{status}/{at}" if key is not None and isinstance(status, str) and isinstance(at, str) else None


TYPE = EventType(
    name="bonus", marker="BONUS", document=load_schema("bonus"), method="POST", path="/v1/integration/bonus",
    ref="user_bonus_id", keys=("user_bonus_id", "bonus_id", "status"), book=book.BOOK, rule_info=RULES,
    views={"player": book.player_view}, identity=identity,
    summary="A player's bonus by user_bonus_id, from Pending/Created/Claimed through Ongoing to a final status.")
