"""LOTTERY_V2 in FT's older shape (schema stem `lottery`): a purchase of tickets for draws.

It shares its marker with the lines shape (`lottery_v2`): a broker message goes to the shape it fits
(tickets or transaction_id, and no lines); REST names it by its own path, POST /v1/integration/lottery.
"""
from __future__ import annotations

from simulator.contract.plugin import EventType, RuleInfo
from simulator.contract.registry import load_schema
from simulator.core.money import to_money
from simulator.types._wagers import TallyBook, id_text
from simulator.types.lottery.rules import amount_sum, tickets_sum

RULES = (
    RuleInfo("lottery.amount_sum", "warning",
             "amount differs from account_amount + bonus_amount + deposit_amount (the ways it was paid) by more "
             "than the tolerance."),
    RuleInfo("lottery.tickets_sum", "warning", "amount differs from the sum of its tickets' amount by more than the tolerance."),
)


def fits(payload: dict) -> bool:
    return "lines" not in payload and ("tickets" in payload or "transaction_id" in payload)


def identity(payload: dict) -> str | None:
    """transaction_id with status: the same purchase Approved and later Rejected are two events."""
    ref = id_text(payload.get("transaction_id"))
    return None if ref is None else f"{ref}|{payload.get('status')}"


def _count(payload: dict):
    status = payload.get("status")
    adds = [(("purchases", "approved" if status == "Approved" else "rejected"), 1)]
    amount, currency = to_money(payload.get("amount")), payload.get("currency")
    if status == "Approved" and amount is not None and isinstance(currency, str):
        adds.append((("amount", currency), amount))
        tickets = payload.get("tickets")
        adds.append((("tickets",), len(tickets) if isinstance(tickets, list) else 0))
    return adds


BOOK = TallyBook("lottery_player", _count)


def player_view(store, user_id: str) -> dict | None:
    found = BOOK.view(store, user_id)
    return None if found is None else {"lottery": found}


TYPE = EventType(
    name="lottery", marker="LOTTERY_V2", document=load_schema("lottery"), method="POST",
    path="/v1/integration/lottery", ref="transaction_id", keys=("transaction_id",),
    rules=(amount_sum, tickets_sum), book=BOOK, identity=identity, rule_info=RULES, shape=fits,
    views={"player": player_view},
    summary="Lottery ticket purchases in FT's older shape (tickets and draws), marker LOTTERY_V2.")
