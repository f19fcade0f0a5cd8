"""Scenario traffic: one deposit (Credit) or withdrawal (Debit), Requested then its outcome.

The journey decides the amount and the outcome (Approved, or a deposit Rejected or Cancelled) and moves
the wallet itself; this only builds the two status changes of one payment_id, with the count that goes
with its direction so payment.sense stays quiet.
"""
from __future__ import annotations

from decimal import Decimal

PROVIDERS = (("1001", "Skrill"), ("1002", "Trustly"), ("1003", "Visa"), ("1004", "Neteller"))
KINDS = {"deposit": ("Credit", "deposit_count"), "withdrawal": ("Debit", "withdraw_count")}


def generate(ctx, *, kind: str = "deposit", amount=None, outcome: str = "Approved", count: int = 1,
             **want) -> list[dict]:
    """Without an amount (a test's sample): 20.00 in the player's currency."""
    amount = Decimal("20.00") if amount is None else amount
    direction, counter = KINDS[kind]
    vendor_id, vendor_name = ctx.rng.choice(PROVIDERS)
    payment_id = ctx.new_id("payment")
    base = {"user_id": ctx.user_id, "timestamp": None, "origin": ctx.origin, "payment_id": payment_id,
            "type": direction, "amount": amount, "currency": ctx.currency, "exchange_rate": ctx.exchange_rate,
            "vendor_id": vendor_id, "vendor_name": vendor_name, counter: count}
    return [{**base, "status": "Requested", "meta": ctx.meta()}, {**base, "status": outcome, "meta": ctx.meta()}]
