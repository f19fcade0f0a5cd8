"""Readable schema messages: what was expected, what arrived, and where.

Both validators' errors are first reduced to a `Problem` (keyword, location, value, expectation) so that
one function words them, whichever engine found them.
"""
from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from typing import Any

from simulator.core.violations import Violation, pointer

TYPE_NAMES = {"string": "a string", "number": "a number", "integer": "an integer", "boolean": "true or false",
              "object": "an object", "array": "an array", "null": "null"}


@dataclass(frozen=True)
class Problem:
    keyword: str
    location: tuple  # keys and indexes from the root to the value
    value: Any
    expected: Any  # the keyword's argument: a type list, an enum list, a limit, a format, a property name


def json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, (float, Decimal)):  # Decimal: a number parse.py keeps exact
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def shown(value: Any) -> str:
    # Only the start is shown, so only the start is written: a 100,000-item array must not cost milliseconds.
    if isinstance(value, list) and len(value) > 60:
        value = value[:60]
    elif isinstance(value, dict) and len(value) > 30:
        value = dict(islice(value.items(), 30))
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def got(value: Any) -> str:
    return f"got {json_kind(value)} {shown(value)}"


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _layout_reason(text: str, t: str) -> str:
    """What RFC 3339 and FT's validator both refuse: a space for the 'T' (spelled `t`), no zone, epoch numbers."""
    if re.match(r"^\d{4}-\d{2}-\d{2} \d", text):
        return "date and time must be separated by 'T', not a space"
    if re.match(rf"^\d{{4}}-\d{{2}}-\d{{2}}{t}[\d:.]+$", text):
        return "the time zone is missing (add Z for UTC)"
    if re.match(r"^\d+(\.\d+)?$", text):
        return "epoch numbers are not accepted; send an RFC 3339 string"
    return ""


def why_not_rfc3339(text: str) -> str:
    """The most likely reason a timestamp is not RFC 3339, for the hint after the message."""
    if not isinstance(text, str):
        return ""
    if re.search(r"[Tt ]\d:", text):
        return "the hour needs two digits (08, not 8)"
    common = _layout_reason(text, "[Tt]")
    if common:
        return common
    if _RFC3339.match(text):
        return "a date or time field is out of range"
    return "the layout must be YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM)"


def why_not_ft_date_time(text: str) -> str:
    """The most likely reason FT's validator (Go's time.Parse, see formats.py) refuses a date-time."""
    if not isinstance(text, str):
        return ""
    if re.search(r"\d[tz]|\dt\d", text) or text.endswith("z"):
        return "FT's validator reads 'T' and 'Z' in upper case only"
    common = _layout_reason(text, "T")
    if common:
        return common
    if re.search(r":60(\.\d+)?([Z+-]|$)", text):
        return "FT's validator takes no leap second (:60)"
    if re.match(r"^(\d{4}-\d{2}-\d{2})?T?\d{1,2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$", text) or \
            re.match(r"^\d{4}-\d{2}-\d{2}$", text):
        return "a date or time field is out of range"
    return "the layout must be YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM)"


def word(problem: Problem, required_by: dict[str, str] | None = None) -> tuple[str, str]:
    """(JSON Pointer, sentence) for one problem."""
    kw, loc, value, exp = problem.keyword, problem.location, problem.value, problem.expected
    name = str(loc[-1]) if loc else "the event"
    if kw == "required":
        where = pointer((*loc, exp))
        note = (required_by or {}).get(exp)
        return where, f"{exp}: required field is missing" + (f" ({note})" if note else "")
    if kw == "type":
        types = sorted(exp if isinstance(exp, list) else [exp], key=list(TYPE_NAMES).index)
        want = " or ".join(TYPE_NAMES.get(t, t) for t in types)
        hint = ""
        if "number" in types and isinstance(value, str):
            hint = " (send numbers unquoted)"
        elif "string" in types and isinstance(value, (int, float)) and not isinstance(value, bool):
            hint = f' (send it quoted: "{value}")'
        return pointer(loc), f"{name}: expected {want}, {got(value)}{hint}"
    if kw == "enum":
        options = list(exp)
        if len(options) > 8:
            near = difflib.get_close_matches(str(value).upper(), options, n=1)
            hint = f"; did you mean {near[0]}?" if near else ""
            return pointer(loc), (f"{name}: expected an ISO 4217 currency code such as EUR or USD, "
                                  f"{got(value)}{hint}")
        listed = ", ".join(shown(o) for o in options)
        case = next((o for o in options if isinstance(o, str) and isinstance(value, str)
                     and o.lower() == value.lower()), None)
        hint = f" (values are case-sensitive: {shown(case)})" if case else ""
        return pointer(loc), f"{name}: expected one of {listed}, {got(value)}{hint}"
    if kw == "format":
        if exp == "date-time":
            return pointer(loc), (f"{name}: expected an RFC 3339 date-time such as 2015-03-02T08:27:58.721607Z, "
                                  f"{got(value)}: {why_not_rfc3339(value)}")
        if exp == "ft-date-time":
            return pointer(loc), (f"{name}: expected a date-time FT's validator takes, such as "
                                  f"2015-03-02T08:27:58.721607Z, {got(value)}: {why_not_ft_date_time(value)}")
        return pointer(loc), f"{name}: expected a valid {exp}, {got(value)}"
    if kw == "minimum":
        return pointer(loc), f"{name}: expected a number >= {exp}, {got(value)}"
    if kw == "exclusiveMinimum":
        return pointer(loc), f"{name}: expected a number > {exp}, {got(value)}"
    if kw == "minLength":
        return pointer(loc), f"{name}: expected a non-empty string, {got(value)}" if exp == 1 else \
            f"{name}: expected at least {exp} characters, {got(value)}"
    return pointer(loc), f"{name}: breaks the schema's '{kw}' ({shown(exp)}), {got(value)}"


def to_violation(problem: Problem, required_by: dict[str, str] | None = None) -> Violation:
    path, message = word(problem, required_by)
    return Violation(f"schema.{problem.keyword}", path, message)
