"""EvenBet OnPlayerBalanceChanged (seed 002): checked against schemas/evenbet/player_balance_changed.json."""
from __future__ import annotations

from simulator.types._evenbet import evenbet_type

TYPE = evenbet_type("player_balance_changed", "OnPlayerBalanceChanged", "A player's real, bonus and in-play balances after a change (EvenBet, minor units).", ref=None)
