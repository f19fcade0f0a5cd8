"""Scenario traffic: a lottery purchase in FT's older shape (tickets for draws), paid from the account.

The journey checks the player can pay (real money) and takes the price off the wallet itself; this builds
the purchase: amount = account_amount (+ bonus_amount + deposit_amount, both 0 here) = the tickets' sum.
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

PRODUCTS = (("eurojackpot", "Eurojackpot", "2.00"), ("lotto", "Lotto 6aus49", "1.20"),
            ("powerball", "Powerball", "2.00"))


def generate(ctx, *, tickets: int = 1, **want) -> list[dict]:
    product, name, price = ctx.rng.choice(PRODUCTS)
    day = ctx.clock().replace(hour=20, minute=0, second=0, microsecond=0)  # the day, so a seed gives one stream
    out = []
    for _ in range(tickets):
        lines = ctx.rng.randint(1, 5)
        draws = [{"timestamp": (day + timedelta(days=d)).isoformat().replace("+00:00", "Z")}
                 for d in sorted(ctx.rng.sample(range(1, 8), ctx.rng.randint(1, 2)))]
        amount = (Decimal(price) * lines * len(draws) / ctx.exchange_rate).quantize(Decimal("0.01"))
        out.append({"ticket_id": ctx.new_id("ticket"), "product": product, "product_name": name,
                    "lines_count": lines, "draws": draws, "amount": amount})
    total = sum((t["amount"] for t in out), Decimal("0.00"))
    return [{"user_id": ctx.user_id, "timestamp": None, "origin": ctx.origin, "transaction_id": ctx.new_id("lottery"),
             "status": "Approved", "amount": total, "account_amount": total, "bonus_amount": Decimal("0.00"),
             "deposit_amount": Decimal("0.00"), "bonus_code": "", "currency": ctx.currency,
             "exchange_rate": ctx.exchange_rate, "tickets": out}]
