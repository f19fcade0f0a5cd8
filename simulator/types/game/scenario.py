"""Scenario traffic: one game of the operator's catalogue, as the platform announces it (no user, no time).

The journey passes the game (its id already in the run's namespace, so runs never update each other's
games) and sends a few at the start of a run: a catalogue update, not a player's activity.
"""
from __future__ import annotations

CATEGORIES = {"slots": ("Slots", "Video Slots"), "live": ("Live Casino", "Game Shows"), "table": ("Table", "Cards")}


def generate(ctx, *, game_id: str | None = None, title: str | None = None, kind: str = "slots",
             provider: str = "NetEnt", **want) -> list[dict]:
    game_id = game_id or ctx.new_id("game")
    title = title or ctx.fake.catch_phrase()
    category, sub = CATEGORIES.get(kind, CATEGORIES["slots"])
    return [{"game_id": game_id, "name": title, "is_live": kind == "live", "category": category, "subcategory": sub,
             "provider": provider, "origin": ctx.origin, "slug": title.lower().replace(" ", "-").replace("'", ""),
             "rtp": ctx.rng.choice((94.5, 95.8, 96.1, 96.5, 97.3)),
             "supported_devices": ["desktop", "mobile"] if ctx.rng.random() < 0.8 else ["desktop"]}]
