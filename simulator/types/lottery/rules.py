"""The older lottery shape's stateless rules: the amount is what paid for it, and what its tickets cost."""
from __future__ import annotations

from decimal import Decimal

from simulator.contract.plugin import Facts
from simulator.core.money import as_sent, to_money
from simulator.core.violations import Violation
from simulator.types._wagers import amount_sum as _amount_sum, each_index

amount_sum = _amount_sum("lottery.amount_sum", "amount", ("account_amount", "bonus_amount", "deposit_amount"))


def tickets_sum(f: Facts):
    total = to_money(f.payload.get("amount"))
    prices = [to_money(t.get("amount")) for _, t in each_index(f.payload.get("tickets"), "tickets")]
    if total is None or not prices or any(p is None for p in prices):
        return
    got = sum(prices, Decimal(0))
    if abs(total - got) > f.amount_tolerance:
        yield Violation("lottery.tickets_sum", "/amount",
                        f"amount: expected {as_sent(got)} (the sum of {len(prices)} tickets' amount), "
                        f"got {as_sent(total)}")
