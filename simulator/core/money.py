"""Money is Decimal: JSON numbers are turned into Decimal through their shortest text, never summed as floats.

The shortest text of a double is the sender's own text for every number of up to 15 significant digits
(what amounts are); contract/parse.py hands over longer numbers, and integers beyond 64 bits, as Decimal.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0")
CENT = Decimal("0.01")
NO_CENTS = Decimal("0.00")  # zero to the cent, as generated amounts are written


def to_money(value) -> Decimal | None:
    """Decimal for a JSON number; None for anything else (booleans are not numbers here)."""
    kind = type(value)
    if kind is not float and kind is not int:  # the two kinds JSON amounts come as, five calls a casino message
        if isinstance(value, Decimal):  # a long number contract/parse.py kept exact
            return value if value.is_finite() else None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        value = float(value) if isinstance(value, float) else int(value)  # a subclass: its plain value
        kind = type(value)
    if kind is float:
        return Decimal(repr(value)) if value == value else None  # NaN is no amount
    return Decimal(value)


def text(amount: Decimal) -> str:
    """Plain decimal text for APIs and the store: no exponent, at least two places."""
    q = amount if amount.as_tuple().exponent <= -2 else amount.quantize(Decimal("0.01"))
    return format(q, "f")


def as_sent(amount: Decimal):
    """An amount as its sender would have written it, for a message: JSON's 5.00 arrives as the double 5.0,
    and "got 5.0" is not what anyone sent, so a fraction shows at least its cents; an integer stays one."""
    return amount if amount.as_tuple().exponent >= 0 else text(amount)


def cents(x) -> Decimal:
    """To the cent, half up: how generated traffic rounds money."""
    return Decimal(x).quantize(CENT, rounding=ROUND_HALF_UP)


def split(amount: Decimal, weights) -> tuple[Decimal, Decimal, Decimal]:
    """amount in three parts proportional to weights, to the cent, adding up exactly (the rest to the largest):
    how a stake is drawn from real, bonus and locked money and a win paid back in the same proportions."""
    total = sum(weights, NO_CENTS)
    if not amount or not total:
        return amount, NO_CENTS, NO_CENTS
    parts = [cents(amount * w / total) for w in weights]
    biggest = max(range(3), key=lambda k: weights[k])
    parts[biggest] += amount - sum(parts, NO_CENTS)
    return parts[0], parts[1], parts[2]
