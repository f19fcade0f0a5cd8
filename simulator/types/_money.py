"""What the money types (PAYMENT, BONUS, USER_BALANCES_UPDATE) share: ids as text, the user's account
currency, and reading every state document of a user for the player view.

The account currency is the first currency ftsim saw in a user's payments, bonuses or balances (state kind
`money.currency`, key user_id). Each money type compares a new event's currency with it and warns on a
difference: a player's wallet has one currency, so another one is most often a sender's mapping bug.
"""
from __future__ import annotations

from decimal import Decimal

from simulator.core.money import text
from simulator.core.violations import Violation

CURRENCY_KIND = "money.currency"


def id_text(value) -> str | None:
    """An id as the text it is stored under: strings as they are, integral numbers without a fraction
    (FT's `payment_id` may be a number: 7 and 7.0 are one id), other numbers as their shortest text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value == value:
        return str(int(value)) if value.is_integer() else repr(value)
    return None


def account_currency(tx, user_id: str) -> dict | None:
    """{"currency": "EUR", "from": "PAYMENT p-1"} or None when no money event of the user was accepted."""
    return tx.get(CURRENCY_KIND, user_id)


def currency_check(rule: str, tx, user_id: str, currency, path: str) -> Violation | None:
    known = account_currency(tx, user_id)
    if known is None or not isinstance(currency, str) or currency == known["currency"]:
        return None
    return Violation(rule, path, f"{path.rsplit('/', 1)[-1]}: expected {known['currency']}, the currency of user "
                                 f"{user_id!r}'s earlier {known['from']}, got {currency}")


def remember_currency(tx, user_id: str, currency, what: str) -> None:
    """Keep the first currency of a user; later ones do not replace it."""
    if isinstance(currency, str) and account_currency(tx, user_id) is None:
        tx.put(CURRENCY_KIND, user_id, {"currency": currency, "from": what}, user_id=user_id)


def totals(amounts: dict[str, tuple[int, Decimal]]) -> dict:
    """{currency: (count, Decimal sum)} as JSON: {"EUR": {"count": 2, "sum": "30.00"}}."""
    return {cur: {"count": n, "sum": text(total)} for cur, (n, total) in sorted(amounts.items())}
