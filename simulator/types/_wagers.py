"""What the product types beside casino share (sportsbook, lottery, cart, game, custom, poker).

A private module: the registry skips it (no TYPE, TYPES or SHARED). It holds the amount-parts rule, the
identities of types that have no id of their own, a per-user tally for the player view, and the bet
ledger sportsbook and lottery_v2 settle their bets in.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Callable

from simulator.contract.parse import digest
from simulator.contract.plugin import Facts
from simulator.core.money import ZERO, as_sent, text, to_money
from simulator.core.timefmt import iso
from simulator.core.violations import Violation, pointer



def payload_identity(payload: dict) -> str:
    """For a type with no id of its own: the same payload again (timestamp included) is a retry; any other
    payload is another event, never a conflicting duplicate. Readable where the retry message shows it."""
    return f"of user {payload.get('user_id')!r} at {payload.get('timestamp')!r} ({digest(payload)[:12]})"


def id_text(value) -> str | None:
    """An id as text: strings as they are, integers (lenient profile) in decimal; anything else None."""
    if isinstance(value, str):
        return value if value else None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def amount_sum(rule_id: str, total: str, parts: tuple[str, ...]):
    """A rule: `total` equals the sum of the `parts` sent (those absent are not counted), within the
    configured tolerance. Nothing to check when no part is sent."""
    def check(f: Facts):
        sent = [(name, to_money(f.payload[name])) for name in parts if name in f.payload]
        amount = to_money(f.payload.get(total))
        if not sent or amount is None or any(v is None for _, v in sent):
            return
        got = sum((v for _, v in sent), ZERO)
        if abs(amount - got) > f.amount_tolerance:
            shown = " + ".join(f"{n} {as_sent(v)}" for n, v in sent)
            yield Violation(rule_id, "/" + total,
                            f"{total}: expected {as_sent(got)} ({shown}), got {as_sent(amount)}: differs by "
                            f"{as_sent(abs(amount - got))}, more than the tolerance {f.amount_tolerance}")
    check.__name__ = rule_id.replace(".", "_")
    return check


def add_money(a: str | None, b: Decimal) -> str:
    return text((Decimal(a) if a else ZERO) + b)


class TallyBook:
    """Counts per user for the player view: `count(payload)` says what to add, as (path, amount) pairs:
    a path of keys into the user's document and an int (a count) or a Decimal (money, kept as text)."""

    def __init__(self, kind: str, count: Callable[[dict], list[tuple[tuple[str, ...], int | Decimal]]]):
        self.kind = kind
        self.count = count

    def judge(self, tx, facts: Facts):
        user_id = facts.payload.get("user_id")
        if not isinstance(user_id, str):
            return [], None
        return [], (user_id, self.count(facts.payload))

    def apply(self, tx, plan) -> None:
        if plan is None:
            return
        user_id, adds = plan
        doc = tx.get(self.kind, user_id) or {}
        for path, value in adds:
            node = doc
            for key in path[:-1]:
                node = node.setdefault(key, {})
            last = path[-1]
            node[last] = add_money(node.get(last), value) if isinstance(value, Decimal) else node.get(last, 0) + value
        tx.put(self.kind, user_id, doc, user_id=user_id)

    def view(self, store, user_id: str) -> dict | None:
        docs = store.entities(self.kind, user_id=user_id, limit=1)
        if not docs:
            return None
        return {k: v for k, v in docs[0].items() if k not in ("key", "user_id", "status", "at")}


