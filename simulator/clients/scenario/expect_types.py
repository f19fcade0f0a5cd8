"""The oracle's model of the CRM beyond casino rounds: the user registry, payments, bonuses, balances.

Written from the contract (the rule table: `ftsim rules`, the README, each type's documented lifecycle),
not from the types' books, so that a self-test run compares two independent readings of the rules:

- every type but USER_CREATE_V2 and USER_MIGRATION: an event of a user never registered nor migrated ->
  user.unknown (GAME has no user: never).
- USER_CREATE_V2: the same registration again is activity.retry; another one for the same user,
  user.registered_twice. USER_MIGRATION makes the user known as a registration does.
  USER_MIGRATION_APPROVE of a user this run never migrated: migration.approve_unknown. LOGIN_V2: a login
  of a user neither registered nor migrated, once the run has registered or migrated someone,
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
- SPORTSBOOK, by bet id (a Bet's activity_id; a Settlement's or Rollback's activity_id_reference, else its
  activity_id): a Settlement for a bet never placed or rolled back, sportsbook.settle_unknown; a Rollback
  of a bet never placed, sportsbook.rollback_unknown; a second Settlement, sportsbook.settled_twice; from
  another user or in another currency than the bet, sportsbook.user_mismatch / currency_mismatch; no id at
  all, sportsbook.missing_id.
- LOTTERY_V2 in the lines shape, by ticket_id: a Settlement with no Bet before it,
  lottery_v2.settle_unknown; another user or currency than the Bet, lottery_v2.user_mismatch /
  currency_mismatch (a ticket may be settled once per draw: no "settled twice").
- the poker types, per user: an approved cash-out with no approved buy-in of that game (cash game or
  tournament) before it, poker.cash_out_without_buy_in; a Rollback with no approved event of its type and
  currency left, poker.rollback_unmatched.
- every type with an identity (all but USER_CREATE_V2, whose book judges its repeats, and
  USER_BALANCES_UPDATE, which has none): the same bytes again are activity.retry. The journeys give each
  event its own identity (ids, or user and time: distinct events never share a timestamp), so the oracle
  keys them by the message itself.

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
NO_IDENTITY = ("USER_CREATE_V2", "USER_BALANCES_UPDATE", "CASINO")
POKER = {"POKER_CASH_GAME_BUY_IN_V2": ("cash_game", "buy_in"), "POKER_CASH_GAME_CASH_OUT_V2": ("cash_game", "cash_out"),
         "POKER_TOURNAMENT_BUY_IN_V2": ("tournament", "buy_in"),
         "POKER_TOURNAMENT_CASH_OUT_V2": ("tournament", "cash_out")}


def _nothing() -> None:
    return None


def bonus_may_follow(was: str, now: str) -> bool:
    if was in BONUS_FINAL:
        return now == "Reversed" and was in ("Completed", "AutoCompleted")
    return now in BONUS_FINAL or BONUS_RANK[now] >= BONUS_RANK[was]


@dataclass
class Accounts:
    registered: dict = field(default_factory=dict)  # user_id -> seq of the registration that stands
    migrated: dict = field(default_factory=dict)  # user_id -> seq of their first migration
    registrations: int = 0  # registered or migrated in this run (login.before_registration needs one)
    currency: dict = field(default_factory=dict)  # user_id -> account currency
    payments: dict = field(default_factory=dict)  # payment_id -> dict
    bonuses: dict = field(default_factory=dict)  # user_bonus_id -> dict
    bets: dict = field(default_factory=dict)  # ("SPORTSBOOK" | "LOTTERY_V2", bet id) -> dict
    poker: dict = field(default_factory=dict)  # (user_id, game, step, currency) -> approved - rolled back
    buy_ins: dict = field(default_factory=dict)  # (user_id, game) -> approved - rolled back buy-ins, any currency
    seen: dict = field(default_factory=dict)  # identity -> seq of the payload first accepted under it
    _owned: dict = field(default_factory=dict)  # user_id -> [(table, key)] to forget a departed player

    def unknown_user(self, p: Planned) -> list[str]:
        uid = p.payload.get("user_id")
        if p.marker in REGISTERING or not isinstance(uid, str) or self.known(uid):
            return []
        return ["user.unknown"]

    def known(self, uid: str) -> bool:
        return uid in self.registered or uid in self.migrated

    def judge(self, p: Planned):
        key = self._identity(p)
        if key is not None and key in self.seen:
            return ["activity.retry" if self.seen[key] == p.seq else "activity.duplicate"], _nothing
        handler = "_poker" if p.marker in POKER else "_" + p.marker.lower()
        if p.marker == "LOTTERY_V2" and "lines" not in p.payload:
            handler = "_lottery"  # the older shape shares the marker: no stateful rule of its own
        found, move = getattr(self, handler, lambda p: ([], _nothing))(p)

        def apply():
            if key is not None:
                self.seen[key] = p.seq
                self._own(p.user_id, "seen", key)
            move()
        return found, apply

    def _identity(self, p: Planned):
        if p.marker == "PAYMENT":
            return ("PAYMENT", p.payload["payment_id"], p.payload["status"])
        if p.marker not in NO_IDENTITY:
            return (p.marker, p.user_id, p.seq)  # ids are fresh and timestamps the send time: equal only for a retry
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

    def _user_migration(self, p: Planned):
        uid = p.user_id

        def migrate():
            if uid not in self.migrated:
                self.migrated[uid] = p.seq
                self._own(uid, "migrated", uid)
                if uid not in self.registered:
                    self.registrations += 1
        return [], migrate

    def _user_migration_approve(self, p: Planned):
        return ([] if p.user_id in self.migrated else ["migration.approve_unknown"]), _nothing

    def _login_v2(self, p: Planned):
        if not self.known(p.user_id) and self.registrations:
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

    def _sportsbook(self, p: Planned):
        pl = p.payload
        kind, rollback = pl.get("type", "Bet"), pl.get("status") == "Rollback"
        if kind == "Bet" and not rollback:
            bid = pl.get("activity_id")
        else:
            bid = pl.get("activity_id_reference") or pl.get("activity_id")
        return self._bet("SPORTSBOOK", "sportsbook", bid, kind, rollback, pl, settle_twice=True)

    def _lottery_v2(self, p: Planned):
        pl = p.payload
        return self._bet("LOTTERY_V2", "lottery_v2", pl.get("ticket_id"), pl["type"], False, pl, settle_twice=False)

    def _bet(self, family: str, prefix: str, bid, kind: str, rollback: bool, pl: dict, settle_twice: bool):
        if not bid:
            return [f"{prefix}.missing_id"], _nothing
        key = (family, bid)
        bet = self.bets.get(key)
        uid, currency = pl["user_id"], pl["currency"]
        if kind == "Bet" and not rollback:
            if bet is not None:
                return [], _nothing

            def place():
                self.bets[key] = {"user": uid, "currency": currency, "status": "open"}
                self._own(uid, "bets", key)
            return [], place
        if bet is None or (bet["status"] == "rolled_back" and not rollback):
            return [f"{prefix}.{'rollback_unknown' if rollback else 'settle_unknown'}"], _nothing
        found = []
        if bet["user"] != uid:
            found.append(f"{prefix}.user_mismatch")
        if bet["currency"] != currency:
            found.append(f"{prefix}.currency_mismatch")
        if not rollback and settle_twice and bet["status"] == "settled":
            found.append(f"{prefix}.settled_twice")

        def move():
            bet["status"] = "rolled_back" if rollback and kind == "Bet" else ("open" if rollback else "settled")
        return found, move

    def _poker(self, p: Planned):
        pl = p.payload
        game, step = POKER[p.marker]
        uid, currency, rollback = pl["user_id"], pl["currency"], pl["status"] == "Rollback"
        key = (uid, game, step, currency)
        if rollback and self.poker.get(key, 0) <= 0:
            return ["poker.rollback_unmatched"], _nothing
        found = []
        if not rollback and step == "cash_out" and self.buy_ins.get((uid, game), 0) <= 0:
            found.append("poker.cash_out_without_buy_in")

        def move():
            if key not in self.poker:
                self._own(uid, "poker", key)
            self.poker[key] = self.poker.get(key, 0) + (-1 if rollback else 1)
            if step == "buy_in":
                if (uid, game) not in self.buy_ins:
                    self._own(uid, "buy_ins", (uid, game))
                self.buy_ins[(uid, game)] = self.buy_ins.get((uid, game), 0) + (-1 if rollback else 1)
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
