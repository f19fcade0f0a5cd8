"""USER_BALANCES_UPDATE: a player's balances after a change, one item per balance key."""
from __future__ import annotations

from simulator.contract.plugin import EventType, RuleInfo
from simulator.contract.registry import load_schema
from simulator.types.user_balances_update import book
from simulator.types.user_balances_update.rules import duplicate_key

RULES = (
    RuleInfo("balances.duplicate_key", "error",
             "The same balance key (real_money, bonus_money) twice in one event: which amount is the balance?"),
    RuleInfo("balances.currency", "warning",
             "A balance in a currency other than the user's account currency (the first seen in their "
             "payments, bonuses or balances, or the first balance of the event)."),
    RuleInfo("balances.stale", "info",
             "A balance older (by timestamp) than the one stored for the same key: the stored one stays."),
)

TYPE = EventType(
    name="user_balances_update", marker="USER_BALANCES_UPDATE", document=load_schema("user_balances_update"),
    method="POST", path="/v1/integration/user/balances", rules=(duplicate_key,), book=book.BOOK,
    rule_info=RULES, views={"player": book.player_view},
    summary="A player's real-money and bonus-money balances; the latest per key is kept.")
