"""Sportsbook bets as the CRM joins them: state kind "sportsbook_bet", keyed by the bet's id.

A Bet's id is its activity_id. A Settlement or Rollback names its Bet by activity_id_reference, or, when
it sends none, by its own activity_id (the facts do not say which a sender uses: both are taken).
"""
from __future__ import annotations

from simulator.types._wagers import BetLedger, id_text

KIND = "sportsbook_bet"


def bet_id(payload: dict) -> str | None:
    if payload.get("type", "Bet") == "Bet" and payload.get("status") != "Rollback":
        return id_text(payload.get("activity_id"))
    return id_text(payload.get("activity_id_reference")) or id_text(payload.get("activity_id"))


BOOK = BetLedger(KIND, "sportsbook", bet_id, "/activity_id", "activity_id")


def player_view(store, user_id: str) -> dict | None:
    found = BOOK.view(store, user_id)
    return None if found is None else {"sportsbook_bets": found}
