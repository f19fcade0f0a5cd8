"""The oracle's model of the CRM beyond casino rounds: the user registry, payments, bonuses, balances.

Written from the contract (the rule table: `ftsim rules`, the README, each type's documented lifecycle),
not from the types' books, so that a self-test run compares two independent readings of the rules:

- every type but USER_CREATE_V2 and USER_MIGRATION: an event of a user never registered -> user.unknown.
- USER_CREATE_V2: the same registration again is activity.retry; another one for the same user,
  user.registered_twice. LOGIN_V2: a login of a user not registered, once the run has registered someone,
  login.before_registration.
- PAYMENT, by payment_id: Requested -> Approved | Rejected | Cancelled, Approved -> Rollback, nothing after
  Rejected, Cancelled or Rollback, a Rollback first is also wrong (payment.transition); another amount,
  currency, user or direction than before (payment.changed); a payment_id at a status seen before, same
  payload: activity.retry, another payload: activity.duplicate.
- BONUS, by user_bonus_id: Pending < Created = Claimed < Ongoing, no step back; the final statuses end it,
  but Completed and AutoCompleted may still be Reversed (bonus.transition, a warning: the bonus takes it);
  another bonus_id, currency or user (bonus.changed).
- the account currency is the first currency of a user's accepted payment, bonus or balance; a new payment
  or bonus (payment.currency, bonus.currency) or a balance (balances.currency) in another one is flagged.
- events identified by user and time (logins, updates, blocks, consents, bonus steps): the same bytes again
  are activity.retry; distinct events never share a timestamp. USER_BALANCES_UPDATE has no identity.

A message is judged here only when nothing stateless made it an error; `judge` returns what it finds and a
function that moves the model, which the oracle calls only when the verdict has no error.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from simulator.clients.scenario.planned import Planned

REGISTERING = ("USER_CREATE_V2", "USER_MIGRATION")
NEXT_PAYMENT = {"Requested": ("Approved", "Rejected", "Cancelled"), "Approved": ("Rollback",)}
BONUS_RANK = {"Pending": 0, "Created": 1, "Claimed": 1, "Ongoing": 2}
BONUS_FINAL = ("Completed", "AutoCompleted", "Forfeited", "Expired", "Lost", "Reversed", "NotApplicable")
BY_USER_AND_TIME = ("LOGIN_V2", "USER_UPDATE_V2", "USER_BLOCK_V2", "USER_CONSENTS_V2", "BONUS")


def _nothing() -> None:
    return None


def bonus_may_follow(was: str, now: str) -> bool:
    if was in BONUS_FINAL:
        return now == "Reversed" and was in ("Completed", "AutoCompleted")
    return now in BONUS_FINAL or BONUS_RANK[now] >= BONUS_RANK[was]


@dataclass
class Accounts:
    registered: dict = field(default_factory=dict)  # user_id -> seq of the registration that stands
    registrations: int = 0  # in this run (login.before_registration needs at least one)
    currency: dict = field(default_factory=dict)  # user_id -> account currency
    payments: dict = field(default_factory=dict)  # payment_id -> dict
    bonuses: dict = field(default_factory=dict)  # user_bonus_id -> dict
    seen: dict = field(default_factory=dict)  # identity -> seq of the payload first accepted under it
    _owned: dict = field(default_factory=dict)  # user_id -> [(table, key)] to forget a departed player

    def unknown_user(self, p: Planned) -> list[str]:
        uid = p.payload.get("user_id")
        if p.marker in REGISTERING or not isinstance(uid, str) or uid in self.registered:
            return []
        return ["user.unknown"]

    def judge(self, p: Planned):
        key = self._identity(p)
        if key is not None and key in self.seen:
            return ["activity.retry" if self.seen[key] == p.seq else "activity.duplicate"], _nothing
        found, move = getattr(self, "_" + p.marker.lower(), lambda p: ([], _nothing))(p)

        def apply():
            if key is not None:
                self.seen[key] = p.seq
                self._own(p.user_id, "seen", key)
            move()
        return found, apply

    def _identity(self, p: Planned):
        if p.marker == "PAYMENT":
            return ("PAYMENT", p.payload["payment_id"], p.payload["status"])
        if p.marker in BY_USER_AND_TIME:
            return (p.marker, p.user_id, p.seq)  # the timestamp is the send time: equal only for a retry
        return None

    # -- the types ------------------------------------------------------------------------------------

    def _user_create_v2(self, p: Planned):
        uid = p.user_id
        if uid in self.registered:
            return ["activity.retry" if self.registered[uid] == p.seq else "user.registered_twice"], _nothing

        def register():
            self.registered[uid] = p.seq
            self.registrations += 1
            self._own(uid, "registered", uid)
        return [], register

    def _login_v2(self, p: Planned):
        if p.user_id not in self.registered and self.registrations:
            return ["login.before_registration"], _nothing
        return [], _nothing

    def _payment(self, p: Planned):
        pl = p.payload
        pid, status, amount = pl["payment_id"], pl["status"], Decimal(pl["amount"])
        prior = self.payments.get(pid)
        found = []
        if prior is None:
            if status == "Rollback":
                found.append("payment.transition")
            found += self._currency("payment.currency", p.user_id, pl["currency"])
        else:
            if (prior["user"], prior["amount"], prior["currency"]) != (p.user_id, amount, pl["currency"]) or \
                    prior["type"] != pl["type"]:
                found.append("payment.changed")
            if status not in NEXT_PAYMENT.get(prior["status"], ()):
                found.append("payment.transition")

        def move():
            if prior is None:
                self.payments[pid] = {"user": p.user_id, "amount": amount, "currency": pl["currency"],
                                      "type": pl["type"], "status": status}
                self._own(p.user_id, "payments", pid)
                self._remember_currency(p.user_id, pl["currency"])
            else:
                prior["status"] = status
        return found, move

    def _bonus(self, p: Planned):
        pl = p.payload
        ubid, status = pl["user_bonus_id"], pl["status"]
        prior = self.bonuses.get(ubid)
        found = []
        if prior is None:
            found += self._currency("bonus.currency", p.user_id, pl["currency"])
        else:
            if (prior["bonus_id"], prior["currency"], prior["user"]) != (pl["bonus_id"], pl["currency"], p.user_id):
                found.append("bonus.changed")
            if not bonus_may_follow(prior["status"], status):
                found.append("bonus.transition")

        def move():
            if prior is None:
                self.bonuses[ubid] = {"bonus_id": pl["bonus_id"], "currency": pl["currency"], "user": p.user_id,
                                      "status": status}
                self._own(p.user_id, "bonuses", ubid)
                self._remember_currency(p.user_id, pl["currency"])
            else:
                prior["status"] = status
        return found, move

    def _user_balances_update(self, p: Planned):
        items = p.payload["balances"]
        known = self.currency.get(p.user_id, items[0]["currency"] if items else None)
        found = ["balances.currency"] if any(b["currency"] != known for b in items) else []

        def move():
            if items:
                self._remember_currency(p.user_id, items[0]["currency"])
        return found, move

    # -- shared ---------------------------------------------------------------------------------------

    def _currency(self, rule: str, uid: str, currency: str) -> list[str]:
        known = self.currency.get(uid)
        return [rule] if known is not None and known != currency else []

    def _remember_currency(self, uid: str, currency: str) -> None:
        if uid not in self.currency:
            self.currency[uid] = currency
            self._own(uid, "currency", uid)

    def _own(self, uid: str, table: str, key) -> None:
        self._owned.setdefault(uid, []).append((table, key))

    def forget(self, uid: str) -> None:
        for table, key in self._owned.pop(uid, ()):
            getattr(self, table).pop(key, None)
