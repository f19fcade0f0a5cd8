"""GAME: one game of the operator's catalog (brokers only). No user and no timestamp: it is not an
activity. Sending a game again with other values updates it (state kind "game", keyed by game_id)."""
from __future__ import annotations

from simulator.contract.parse import digest
from simulator.contract.plugin import EventType, Facts
from simulator.contract.registry import load_schema
from simulator.types._wagers import id_text

KIND = "game"


def identity(payload: dict) -> str | None:
    """game_id with the payload's digest: the same game sent again unchanged is a retry; with other values an
    update, not a conflicting duplicate."""
    ref = id_text(payload.get("game_id"))
    return None if ref is None else f"{ref}|{digest(payload)}"


class GameBook:
    def judge(self, tx, facts: Facts):
        ref = id_text(facts.payload.get("game_id"))
        return [], (None if ref is None else (ref, facts.payload))

    def apply(self, tx, plan) -> None:
        if plan is None:
            return
        ref, payload = plan
        prior = tx.get(KIND, ref)
        doc = {**payload, "updates": 0 if prior is None else prior.get("updates", 0) + 1}
        tx.put(KIND, ref, doc, status="live" if payload.get("is_live") is True else "not_live")


TYPE = EventType(
    name="game", marker="GAME", document=load_schema("game"), ref="game_id", keys=("game_id",),
    book=GameBook(), identity=identity,
    summary="A game of the catalog (id, name, live or not, provider, RTP): stored by game_id, updated when sent again.")
