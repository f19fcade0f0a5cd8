"""Casino's stateless rules: the amount is the sum of the wallets it was played from."""
from __future__ import annotations

from simulator.contract.plugin import Facts
from simulator.core.money import ZERO, as_sent, to_money
from simulator.core.violations import Violation

PARTS = ("wager_amount", "bonus_wager_amount", "locked_wager_amount")


def amount_sum(f: Facts):
    """A list, or () for the usual message (see contract/rules.check)."""
    p = f.payload
    total = to_money(p.get("amount"))
    if total is None:
        return ()
    sent, parts = [], ZERO
    for name in PARTS:
        if name in p:
            v = to_money(p[name])
            if v is None:
                return ()
            sent.append((name, v))
            parts += v
    if not sent or abs(total - parts) <= f.amount_tolerance:
        return ()
    shown = " + ".join(f"{n} {as_sent(v)}" for n, v in sent)
    return [Violation("amount.sum", "/amount",
                      f"amount: expected {as_sent(parts)} ({shown}), got {as_sent(total)}: differs by "
                      f"{as_sent(abs(total - parts))}, more than the tolerance {f.amount_tolerance}")]
