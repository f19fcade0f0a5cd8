"""USER_UPDATE_V2: the player's details changed; the CRM fetches them again. Counted per user."""
from __future__ import annotations

from simulator.contract.plugin import EventType
from simulator.contract.registry import load_schema
from simulator.types import _players as p

KIND = "user_update"
BOOK = p.EventLog(KIND)


def player_view(store, uid: str) -> dict | None:
    doc = p.latest(store, KIND, uid)
    return None if doc is None else {"updates": {k: doc.get(k) for k in ("events", "first", "last")}}


TYPE = EventType(
    name="user_update_v2", marker="USER_UPDATE_V2", document=load_schema("user_update_v2"), method="PUT",
    path="/v2/integration/user", book=BOOK, identity=p.by_user_and_time, views={"player": player_view},
    summary="The player's details changed (state kind user_update: how many updates, the latest).")
