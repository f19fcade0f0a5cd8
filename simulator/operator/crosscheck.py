"""What an answer must agree with beyond its schema: the event that caused the call, and what the user's
other events said. FT's CRM keeps the answer as the truth about the player, so a disagreement is a player
with the wrong currency, or a block or opt-out the CRM does not know about."""
from __future__ import annotations

from simulator.core.violations import Violation

CURRENCY_EVENTS = ("casino", "payment")  # event types whose `currency` is the player's account currency


def cross_check(name: str, answer, payload: dict, currencies: set[str]) -> list[Violation]:
    """answer: the parsed body of a call without schema errors; payload: the event that caused it."""
    if not isinstance(answer, dict):
        return []
    if name == "userdetails":
        currency = answer.get("currency")
        if currencies and isinstance(currency, str) and currency not in currencies:
            return [Violation("operator.currency", "/currency",
                              f"GetUserDetails says currency {currency!r}; the user's casino/payment events say "
                              f"{', '.join(sorted(currencies))}")]
        return []
    if name == "userblocks":
        return _agrees(answer.get("blocks"), payload.get("blocks"), "blocks", "active", "USER_BLOCK_V2")
    if name == "userconsents":
        return _agrees(answer.get("consents"), payload.get("consents"), "consents", "opted_in", "USER_CONSENTS_V2")
    return []


def _agrees(answered, sent, field: str, flag: str, marker: str) -> list[Violation]:
    if not isinstance(sent, list) or not isinstance(answered, list):
        return []
    now = {item.get("type"): item.get(flag) for item in answered if isinstance(item, dict)}
    out = []
    for item in sent:
        if not isinstance(item, dict) or item.get("type") is None:
            continue
        kind, want = item.get("type"), item.get(flag)
        got = now.get(kind)
        if got != want:
            i = next((n for n, a in enumerate(answered) if isinstance(a, dict) and a.get("type") == kind), None)
            where = f"/{field}/{i}/{flag}" if i is not None else f"/{field}"
            shown = "no such item" if kind not in now else f"{flag} {got!r}"
            out.append(Violation("operator.stale", where, f"the {marker} event said {kind} {flag} {want!r}; the "
                                                          f"operator's answer after it shows {shown}"))
    return out
