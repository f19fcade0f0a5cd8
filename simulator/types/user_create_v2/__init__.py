"""USER_CREATE_V2: a registration. Makes the user known to the run (the user registry, state kind "user")."""
from __future__ import annotations

from simulator.contract.plugin import EventType, RuleInfo
from simulator.contract.registry import load_schema
from simulator.types import _players as p
from simulator.types.user_create_v2 import book

RULES = (
    RuleInfo("user.registered_twice", "warning",
             "A second USER_CREATE_V2 for a user_id already registered in this run, with a different payload: "
             "the first registration stands (the same payload again is activity.retry)."),
    p.UNKNOWN,
    p.IP_ADDRESS,
)

TYPE = EventType(
    name="user_create_v2", basic=True, marker="USER_CREATE_V2", document=load_schema("user_create_v2"), method="POST",
    path="/v2/integration/user", ref="user_id", rules=(p.ip_address,), book=book.BOOK, rule_info=RULES,
    views={"player": book.player_view},
    summary="A registration: the user becomes known (state kind user, status registered).")
