"""Scenario traffic: an event the operator defines itself (a notification type and free data)."""
from __future__ import annotations

KINDS = {"tournament_joined": ("tournament", "position"), "level_up": ("level", "points"),
         "mission_completed": ("mission", "reward")}


def generate(ctx, **want) -> list[dict]:
    kind = want.get("notification_type") or ctx.rng.choice(sorted(KINDS))
    name, number = KINDS[kind]
    return [{"user_id": ctx.user_id, "timestamp": None, "origin": ctx.origin, "notification_type": kind,
             "data": {name: ctx.fake.word(), number: ctx.rng.randint(1, 100)},
             "ip_address": ctx.fake.ipv4_public(), "user_agent": ctx.fake.user_agent()}]
