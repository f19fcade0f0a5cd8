"""LOGIN_V2: a login. Counted per user; a login of a user this run never registered is flagged."""
from __future__ import annotations

from simulator.contract.plugin import EventType, RuleInfo
from simulator.contract.registry import load_schema
from simulator.types import _players as p
from simulator.types.login_v2 import book

RULES = (
    RuleInfo("login.before_registration", "warning",
             "A LOGIN_V2 for a user this run has not registered (nor migrated) yet, once the run has registered "
             "or migrated at least one user (a run of logins only is not flagged)."),
    p.UNKNOWN,
    p.IP_ADDRESS,
)

TYPE = EventType(
    name="login_v2", basic=True, marker="LOGIN_V2", document=load_schema("login_v2"), method="POST",
    path="/v2/integration/login", rules=(p.ip_address,), book=book.BOOK, identity=p.by_user_and_time,
    rule_info=RULES, readiness=(p.USERS_REGISTERED,), views={"player": book.player_view},
    summary="A login: counted per user (state kind login), judged against the user registry.")
