"""Logins per user (state kind "login"), and whether the user was registered when they logged in."""
from __future__ import annotations

from simulator.contract.plugin import Facts
from simulator.core.violations import Violation
from simulator.types import _players as p

# What the player view shows of the latest login.
KEPT = ("origin", "ip_address", "user_agent", "is_verified", "is_impersonated")


class LoginBook:
    def judge(self, tx, facts: Facts):
        uid = p.user_id(facts.payload)
        if uid is None:
            return [], None
        found = []
        known = p.known(tx, uid)
        if not known:
            run = tx.get(p.RUN, "run")
            if run is not None and (run["registered"] or run["migrated"]):
                found.append(Violation(
                    "login.before_registration", "/user_id",
                    f"user_id: expected a USER_CREATE_V2 (or USER_MIGRATION) for {uid!r} before its login, got a "
                    f"login of a user this run never registered, though it registered {run['registered']} and "
                    f"migrated {run['migrated']} others"))
        return found, (uid, p.at(facts), facts.payload, known)

    def apply(self, tx, plan) -> None:
        uid, when, payload, known = plan
        doc = tx.get(p.LOGIN, uid) or {"count": 0, "first": when, "last": when}
        doc["count"] += 1
        doc["first"] = min(doc["first"], when)
        if when >= doc["last"]:
            doc["last"] = when
            doc.update({k: payload.get(k) for k in KEPT})
        tx.put(p.LOGIN, uid, doc, user_id=uid, status="registered" if known else "unregistered", at=doc["last"])


BOOK = LoginBook()


def player_view(store, uid: str) -> dict | None:
    doc = p.latest(store, p.LOGIN, uid)
    if doc is None:
        return None
    status = doc.pop("status", None)
    return {"logins": {**{k: v for k, v in doc.items() if v is not None}, "registered": status == "registered"}}
