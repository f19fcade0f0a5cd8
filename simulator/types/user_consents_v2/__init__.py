"""USER_CONSENTS_V2: the player's marketing consents changed. FT's message carries no consent, only the
user: the CRM asks the operator's GetConsents endpoint. ftsim keeps the events and, when the optional
`consents` list is sent, the latest answer per consent type."""
from __future__ import annotations

from simulator.contract.plugin import EventType
from simulator.contract.registry import load_schema
from simulator.types import _players as p

KIND = "user_consents"


def _merge(doc: dict, payload: dict, when: str, newest: bool) -> None:
    state = doc.setdefault("state", {})
    for item in payload.get("consents") or ():
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            continue
        known = state.get(item["type"])
        if known is None or when >= known["at"]:
            state[item["type"]] = {"opted_in": item.get("opted_in"), "at": when}


BOOK = p.EventLog(KIND, _merge)


def player_view(store, uid: str) -> dict | None:
    doc = p.latest(store, KIND, uid)
    if doc is None:
        return None
    return {"consents": {"events": doc["events"], "last": doc["last"], "state": doc.get("state", {})}}


TYPE = EventType(
    name="user_consents_v2", marker="USER_CONSENTS_V2", document=load_schema("user_consents_v2"), method="PUT",
    path="/v2/integration/user/consents", book=BOOK, identity=p.by_user_and_time, views={"player": player_view},
    summary="The player's consents changed (state kind user_consents: events seen, latest per consent type).")
