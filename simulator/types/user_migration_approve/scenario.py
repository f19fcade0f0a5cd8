"""Scenario traffic: the operator approves a migrated player (the journey sends it after USER_MIGRATION)."""
from __future__ import annotations


def generate(ctx, **want) -> list[dict]:
    return [{"user_id": ctx.user_id, "timestamp": None, "origin": ctx.origin}]
