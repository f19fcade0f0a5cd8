"""Scenario traffic: a registration, the first thing a player's journey sends (it makes them known)."""
from __future__ import annotations


def generate(ctx, **want) -> list[dict]:
    return [{"user_id": ctx.user_id, "timestamp": None, "origin": ctx.origin,
             "ip_address": ctx.fake.ipv4_public(), "user_agent": ctx.fake.user_agent(),
             "note": want.get("note") or f"signed up in {ctx.country}"}]
