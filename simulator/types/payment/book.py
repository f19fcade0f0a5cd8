"""A payment's lifecycle by payment_id, as the CRM counts deposits and withdrawals from it.

Requested -> Approved | Rejected | Cancelled; Approved -> Rollback. A payment may start at any status but
Rollback (ftsim may not have seen its Requested). Rejected, Cancelled and Rollback are final, and so is
Approved but for its Rollback. One document per payment (state kind "payment", key payment_id as text),
its status indexed, so the player view sums approved deposits and withdrawals per currency.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from simulator.contract.plugin import Facts, ReadinessItem
from simulator.core.money import to_money
from simulator.core.timefmt import iso
from simulator.core.violations import Violation
from simulator.types import _money

KIND = "payment"
STATUSES = ("Requested", "Approved", "Rejected", "Cancelled", "Rollback")
NEXT = {"Requested": ("Approved", "Rejected", "Cancelled"), "Approved": ("Rollback",),
        "Rejected": (), "Cancelled": (), "Rollback": ()}
DIRECTION = {"Credit": "in", "Debit": "out"}


@dataclass(slots=True)
class Plan:
    key: str
    doc: dict
    user_id: str
    at: str


def _event(payload: dict):
    """(payment_id text, user_id, status, type, amount, currency) or None when a field the lifecycle needs
    is absent or malformed (possible when its schema check is switched off)."""
    key = _money.id_text(payload.get("payment_id"))
    user, status, kind = payload.get("user_id"), payload.get("status"), payload.get("type")
    amount, currency = to_money(payload.get("amount")), payload.get("currency")
    if key is None or not isinstance(user, str) or status not in STATUSES or not isinstance(kind, str) \
            or amount is None or not isinstance(currency, str):
        return None
    return key, user, status, kind, amount, currency


class PaymentBook:
    def judge(self, tx, facts: Facts):
        event = _event(facts.payload)
        if event is None:
            return [], None
        key, user, status, kind, amount, currency = event
        at = iso(facts.timestamp or facts.received_at)
        prior = tx.get(KIND, key)
        found: list[Violation] = []
        if prior is None:
            if status == "Rollback":
                found.append(Violation("payment.transition", "/status",
                                       f"status: Rollback of payment {key!r}, which was never Approved here; "
                                       f"expected a Rollback only after the payment's Approved"))
            mismatch = _money.currency_check("payment.currency", tx, user, currency, "/currency")
            if mismatch:
                found.append(mismatch)
            doc = {"payment_id": key, "user_id": user, "type": kind, "amount": str(amount),
                   "currency": currency, "status": status, "first_at": at, "last_at": at, "history": []}
        else:
            found += _changed(key, prior, user, kind, amount, currency)
            was = prior["status"]
            if status not in NEXT[was]:
                allowed = " or ".join(NEXT[was]) if NEXT[was] else "nothing (it is final)"
                late = " (its timestamp is earlier than the last one: sent out of order?)" \
                    if at < prior["last_at"] else ""
                found.append(Violation("payment.transition", "/status",
                                       f"status: payment {key!r} is {was}; expected {allowed} after it, got "
                                       f"{status}{late}"))
            doc = {**prior, "status": status, "type": kind if was != "Approved" else prior["type"],
                   "last_at": max(at, prior["last_at"])}
        doc["history"] = doc["history"] + [{"status": status, "type": kind, "at": at}]
        return found, Plan(key, doc, user, doc["last_at"])

    def apply(self, tx, plan: Plan | None) -> None:
        if plan is None:
            return
        tx.put(KIND, plan.key, plan.doc, user_id=plan.user_id, status=plan.doc["status"], at=plan.at)
        _money.remember_currency(tx, plan.user_id, plan.doc["currency"], f"PAYMENT {plan.key}")


def _changed(key: str, prior: dict, user: str, kind: str, amount: Decimal, currency: str):
    if user != prior["user_id"]:
        yield Violation("payment.changed", "/user_id",
                        f"user_id: expected {prior['user_id']!r}, the user of payment {key!r}, got {user!r}")
    if amount != Decimal(prior["amount"]):
        yield Violation("payment.changed", "/amount",
                        f"amount: expected {prior['amount']}, the amount of payment {key!r} when it was "
                        f"{prior['status']}, got {amount}")
    if currency != prior["currency"]:
        yield Violation("payment.changed", "/currency",
                        f"currency: expected {prior['currency']}, the currency of payment {key!r}, got {currency}")
    if kind in DIRECTION and prior["type"] in DIRECTION and kind != prior["type"]:
        yield Violation("payment.changed", "/type",
                        f"type: expected {prior['type']}, the direction of payment {key!r} so far, got {kind}")


BOOK = PaymentBook()


def player_view(store, user_id: str) -> dict | None:
    """Approved deposits (Credit) and withdrawals (Debit) per currency; a rolled-back payment is Rollback,
    so it is not counted. Authorization, Capture and Void are counted by status only."""
    docs = store.entities(KIND, user_id=user_id, limit=None)
    if not docs:
        return None
    sums: dict[str, dict[str, tuple[int, Decimal]]] = {"in": {}, "out": {}}
    by_status: dict[str, int] = {}
    for d in docs:
        by_status[d["status"]] = by_status.get(d["status"], 0) + 1
        way = DIRECTION.get(d["type"])
        if d["status"] == "Approved" and way:
            n, total = sums[way].get(d["currency"], (0, Decimal(0)))
            sums[way][d["currency"]] = (n + 1, total + Decimal(d["amount"]))
    return {"payments": {"deposits": _money.totals(sums["in"]), "withdrawals": _money.totals(sums["out"]),
                         "by_status": dict(sorted(by_status.items()))}}


EXAMPLES = 3


def _gather_settled(store) -> dict:
    counts = store.entity_counts(KIND)
    return {"requested": counts.get("Requested", 0), "total": sum(counts.values()),
            "examples": [{"payment_id": d["payment_id"], "user_id": d["user_id"], "since": d["first_at"]}
                         for d in store.entities(KIND, status="Requested", limit=EXAMPLES)]}


def _judge_settled(facts: dict) -> tuple[bool, str]:
    if facts["requested"]:
        return False, (f"{facts['requested']} of {facts['total']} payments still Requested: "
                       + ", ".join(f"{e['user_id']}/{e['payment_id']}" for e in facts["examples"]))
    total = facts["total"]
    return True, "no payments" if not total else f"all {total} payments settled"


def _explain_settled(facts: dict) -> str:
    return "\n".join(f"user {e['user_id']} payment {e['payment_id']}: Requested since {e['since']}, never "
                     f"Approved, Rejected or Cancelled" for e in facts["examples"])


SETTLED = ReadinessItem("payments.settled", "No payment left Requested", _gather_settled, _judge_settled,
                        _explain_settled)
