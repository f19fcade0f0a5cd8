"""EvenBet OnP2PTransfer (seed 002): checked against schemas/evenbet/p2p_transfer.json."""
from __future__ import annotations

from simulator.types._evenbet import evenbet_type

TYPE = evenbet_type("p2p_transfer", "OnP2PTransfer", "A player's transfer to another player, requested or completed (EvenBet).", ref=None)
