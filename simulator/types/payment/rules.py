"""Payment's stateless rules: a payment moves money, and its type says which way."""
from __future__ import annotations

from simulator.contract.plugin import Facts
from simulator.core.money import to_money
from simulator.core.violations import Violation

# Credit is money into the player's account (a deposit), Debit money out (a withdrawal); the count that
# goes with each direction.
SENSE = {"Credit": ("deposit", "deposit_count", "withdraw_count", "Debit"),
         "Debit": ("withdrawal", "withdraw_count", "deposit_count", "Credit")}


def zero_amount(f: Facts):
    amount = to_money(f.payload.get("amount"))
    kind = f.payload.get("type")
    what = SENSE[kind][0] if kind in ("Credit", "Debit") else "payment"
    if amount is not None and amount == 0:
        yield Violation("payment.zero_amount", "/amount",
                        f"amount: expected more than 0 for a payment, got {f.payload['amount']}; a payment of "
                        f"nothing is counted as a {what} all the same")


def sense(f: Facts):
    """A Credit that carries only the withdrawal count (or a Debit only the deposit count): most often a
    sender that maps deposits to Debit, the other way round."""
    kind = f.payload.get("type")
    if kind not in ("Credit", "Debit"):  # not `in SENSE`: a schema-invalid type may be a list
        return
    what, own, other, flipped = SENSE[kind]
    if other in f.payload and own not in f.payload:
        yield Violation("payment.sense", "/type",
                        f"type: {kind} is a {what}, but the event carries {other} ({f.payload[other]}) and no "
                        f"{own}; expected {own} with a {what}, or type {flipped} if this is a "
                        f"{SENSE[flipped][0]}")
