"""Formats the schemas name beyond JSON Schema's own: what FT's validator means by `date-time`.

FT validates with gojsonschema v1.2.0, whose `date-time` passes any string Go's `time.Parse` takes with
one of five layouts: `15:04:05`, `15:04:05Z07:00`, `2006-01-02`, RFC 3339 and RFC 3339 with nanoseconds.
Go reads the hour with one or two digits, minutes, seconds, months and days with exactly two, a fraction
after the seconds even where the layout has none, upper-case `T` and `Z` only, and no leap second. So
the docs' own example `2015-03-02T8:27:58.721607Z` passes FT's validator though it is not RFC 3339: the
`ft` profile takes it as FT does (`ft-date-time`) and the shared rule `timestamp.lax` says so.
"""
from __future__ import annotations

import calendar
import re

_DATE = r"(\d{4})-(\d{2})-(\d{2})"
_TIME = r"(\d{1,2}):(\d{2}):(\d{2})(?:\.\d+)?"
_ZONE = r"(?:Z|[+-](\d{2}):(\d{2}))"
_LAYOUTS = (
    re.compile(rf"^(){_TIME}()$"),  # 15:04:05
    re.compile(rf"^(){_TIME}{_ZONE}$"),  # 15:04:05Z07:00
    re.compile(rf"^{_DATE}$"),  # 2006-01-02
    re.compile(rf"^{_DATE}T{_TIME}{_ZONE}$"),  # RFC 3339 (and RFC 3339 with nanoseconds)
)


def _date_ok(y: str, mo: str, d: str) -> bool:
    month, day = int(mo), int(d)
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(int(y), month)[1]


def _time_ok(h: str, mi: str, s: str) -> bool:
    return int(h) < 24 and int(mi) < 60 and int(s) < 60


def _zone_ok(oh: str | None, om: str | None) -> bool:
    return oh is None or (int(oh) < 24 and int(om) < 60)


def ft_date_time(value) -> bool:
    """True when FT's validator (Go's time.Parse under gojsonschema's layouts) takes the string."""
    if not isinstance(value, str):
        return True  # formats bind strings only
    m = _LAYOUTS[0].match(value)
    if m:
        return _time_ok(*m.group(2, 3, 4))
    m = _LAYOUTS[1].match(value)
    if m:
        return _time_ok(*m.group(2, 3, 4)) and _zone_ok(*m.group(5, 6))
    m = _LAYOUTS[2].match(value)
    if m:
        return _date_ok(*m.groups())
    m = _LAYOUTS[3].match(value)
    if m:
        return _date_ok(*m.group(1, 2, 3)) and _time_ok(*m.group(4, 5, 6)) and _zone_ok(*m.group(7, 8))
    return False


FORMATS = {"ft-date-time": ft_date_time}
