"""Scenario traffic: one status change of a player's bonus.

Without `bonus` a new one is given (Created, with fresh ids); with `bonus` (an earlier payload of it) the
same user_bonus_id moves on: Ongoing as it is wagered, then Completed (bonus_turned_real: what became real
money) or Forfeited. The journey keeps the wallet and picks the order, which follows the bonus book.
"""
from __future__ import annotations

from decimal import Decimal

KINDS = ("DepositMatch", "FreeMoney", "Cashback")


def generate(ctx, *, status: str = "Created", amount=None, bonus: dict | None = None, turned_real=None,
             **want) -> list[dict]:
    if bonus is None:
        amount = Decimal("10.00") if amount is None else amount  # a test's sample names none
        n = ctx.rng.randint(1, 40)
        bonus = {"user_id": ctx.user_id, "origin": ctx.origin, "user_bonus_id": ctx.new_id("bonus"),
                 "bonus_id": f"offer-{n:03d}", "type": ctx.rng.choice(KINDS), "product": "Casino",
                 "amount": amount, "currency": ctx.currency, "exchange_rate": ctx.exchange_rate,
                 "required_wagering_amount": amount * 10}
    out = {k: bonus[k] for k in ("user_id", "origin", "user_bonus_id", "bonus_id", "type", "product", "amount",
                                 "currency", "exchange_rate", "required_wagering_amount")}
    out.update(status=status, timestamp=None, meta=ctx.meta())
    if turned_real is not None:
        out["bonus_turned_real"] = turned_real
    return [out]
