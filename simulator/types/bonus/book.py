"""A player's bonus by user_bonus_id: from offered to wagered to done, as the CRM follows it.

FT lists the statuses and not their order, so the order here is ftsim's reading: Pending (offered) before
Created and Claimed (given, taken up: either order), those before Ongoing (being wagered, sent again as it
progresses); any of them may end in Completed, AutoCompleted, Forfeited, Expired, Lost, Reversed or
NotApplicable, which are final, except that a Completed or AutoCompleted bonus may still be Reversed. A move
against that order is a warning, not an error: the CRM shows a bonus at the last status it heard, and so
does ftsim. One document per player's bonus (state kind "bonus", key user_bonus_id as text).
"""
from __future__ import annotations

from dataclasses import dataclass

from simulator.contract.plugin import Facts
from simulator.core.money import to_money
from simulator.core.timefmt import iso
from simulator.core.violations import Violation
from simulator.types import _money

KIND = "bonus"
OPEN = {"Pending": 0, "Created": 1, "Claimed": 1, "Ongoing": 2}  # rank: no step back to a lower one
FINAL = ("Completed", "AutoCompleted", "Forfeited", "Expired", "Lost", "Reversed", "NotApplicable")
REVERSIBLE = ("Completed", "AutoCompleted")


def can_follow(was: str, now: str) -> bool:
    if was in FINAL:
        return now == "Reversed" and was in REVERSIBLE
    return now in FINAL or OPEN[now] >= OPEN[was]


def _expected(was: str) -> str:
    if was in REVERSIBLE:
        return "only Reversed (it is completed)"
    if was in FINAL:
        return "nothing (it is final)"
    later = [s for s, rank in OPEN.items() if rank >= OPEN[was]]
    return f"{', '.join(later)} or a final status"


@dataclass(slots=True)
class Plan:
    key: str
    doc: dict


class BonusBook:
    def judge(self, tx, facts: Facts):
        p = facts.payload
        key, bonus_id = _money.id_text(p.get("user_bonus_id")), _money.id_text(p.get("bonus_id"))
        user, status, currency = p.get("user_id"), p.get("status"), p.get("currency")
        if key is None or bonus_id is None or not isinstance(user, str) or not isinstance(currency, str) \
                or not (status in OPEN or status in FINAL):
            return [], None
        at = iso(facts.timestamp or facts.received_at)
        prior = tx.get(KIND, key)
        found: list[Violation] = []
        if prior is None:
            mismatch = _money.currency_check("bonus.currency", tx, user, currency, "/currency")
            if mismatch:
                found.append(mismatch)
            doc = {"user_bonus_id": key, "bonus_id": bonus_id, "user_id": user, "currency": currency,
                   "status": status, "first_at": at, "last_at": at, "history": []}
        else:
            for field, value, name in (("bonus_id", bonus_id, "bonus"), ("currency", currency, "currency"),
                                       ("user_id", user, "user")):
                if value != prior[field]:
                    found.append(Violation("bonus.changed", f"/{field}",
                                           f"{field}: expected {prior[field]!r}, the {name} of user bonus "
                                           f"{key!r}, got {value!r}"))
            was = prior["status"]
            if not can_follow(was, status):
                found.append(Violation("bonus.transition", "/status",
                                       f"status: user bonus {key!r} is {was}; expected {_expected(was)} after "
                                       f"it, got {status}"))
            doc = {**prior, "status": status, "last_at": max(at, prior["last_at"])}
        doc.update({k: p[k] for k in ("product", "type") if isinstance(p.get(k), str)})
        for k in ("amount", "locked_amount", "bonus_turned_real"):
            amount = to_money(p.get(k))
            if amount is not None:
                doc[k] = str(amount)
        if not doc["history"] or doc["history"][-1]["status"] != status:
            doc["history"] = doc["history"] + [{"status": status, "at": at}]
        return found, Plan(key, doc)

    def apply(self, tx, plan: Plan | None) -> None:
        if plan is None:
            return
        doc = plan.doc
        tx.put(KIND, plan.key, doc, user_id=doc["user_id"], status=doc["status"], at=doc["last_at"])
        _money.remember_currency(tx, doc["user_id"], doc["currency"], f"BONUS {plan.key}")


BOOK = BonusBook()


def player_view(store, user_id: str) -> dict | None:
    """How many of the user's bonuses stand at each status, and how many are still open."""
    docs = store.entities(KIND, user_id=user_id, limit=None)
    if not docs:
        return None
    by_status: dict[str, int] = {}
    for d in docs:
        by_status[d["status"]] = by_status.get(d["status"], 0) + 1
    return {"bonuses": {"count": len(docs), "open": sum(n for s, n in by_status.items() if s in OPEN),
                        "by_status": dict(sorted(by_status.items()))}}
