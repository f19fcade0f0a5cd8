"""Cart's stateless rule: what the payments cover is what the cart cost."""
from __future__ import annotations

from decimal import Decimal

from simulator.contract.plugin import Facts
from simulator.core.money import to_money
from simulator.core.violations import Violation
from simulator.types._wagers import each_index


def payments_sum(f: Facts):
    """The facts do not say whether amount is before or after discount_amount: either total is taken."""
    amount, discount = to_money(f.payload.get("amount")), to_money(f.payload.get("discount_amount"))
    paid = [to_money(p.get("amount")) for _, p in each_index(f.payload.get("payments"), "payments")]
    if amount is None or discount is None or not paid or any(p is None for p in paid):
        return
    got = sum(paid, Decimal(0))
    if min(abs(got - amount), abs(got - (amount - discount))) > f.amount_tolerance:
        yield Violation("cart.payments_sum", "/payments",
                        f"payments: expected amounts adding up to amount {amount} (or {amount - discount} after "
                        f"discount_amount {discount}), got {got}")
