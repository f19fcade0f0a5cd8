"""EvenBet OnCasinoRoundClosed (seed 002): checked against schemas/evenbet/casino_round_closed.json."""
from __future__ import annotations

from simulator.types._evenbet import evenbet_type

TYPE = evenbet_type("casino_round_closed", "OnCasinoRoundClosed", "A casino round completed, cancelled or reopened, with its transaction (EvenBet).", ref=None)
