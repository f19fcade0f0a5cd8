"""Scenario traffic: a block, as a leaving player excludes themselves or the operator blocks them."""
from __future__ import annotations

NOTES = {"Excluded": "self-exclusion requested by the player", "Blocked": "blocked by the operator's risk team"}


def generate(ctx, **want) -> list[dict]:
    kind = want.get("block") or ctx.rng.choice(("Excluded", "Blocked"))
    return [{"user_id": ctx.user_id, "timestamp": None, "origin": ctx.origin,
             "blocks": [{"type": kind, "active": want.get("active", True), "note": NOTES[kind]}]}]
