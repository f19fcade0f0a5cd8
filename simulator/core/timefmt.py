"""RFC 3339 timestamps in and out; every datetime inside ftsim is timezone-aware UTC."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$")


def parse_rfc3339(text) -> datetime | None:
    """A UTC datetime, or None when text is not RFC 3339. A leap second (:60) is read as :59.999999."""
    if not isinstance(text, str):
        return None
    m = _RFC3339.match(text)
    if not m:
        return None
    if text[-1] == "Z" and text[17:19] != "60":  # the usual form: the C parser builds it, the same datetime
        try:
            return datetime.fromisoformat(text)
        except ValueError:  # February 30th, hour 24
            return None
    y, mo, d, h, mi, s, frac, z, sign, oh, om = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    second = int(s)
    if second == 60:
        second, micro = 59, 999999
    try:
        tz = timezone.utc if z else timezone(
            (1 if sign == "+" else -1) * timedelta(hours=int(oh), minutes=int(om)))
        return datetime(int(y), int(mo), int(d), int(h), int(mi), second, micro, tzinfo=tz).astimezone(timezone.utc)
    except (ValueError, OverflowError):  # OverflowError: 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        return None


def iso(dt: datetime | None) -> str | None:
    """Fixed-width UTC text (microseconds, Z), so that stored times sort as strings."""
    if dt is None:
        return None
    if dt.tzinfo is not timezone.utc:
        dt = dt.astimezone(timezone.utc)
    # %-formatting, not isoformat(timespec=...): 2.5 of these a stored casino message, and isoformat's
    # keyword and its C printf cost 13k instructions each (callgrind), a third of that here
    return "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % (dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second,
                                                    dt.microsecond)


def from_iso(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=timezone.utc)
