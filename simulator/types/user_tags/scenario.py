"""Scenario traffic: the operator's tags on a player, now and then (FT's `tags` is one string)."""
from __future__ import annotations

TAGS = ("vip", "high-roller", "sports-fan", "slots-lover", "newsletter", "weekend-player", "bonus-hunter")


def generate(ctx, **want) -> list[dict]:
    chosen = ctx.rng.sample(TAGS, ctx.rng.randint(1, 3))
    return [{"user_id": ctx.user_id, "timestamp": None, "origin": ctx.origin, "tags": ",".join(chosen)}]
