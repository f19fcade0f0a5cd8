"""Scenario traffic: "the player's details changed" (FT's message carries only who and when)."""
from __future__ import annotations


def generate(ctx, **want) -> list[dict]:
    return [{"user_id": ctx.user_id, "timestamp": None, "origin": ctx.origin}]
