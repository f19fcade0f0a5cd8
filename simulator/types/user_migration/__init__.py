"""USER_MIGRATION: a player moved over from another platform; the run knows the user from now on."""
from __future__ import annotations

from simulator.contract.plugin import EventType
from simulator.contract.registry import load_schema
from simulator.types import _players as p
from simulator.types.user_migration import book

TYPE = EventType(
    name="user_migration", marker="USER_MIGRATION", document=load_schema("user_migration"),
    ref="migration_reference", keys=("migration_reference",), book=book.MIGRATIONS,
    identity=p.by_user_and_time, rule_info=(p.UNKNOWN,), views={"player": book.player_view},
    summary="A migrated player: known to the run from now on (state kind user, status migrated).")
