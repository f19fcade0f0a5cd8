"""A player's latest balance per key (real_money, bonus_money), as the CRM shows it.

State kind "balance", key "<user_id>/<balance key>": the amount as Decimal text, its currency and when it
was true. An update older than the stored one for the same key leaves that one in place (balances.stale).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from simulator.contract.plugin import Facts
from simulator.core.money import text, to_money
from simulator.core.timefmt import iso
from simulator.core.violations import Violation
from simulator.types import _money

KIND = "balance"


@dataclass(slots=True)
class Plan:
    user_id: str
    docs: list[tuple[str, dict]] = field(default_factory=list)


class BalancesBook:
    def judge(self, tx, facts: Facts):
        p = facts.payload
        user, balances = p.get("user_id"), p.get("balances")
        if not isinstance(user, str) or not isinstance(balances, list):
            return [], None
        at = iso(facts.timestamp or facts.received_at)
        known = _money.account_currency(tx, user)
        found: list[Violation] = []
        plan = Plan(user)
        for i, item in enumerate(balances):
            if not isinstance(item, dict):
                continue
            key, currency, amount = item.get("key"), item.get("currency"), to_money(item.get("amount"))
            if not isinstance(key, str) or not isinstance(currency, str) or amount is None:
                continue
            if known is None:
                known = {"currency": currency, "from": f"{key} balance in this event (/balances/{i})"}
            elif currency != known["currency"]:
                found.append(Violation("balances.currency", f"/balances/{i}/currency",
                                       f"currency: expected {known['currency']}, the currency of user {user!r}'s "
                                       f"{known['from']}, got {currency}"))
            stored = tx.get(KIND, f"{user}/{key}")
            if stored is not None and stored["at"] > at:
                found.append(Violation("balances.stale", f"/balances/{i}",
                                       f"balances/{i}: the stored {key} balance is from {stored['at']}, later than "
                                       f"this event's {at}; the stored balance stays"))
                continue
            plan.docs.append((key, {"user_id": user, "balance": key, "amount": str(amount), "currency": currency,
                                    "at": at}))
        return found, plan

    def apply(self, tx, plan: Plan | None) -> None:
        if plan is None:
            return
        for key, doc in plan.docs:
            tx.put(KIND, f"{plan.user_id}/{key}", doc, user_id=plan.user_id, status=key, at=doc["at"])
        if plan.docs:
            key, doc = plan.docs[0]
            _money.remember_currency(tx, plan.user_id, doc["currency"], f"USER_BALANCES_UPDATE ({key})")


BOOK = BalancesBook()


def player_view(store, user_id: str) -> dict | None:
    """The latest balance per key."""
    docs = store.entities(KIND, user_id=user_id, limit=None)
    if not docs:
        return None
    return {"balances": {d["balance"]: {"amount": text(Decimal(d["amount"])), "currency": d["currency"],
                                        "at": d["at"]} for d in docs}}
