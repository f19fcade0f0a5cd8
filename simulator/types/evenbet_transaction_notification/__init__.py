"""EvenBet OnTransactionNotification (seed 002): checked against schemas/evenbet/transaction_notification.json."""
from __future__ import annotations

from simulator.types._evenbet import evenbet_type

TYPE = evenbet_type("transaction_notification", "OnTransactionNotification", "A transaction created for a player: deposit, withdrawal, rake, prize ... (EvenBet).", ref="transactionId")
