"""Casino's stateless rules: the amount is the sum of the wallets it was played from."""
from __future__ import annotations

from decimal import Decimal

from simulator.contract.plugin import Facts
from simulator.core.money import to_money
from simulator.core.violations import Violation

PARTS = ("wager_amount", "bonus_wager_amount", "locked_wager_amount")


def amount_sum(f: Facts):
    sent = [(name, to_money(f.payload[name])) for name in PARTS if name in f.payload]
    total = to_money(f.payload.get("amount"))
    if not sent or total is None or any(v is None for _, v in sent):
        return
    parts = sum((v for _, v in sent), Decimal(0))
    if abs(total - parts) > f.amount_tolerance:
        shown = " + ".join(f"{n} {v}" for n, v in sent)
        yield Violation("amount.sum", "/amount",
                        f"amount: expected {parts} ({shown}), got {total}: differs by {abs(total - parts)}, "
                        f"more than the tolerance {f.amount_tolerance}")
