"""Scenario traffic shared by the four poker types: FT's poker events carry only who, when, currency and
status, so a buy-in or a cash-out is one Approved event in the player's currency (no money moves that the
feed could show). Each poker folder's scenario.py is this generator."""
from __future__ import annotations


def generate(ctx, **want) -> list[dict]:
    return [{"user_id": ctx.user_id, "timestamp": None, "currency": ctx.currency,
             "exchange_rate": ctx.exchange_rate, "status": want.get("status", "Approved")}]
