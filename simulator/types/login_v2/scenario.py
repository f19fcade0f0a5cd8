"""Scenario traffic: a login, sent as a registered player starts a session."""
from __future__ import annotations


def generate(ctx, **want) -> list[dict]:
    return [{"user_id": ctx.user_id, "timestamp": None, "origin": ctx.origin,
             "ip_address": ctx.fake.ipv4_public(), "user_agent": ctx.fake.user_agent(),
             "is_verified": ctx.rng.random() < 0.8, "is_impersonated": False, "meta": ctx.meta()}]
