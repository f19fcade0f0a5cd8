"""Scenario traffic: a player moved over from another platform; it makes them known, as a registration does."""
from __future__ import annotations


def generate(ctx, **want) -> list[dict]:
    return [{"user_id": ctx.user_id, "timestamp": None, "origin": ctx.origin,
             "migration_reference": ctx.new_id("migration")}]
