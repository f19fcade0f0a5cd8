"""Scenario traffic: the player answers the marketing consent questions (a few channels, yes or no)."""
from __future__ import annotations

CHANNELS = ("email", "sms", "telephone", "postMail", "siteNotification", "pushNotification")


def generate(ctx, **want) -> list[dict]:
    chosen = ctx.rng.sample(CHANNELS, ctx.rng.randint(1, 3))
    return [{"user_id": ctx.user_id, "timestamp": None, "origin": ctx.origin,
             "consents": [{"type": c, "opted_in": ctx.rng.random() < 0.6} for c in chosen]}]
