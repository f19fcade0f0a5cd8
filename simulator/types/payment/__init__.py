"""PAYMENT: deposits and withdrawals, one message per status change of a payment_id.

The CRM builds a player's deposit pattern from these: the book follows each payment's lifecycle and the
player view sums approved deposits (Credit) and withdrawals (Debit) per currency.
"""
from __future__ import annotations

from simulator.contract.plugin import EventType, RuleInfo
from simulator.contract.registry import load_schema
from simulator.types import _money
from simulator.types.payment import book
from simulator.types.payment.rules import sense, zero_amount

RULES = (
    RuleInfo("payment.transition", "error",
             "A status a payment cannot reach from its last one (Requested -> Approved/Rejected/Cancelled, "
             "Approved -> Rollback; nothing after Rejected, Cancelled or Rollback)."),
    RuleInfo("payment.changed", "error",
             "A payment_id seen before with another amount, currency, user_id or direction (Credit/Debit)."),
    RuleInfo("payment.sense", "warning",
             "A Credit (deposit) with withdraw_count and no deposit_count, or a Debit (withdrawal) with "
             "deposit_count and no withdraw_count: the direction looks swapped."),
    RuleInfo("payment.zero_amount", "warning", "A payment of amount 0."),
    RuleInfo("payment.currency", "warning",
             "A new payment in a currency other than the user's account currency (the first seen in their "
             "payments, bonuses or balances)."),
)


def identity(payload: dict) -> str | None:
    """One payment at one status: the same again with the same payload is a retry."""
    key = _money.id_text(payload.get("payment_id"))
    status = payload.get("status")
    return f"{key}/{status}" if key is not None and isinstance(status, str) else None


TYPE = EventType(
    name="payment", basic=True, marker="PAYMENT", document=load_schema("payment"), method="POST",
    path="/v1/integration/payment", ref="payment_id", keys=("payment_id", "status", "type"),
    rules=(zero_amount, sense), book=book.BOOK, rule_info=RULES, readiness=(book.SETTLED,),
    views={"player": book.player_view}, identity=identity,
    summary="Deposits (Credit) and withdrawals (Debit) by payment_id through Requested, Approved, Rejected, "
            "Cancelled and Rollback.")
