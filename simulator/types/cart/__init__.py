"""CART: a lottery/scratch checkout (brokers only: FT's docs name no REST path)."""
from __future__ import annotations

from simulator.contract.plugin import EventType, RuleInfo
from simulator.contract.registry import load_schema
from simulator.core.money import to_money
from simulator.types._wagers import TallyBook, id_text
from simulator.types.cart.rules import payments_sum

RULES = (
    RuleInfo("cart.payments_sum", "warning",
             "The payments' amounts add up to neither amount nor amount - discount_amount (beyond the tolerance)."),
)


def identity(payload: dict) -> str | None:
    cart_id = payload.get("cart_id")
    if isinstance(cart_id, float) and cart_id.is_integer():
        cart_id = int(cart_id)
    return id_text(cart_id) if not isinstance(cart_id, float) else repr(cart_id)


def _count(payload: dict):
    adds = [(("checkouts",), 1)]
    amount, currency = to_money(payload.get("amount")), payload.get("currency")
    if amount is not None and isinstance(currency, str):
        adds.append((("amount", currency), amount))
    return adds


BOOK = TallyBook("cart_player", _count)


def player_view(store, user_id: str) -> dict | None:
    found = BOOK.view(store, user_id)
    return None if found is None else {"carts": found}


TYPE = EventType(
    name="cart", marker="CART", document=load_schema("cart"), ref="cart_id", keys=("cart_id",),
    rules=(payments_sum,), book=BOOK, identity=identity, rule_info=RULES, views={"player": player_view},
    summary="Cart checkouts (lottery and scratch): brokers only, counted per user and currency.")
