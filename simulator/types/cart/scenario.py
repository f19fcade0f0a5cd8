"""Scenario traffic: a checkout of a cart of lottery and scratch tickets, paid from the player's balance.

The journey checks the player can pay (real money) and takes amount - discount_amount off the wallet; the
payments add up to that. cart_id and the items' ids are integers (the schema says so): numbers drawn from
the run's namespace keep runs apart.
"""
from __future__ import annotations

from decimal import Decimal

ITEMS = (("Eurojackpot ticket", "lottery", "2.00"), ("Lucky 7 scratch card", "scratch", "1.00"),
         ("Gold Rush scratch card", "scratch", "5.00"), ("Lotto 6aus49 ticket", "lottery", "1.20"))


def generate(ctx, **want) -> list[dict]:
    chosen = [ctx.rng.choice(ITEMS) for _ in range(ctx.rng.randint(1, 3))]
    items = [{"id": ctx.new_number("item"), "name": name, "type": kind, "description": f"{name} via the web shop",
              "bonus_code": "", "amount": (Decimal(price) / ctx.exchange_rate).quantize(Decimal("0.01")),
              "discount_amount": Decimal("0.00")} for name, kind, price in chosen]
    amount = sum((i["amount"] for i in items), Decimal("0.00"))
    return [{"user_id": ctx.user_id, "timestamp": None, "origin": ctx.origin, "cart_id": ctx.new_number("cart"),
             "type": "Checkout", "status": "Successful", "amount": amount, "discount_amount": Decimal("0.00"),
             "currency": ctx.currency, "exchange_rate": ctx.exchange_rate, "device_type": "desktop",
             "payments": [{"amount": amount, "type": "Balance"}], "items": items, "meta": ctx.meta()}]
