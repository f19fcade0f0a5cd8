"""The user registry's entries from registrations: one per user_id, the first registration stands."""
from __future__ import annotations

from simulator.contract.parse import digest
from simulator.contract.plugin import Facts
from simulator.core.violations import Violation
from simulator.types import _players as p

# What the CRM keeps of a registration (the message is slim; the rest comes from GetUserDetails).
KEPT = ("origin", "ip_address", "user_agent", "note")


class RegistrationBook:
    def judge(self, tx, facts: Facts):
        uid = p.user_id(facts.payload)
        if uid is None:
            return [], None
        sig = digest(facts.payload, facts.canonical)
        doc = tx.get(p.USER, uid)
        reg = (doc or {}).get("registration")
        if reg is None:
            return [], ("new", uid, sig, p.at(facts), facts.payload)
        if doc.get("digest") == sig:
            return [Violation("activity.retry", "/user_id",
                              f"user_id: the registration of {uid!r} was received before with the same payload; "
                              f"a retry, counted once")], None
        return [Violation("user.registered_twice", "/user_id",
                          f"user_id: expected one registration per user, got a second one for {uid!r} with a "
                          f"different payload (first registered at {reg['at']}); the first one stands")], \
            ("again", uid, sig, p.at(facts), facts.payload)

    def apply(self, tx, plan) -> None:
        if plan is None:
            return
        what, uid, sig, when, payload = plan
        doc = tx.get(p.USER, uid) or {}
        if what == "again":
            doc["registrations"] = doc.get("registrations", 1) + 1
            tx.put(p.USER, uid, doc, user_id=uid, status="registered", at=doc["registration"]["at"])
            return
        doc.update(registration={"at": when, **p.kept(payload, KEPT)}, digest=sig, registrations=1)
        tx.put(p.USER, uid, doc, user_id=uid, status="registered", at=when)
        p.bump_run(tx, "registered")
        p.mark_logins_known(tx, uid)


BOOK = RegistrationBook()


def player_view(store, uid: str) -> dict | None:
    doc = p.latest(store, p.USER, uid)
    if doc is None or "registration" not in doc:
        return None
    return {"registration": {**doc["registration"], "registrations": doc.get("registrations", 1)}}
