"""Migrations and their approvals, kept in the user registry (state kind "user")."""
from __future__ import annotations

from simulator.contract.plugin import Facts
from simulator.core.violations import Violation
from simulator.types import _players as p


class MigrationBook:
    """USER_MIGRATION: the user is known from now on (status "migrated" unless registered here too)."""

    def judge(self, tx, facts: Facts):
        uid = p.user_id(facts.payload)
        return [], (None if uid is None else (uid, p.at(facts), facts.payload.get("migration_reference")))

    def apply(self, tx, plan) -> None:
        uid, when, reference = plan
        doc = tx.get(p.USER, uid)
        first = doc is None
        doc = doc or {}
        migration = doc.get("migration") or {"at": when}
        migration.update(reference=reference, at=min(migration["at"], when))
        doc["migration"] = migration
        status = "registered" if "registration" in doc else "migrated"
        tx.put(p.USER, uid, doc, user_id=uid, status=status,
               at=doc["registration"]["at"] if "registration" in doc else migration["at"])
        if first:
            p.bump_run(tx, "migrated")
            p.mark_logins_known(tx, uid)


class ApprovalBook:
    """USER_MIGRATION_APPROVE: approves a migrated user; one never migrated in this run is flagged."""

    def judge(self, tx, facts: Facts):
        uid = p.user_id(facts.payload)
        if uid is None:
            return [], None
        doc = tx.get(p.USER, uid)
        if doc is None or "migration" not in doc:
            return [Violation("migration.approve_unknown", "/user_id",
                              f"user_id: expected a USER_MIGRATION for {uid!r} before its approval, got an "
                              f"approval of a user this run never migrated")], None
        return [], (uid, p.at(facts))

    def apply(self, tx, plan) -> None:
        uid, when = plan
        doc = tx.get(p.USER, uid)
        doc["migration"]["approved_at"] = min(doc["migration"].get("approved_at") or when, when)
        status = "registered" if "registration" in doc else "migrated"
        tx.put(p.USER, uid, doc, user_id=uid, status=status,
               at=doc["registration"]["at"] if "registration" in doc else doc["migration"]["at"])


MIGRATIONS = MigrationBook()
APPROVALS = ApprovalBook()


def player_view(store, uid: str) -> dict | None:
    doc = p.latest(store, p.USER, uid)
    if doc is None:
        return None
    migration = doc.get("migration")
    if migration is None:
        return {"migrated": False}
    return {"migrated": True, "migration": {"reference": migration.get("reference"), "at": migration["at"],
                                            "approved": "approved_at" in migration,
                                            "approved_at": migration.get("approved_at")}}
