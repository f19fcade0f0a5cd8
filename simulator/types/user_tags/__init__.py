"""USER_TAG (schema user_tags): tags set on the player. FT's `tags` is one string; ftsim keeps the latest
and every distinct value seen. Brokers only: FT's docs give it no REST path."""
from __future__ import annotations

from simulator.contract.plugin import EventType
from simulator.contract.registry import load_schema
from simulator.types import _players as p

KIND = "user_tag"


def _merge(doc: dict, payload: dict, when: str, newest: bool) -> None:
    tags = payload.get("tags")
    if not isinstance(tags, str):
        return
    seen = doc.setdefault("seen", [])
    if tags not in seen:
        seen.append(tags)
    if newest:
        doc["tags"] = tags


BOOK = p.EventLog(KIND, _merge)


def player_view(store, uid: str) -> dict | None:
    doc = p.latest(store, KIND, uid)
    if doc is None:
        return None
    return {"tags": {"latest": doc.get("tags"), "seen": doc.get("seen", []), "events": doc["events"],
                     "last": doc["last"]}}


TYPE = EventType(
    name="user_tags", marker="USER_TAG", document=load_schema("user_tags"), book=BOOK,
    identity=p.by_user_and_time, views={"player": player_view},
    summary="Tags set on the player (state kind user_tag: the latest tags string, every one seen).")
