"""The player's account as the CRM learns it from the feed: shared code of the user_* and login types.

State kinds, each keyed by user_id:
- "user": the registry. status "registered" (USER_CREATE_V2) or "migrated" (USER_MIGRATION, never
  registered here); the doc keeps the registration's fields, the migration and its approval.
- "login": logins (count, first, last, and what the last one carried); status "registered" or
  "unregistered": whether the user was known when last looked at (a later registration updates it).
- "user_update", "user_block", "user_consents", "user_tag": what those events said, latest first.
- "user.run" key "run": how many users this run registered or migrated (login.before_registration
  applies only once there is one).

`SHARED` holds the book behind `user.unknown`, judging every event of every type.
"""
from __future__ import annotations

import ipaddress

from simulator.contract.plugin import Facts, ReadinessItem, RuleInfo
from simulator.core.timefmt import iso
from simulator.core.violations import Violation

USER = "user"
LOGIN = "login"
RUN = "user.run"

UNKNOWN = RuleInfo(
    "user.unknown", "off",
    "An event of any type for a user_id this run never registered (USER_CREATE_V2) nor migrated (USER_MIGRATION). "
    "Off by default: most runs send traffic for users registered before the run; a team testing a whole journey "
    "turns it on with --severity user.unknown=warning.")
IP_ADDRESS = RuleInfo(
    "user.ip_address", "warning",
    "ip_address is not an IPv4 or IPv6 address (FT names that format, but its validator checks nothing).")

# The types whose own event makes the user known: user.unknown never judges them.
REGISTERING = ("USER_CREATE_V2", "USER_MIGRATION")


def user_id(payload: dict) -> str | None:
    """The payload's user_id as text (the lenient profile lets an integer through), None when unusable."""
    value = payload.get("user_id")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return value if isinstance(value, str) and value else None


def at(facts: Facts) -> str:
    """When the event happened: its RFC 3339 timestamp, or (a lax one the ft profile let through) when it came."""
    return iso(facts.timestamp or facts.received_at)


def by_user_and_time(payload: dict) -> str | None:
    """The identity of an event that has no id of its own: this user, at this instant."""
    uid, ts = user_id(payload), payload.get("timestamp")
    return f"{uid}@{ts}" if uid is not None and isinstance(ts, str) else None


def known(tx, uid: str) -> bool:
    """Asked for every event of every type; a user once registered stays so, so within one transaction a
    yes is remembered (a no is asked again: a registration later in the batch may change it)."""
    seen = tx.scratch.get("players.known")
    if seen is None:
        seen = tx.scratch["players.known"] = set()
    if uid in seen:
        return True
    if tx.get(USER, uid) is None:
        return False
    seen.add(uid)
    return True


def bump_run(tx, what: str) -> None:
    run = tx.get(RUN, "run") or {"registered": 0, "migrated": 0}
    run[what] += 1
    tx.put(RUN, "run", run)


def mark_logins_known(tx, uid: str) -> None:
    """A user became known: their earlier logins are no longer logins of an unknown user."""
    doc = tx.get(LOGIN, uid)
    if doc is not None:
        tx.put(LOGIN, uid, doc, user_id=uid, status="registered", at=doc.get("last"))


def kept(payload: dict, names) -> dict:
    return {k: payload[k] for k in names if k in payload}


def ip_address(facts: Facts):
    value = facts.payload.get("ip_address")
    if not isinstance(value, str):
        return
    try:
        ipaddress.ip_address(value)
    except ValueError:
        yield Violation("user.ip_address", "/ip_address",
                        f"ip_address: expected an IPv4 or IPv6 address such as 192.0.2.10 or 2001:db8::1, "
                        f"got {value!r}")


class UnknownUserBook:
    """user.unknown: judges every event of every type; reads the registry, changes nothing."""

    # It only reports this rule and changes no state, so intake skips it while the rule is off (the
    # default): otherwise every message of every type pays a user look-up for nothing.
    reports_only = ("user.unknown",)

    def judge(self, tx, facts: Facts):
        if facts.event_type.marker in REGISTERING:
            return [], None
        uid = user_id(facts.payload)
        if uid is None or known(tx, uid):
            return [], None
        return [Violation("user.unknown", "/user_id",
                          f"user_id: expected a user registered (USER_CREATE_V2) or migrated (USER_MIGRATION) "
                          f"earlier in this run, got {uid!r}, never seen registered")], None

    def apply(self, tx, plan) -> None:
        pass


SHARED = (UnknownUserBook(),)


class EventLog:
    """The book of a type whose events only say "this changed at this time" (updates, blocks, consents,
    tags): counts them and keeps what the latest said. `merge(doc, payload)` adds the type's own fields."""

    def __init__(self, kind: str, merge=None):
        self.kind = kind
        self.merge = merge

    def judge(self, tx, facts: Facts):
        uid = user_id(facts.payload)
        return [], (None if uid is None else (uid, at(facts), facts.payload))

    def apply(self, tx, plan) -> None:
        if plan is None:
            return
        uid, when, payload = plan
        doc = tx.get(self.kind, uid) or {"events": 0, "first": when, "last": when}
        doc["events"] += 1
        doc["first"] = min(doc["first"], when)
        newest = when >= doc["last"]
        doc["last"] = max(doc["last"], when)
        if newest:
            doc["origin"] = payload.get("origin")
        if self.merge is not None:
            self.merge(doc, payload, when, newest)
        tx.put(self.kind, uid, doc, user_id=uid, at=doc["last"])


def latest(store, kind: str, uid: str) -> dict | None:
    found = store.entities(kind, user_id=uid, limit=1)
    if not found:
        return None
    doc = dict(found[0])
    for k in ("key", "user_id", "at"):
        doc.pop(k, None)
    return doc


def _gather_logins(store) -> dict:
    counts = store.entity_counts(LOGIN)
    return {"registered": counts.get("registered", 0), "unregistered": counts.get("unregistered", 0),
            "examples": [d["key"] for d in store.entities(LOGIN, status="unregistered", limit=3)]}


def _judge_logins(facts: dict) -> tuple[bool, str]:
    bad, good = facts["unregistered"], facts["registered"]
    if bad:
        return False, (f"{bad} of {bad + good} users who logged in were never registered nor migrated: "
                       + ", ".join(facts["examples"]))
    return True, "no logins" if not good else f"all {good} users who logged in were registered or migrated"


def _explain_logins(facts: dict) -> str:
    return "\n".join(f"user {u}: LOGIN_V2 with no USER_CREATE_V2 or USER_MIGRATION" for u in facts["examples"])


USERS_REGISTERED = ReadinessItem("users.registered", "Every user who logged in was registered",
                                 _gather_logins, _judge_logins, _explain_logins)

