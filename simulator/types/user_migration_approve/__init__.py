"""USER_MIGRATION_APPROVE: the operator approves a migrated player. Its state lives in the migration's
entry of the user registry, so user_migration's player view shows it (`migration.approved`)."""
from __future__ import annotations

from simulator.contract.plugin import EventType, RuleInfo
from simulator.contract.registry import load_schema
from simulator.types import _players as p
from simulator.types.user_migration import book

RULES = (
    RuleInfo("migration.approve_unknown", "warning",
             "A USER_MIGRATION_APPROVE for a user this run never migrated (USER_MIGRATION): approves nothing."),
    p.UNKNOWN,
)

TYPE = EventType(
    name="user_migration_approve", marker="USER_MIGRATION_APPROVE", document=load_schema("user_migration_approve"),
    book=book.APPROVALS, identity=p.by_user_and_time, rule_info=RULES,
    summary="Approval of a migrated player (kept on the user's migration, state kind user).")
