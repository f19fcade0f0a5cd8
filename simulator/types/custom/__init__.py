"""CUSTOM: an event the operator defines (notification_type and free data), POST /v1/integration/custom."""
from __future__ import annotations

from simulator.contract.plugin import EventType, RuleInfo
from simulator.contract.registry import load_schema
from simulator.types._wagers import TallyBook, payload_identity
from simulator.types.custom.rules import ip_address

RULES = (
    RuleInfo("custom.ip_address", "warning", "ip_address is not an IPv4 or IPv6 address."),
)


def _count(payload: dict):
    kind = payload.get("notification_type")
    return [(("custom_events", kind), 1)] if isinstance(kind, str) else []


BOOK = TallyBook("custom_player", _count)


def player_view(store, user_id: str) -> dict | None:
    found = BOOK.view(store, user_id)
    return None if found is None else dict(found)


TYPE = EventType(
    name="custom", marker="CUSTOM", document=load_schema("custom"), method="POST", path="/v1/integration/custom",
    keys=("notification_type",), rules=(ip_address,), book=BOOK, identity=payload_identity, rule_info=RULES,
    views={"player": player_view},
    summary="Custom events the operator defines (notification_type, data): counted per user and notification_type.")
