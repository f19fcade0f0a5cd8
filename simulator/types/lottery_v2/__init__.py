"""LOTTERY_V2 in the lines shape (schema stem `lottery_v2`): a ticket's Bet and its Settlement.

Bets are joined by ticket_id (state kind "lottery_ticket"). The marker is shared with the older shape
(`lottery`): a broker message with `lines` comes here, and so does one that fits neither shape, so that
its schema names what is missing.
"""
from __future__ import annotations

from simulator.contract.plugin import EventType, RuleInfo
from simulator.contract.registry import load_schema
from simulator.types._wagers import BetLedger, id_text
from simulator.types.lottery_v2.rules import line_duplicate, matched_not_played

RULES = (
    RuleInfo("lottery_v2.line_duplicate", "error", "Two lines of one ticket with the same line_id."),
    RuleInfo("lottery_v2.matched_not_played", "warning",
             "A line's matched_numbers (or matched_special_numbers) holds a number the line did not play."),
    RuleInfo("lottery_v2.missing_id", "info", "No ticket_id: the event joins no ticket, retries cannot be told apart."),
    RuleInfo("lottery_v2.settle_unknown", "warning", "A Settlement for a ticket_id with no Bet before it: settles nothing."),
    RuleInfo("lottery_v2.user_mismatch", "error", "A Settlement from another user than the ticket's Bet."),
    RuleInfo("lottery_v2.currency_mismatch", "error", "A Settlement in another currency than the ticket's Bet."),
)


def fits(payload: dict) -> bool:
    return "lines" in payload


def identity(payload: dict) -> str | None:
    """ticket_id with type and draw_id: a ticket's Bet and its Settlements share the ticket_id, and a ticket
    in several draws is settled once per draw."""
    ref = id_text(payload.get("ticket_id"))
    return None if ref is None else f"{ref}|{payload.get('type')}|{id_text(payload.get('draw_id'))}"


# A ticket may take part in several draws, each settling it: a second Settlement is no fault here. The
# shape has no status, so no Rollbacks.
BOOK = BetLedger("lottery_ticket", "lottery_v2", lambda p: id_text(p.get("ticket_id")), "/ticket_id", "ticket_id",
                 settle_twice=False, rollbacks=False)


def player_view(store, user_id: str) -> dict | None:
    found = BOOK.view(store, user_id)
    return None if found is None else {"lottery_tickets": found}


TYPE = EventType(
    name="lottery_v2", marker="LOTTERY_V2", document=load_schema("lottery_v2"), method="POST",
    path="/v2/integration/lottery", ref="ticket_id", keys=("ticket_id", "draw_id", "lottery_id"),
    rules=(line_duplicate, matched_not_played), book=BOOK, identity=identity, rule_info=RULES, shape=fits,
    views={"player": player_view},
    summary="Lottery Bet and Settlement in the lines shape, joined into tickets by ticket_id; marker LOTTERY_V2.")
