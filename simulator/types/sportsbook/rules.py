"""Sportsbook's stateless rules: the amount is the sum of its wallets, odds above 1, legs fit the slip."""
from __future__ import annotations

from simulator.contract.plugin import Facts
from simulator.core.money import to_money
from simulator.core.violations import Violation
from simulator.types._wagers import amount_sum as _amount_sum, each_index

PARTS = ("wager_amount", "bonus_wager_amount", "locked_wager_amount")

amount_sum = _amount_sum("sportsbook.amount_sum", "amount", PARTS)


def odds(f: Facts):
    """Decimal odds of 1 or less pay back no more than the stake: no bet is priced so."""
    places = [("/odds", f.payload.get("odds"))]
    places += [(f"{where}/odds", bet.get("odds")) for where, bet in each_index(f.payload.get("bets"), "bets")]
    for where, value in places:
        v = to_money(value)
        if v is not None and v <= 1:
            yield Violation("sportsbook.odds", where, f"odds: expected decimal odds > 1, got {value}")


def legs(f: Facts):
    bets, kind = f.payload.get("bets"), f.payload.get("bet_type")
    if not isinstance(bets, list):
        return
    if kind == "Single" and len(bets) != 1:
        yield Violation("sportsbook.legs", "/bets",
                        f"bets: expected exactly 1 selection for bet_type Single, got {len(bets)}")
    elif kind in ("Multi", "System", "Teaser") and len(bets) < 2:
        yield Violation("sportsbook.legs", "/bets",
                        f"bets: expected at least 2 selections for bet_type {kind}, got {len(bets)}")
