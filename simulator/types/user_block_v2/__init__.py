"""USER_BLOCK_V2: the player's blocks changed. FT's message carries no block, only the user: the CRM
asks the operator's GetBlocks endpoint. ftsim keeps the events and, when the optional `blocks` list is
sent, the latest state of each block type."""
from __future__ import annotations

from simulator.contract.plugin import EventType
from simulator.contract.registry import load_schema
from simulator.types import _players as p

KIND = "user_block"


def _merge(doc: dict, payload: dict, when: str, newest: bool) -> None:
    state = doc.setdefault("state", {})
    for item in payload.get("blocks") or ():
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            continue
        known = state.get(item["type"])
        if known is None or when >= known["at"]:
            state[item["type"]] = {"active": item.get("active"), "note": item.get("note"), "at": when}


BOOK = p.EventLog(KIND, _merge)


def player_view(store, uid: str) -> dict | None:
    doc = p.latest(store, KIND, uid)
    if doc is None:
        return None
    return {"blocks": {"events": doc["events"], "last": doc["last"], "state": doc.get("state", {})}}


TYPE = EventType(
    name="user_block_v2", marker="USER_BLOCK_V2", document=load_schema("user_block_v2"), method="PUT",
    path="/v2/integration/user/blocks", book=BOOK, identity=p.by_user_and_time, views={"player": player_view},
    summary="The player's blocks changed (state kind user_block: events seen, latest state per block type).")
