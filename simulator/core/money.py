"""Money is Decimal: JSON numbers are turned into Decimal through their shortest text, never summed as floats.

The shortest text of a double is the sender's own text for every number of up to 15 significant digits
(what amounts are); contract/parse.py hands over longer numbers, and integers beyond 64 bits, as Decimal.
"""
from __future__ import annotations

from decimal import Decimal

ZERO = Decimal("0")


def to_money(value) -> Decimal | None:
    """Decimal for a JSON number; None for anything else (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def text(amount: Decimal) -> str:
    """Plain decimal text for APIs and the store: no exponent, at least two places."""
    q = amount if amount.as_tuple().exponent <= -2 else amount.quantize(Decimal("0.01"))
    return format(q, "f")