class BetLedger:
    """Bets as the CRM joins them: a Bet opens a document of `kind` keyed by the bet's id, a Settlement
    settles it, a Rollback (status) reverses either. Rule ids are `<prefix>.settle_unknown` and so on;
    `bet_id(payload)` names the bet an event is about, `id_path` where that id lives."""

    def __init__(self, kind: str, prefix: str, bet_id: Callable[[dict], str | None], id_path: str,
                 id_words: str, settle_twice: bool = True, rollbacks: bool = True):
        self.kind, self.prefix, self.bet_id, self.id_path = kind, prefix, bet_id, id_path
        self.id_words, self.settle_twice, self.rollbacks = id_words, settle_twice, rollbacks

    def judge(self, tx, facts: Facts):
        p = facts.payload
        kind = p.get("type", "Bet")
        rollback = self.rollbacks and p.get("status") == "Rollback"
        amount = to_money(p.get("amount"))
        currency, user_id = p.get("currency"), p.get("user_id")
        if amount is None or not isinstance(currency, str) or not isinstance(user_id, str):
            return [], None  # a field the ledger needs is broken (its schema check reports it)
        bid = self.bet_id(p)
        if bid is None:
            return [Violation(f"{self.prefix}.missing_id", self.id_path,
                              f"{self.id_words}: absent, so this {kind} joins no bet")], None
        at = iso(facts.timestamp or facts.received_at)
        doc = tx.get(self.kind, bid)
        if kind == "Bet" and not rollback:
            if doc is not None:
                return [], None
            return [], ("bet", bid, {"user_id": user_id, "currency": currency, "stake": text(amount),
                                     "return": text(ZERO), "settlements": 0, "placed_at": at,
                                     "settled_at": None, "status": "open"})
        what = f"{kind} Rollback" if rollback else kind
        if doc is None or (doc["status"] == "rolled_back" and not rollback):
            rule = "rollback_unknown" if rollback else "settle_unknown"
            why = "was rolled back" if doc is not None else "was never placed (no approved Bet with that id)"
            return [Violation(f"{self.prefix}.{rule}", self.id_path,
                              f"{self.id_words}: {what} for bet {bid!r}, which {why}; changes nothing")], None
        found = []
        if doc["user_id"] != user_id:
            found.append(Violation(f"{self.prefix}.user_mismatch", "/user_id",
                                   f"user_id: expected {doc['user_id']!r}, who placed bet {bid!r}, got {user_id!r}"))
        if doc["currency"] != currency:
            found.append(Violation(f"{self.prefix}.currency_mismatch", "/currency",
                                   f"currency: expected {doc['currency']} like bet {bid!r}, got {currency}"))
        if rollback:
            return found, ("unbet" if kind == "Bet" else "unsettle", bid, amount, at)
        if self.settle_twice and doc["status"] == "settled":
            found.append(Violation(f"{self.prefix}.settled_twice", self.id_path,
                                   f"{self.id_words}: bet {bid!r} was already settled at {doc['settled_at']}; "
                                   f"expected one Settlement per bet"))
        return found, ("settle", bid, amount, at)

    def apply(self, tx, plan) -> None:
        if plan is None:
            return
        step, bid = plan[0], plan[1]
        if step == "bet":
            doc = plan[2]
        else:
            doc = tx.get(self.kind, bid)
            amount, at = plan[2], plan[3]
            if step == "settle":
                doc["return"] = add_money(doc["return"], amount)
                doc["settlements"] += 1
                doc["settled_at"], doc["status"] = at, "settled"
            elif step == "unsettle":
                doc["return"] = add_money(doc["return"], -amount)
                doc["settlements"] = max(0, doc["settlements"] - 1)
                if doc["settlements"] == 0:
                    doc["settled_at"], doc["status"] = None, "open"
            else:  # unbet
                doc["status"] = "rolled_back"
        tx.put(self.kind, bid, doc, user_id=doc["user_id"], status=doc["status"], at=doc["placed_at"])

    def view(self, store, user_id: str) -> dict | None:
        docs = store.entities(self.kind, user_id=user_id, limit=None)
        if not docs:
            return None
        out = {"count": len(docs), "open": 0, "settled": 0, "rolled_back": 0, "per_currency": {}}
        for doc in docs:
            out[doc["status"]] += 1
            if doc["status"] == "rolled_back":
                continue
            money = out["per_currency"].setdefault(doc["currency"], {"stake": "0.00", "return": "0.00"})
            money["stake"] = add_money(money["stake"], Decimal(doc["stake"]))
            money["return"] = add_money(money["return"], Decimal(doc["return"]))
        return out


def each_index(items, name: str):
    """(JSON pointer, item) for each object of a list field, skipping what is not an object."""
    if not isinstance(items, list):
        return
    for i, item in enumerate(items):
        if isinstance(item, dict):
            yield pointer((name, i)), item
