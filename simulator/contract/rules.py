"""Rules every event type shares, judging one event on its own: small functions in a registry.

A type's own stateless rules live in its folder (`EventType.rules`) and run after these; rules that need
what came before live in the type's book, because they read and change stored state.
"""
from __future__ import annotations

import difflib
import re
from datetime import timedelta
from itertools import islice

from simulator.contract.formats import ft_date_time
from simulator.contract.plugin import Facts, Rule
from simulator.core.timefmt import parse_rfc3339
from simulator.core.violations import Violation, pointer

FUTURE_SKEW = timedelta(seconds=5)
SUGGEST_MAX = 5  # unknown fields worded one by one with a suggestion (~135 us each); the rest are summed up
LISTED_MAX = 5  # of the rest, the names shown in the summary
RULES: list[Rule] = []


def rule(fn: Rule) -> Rule:
    RULES.append(fn)
    return fn


def check(facts: Facts) -> list[Violation]:
    """The shared rules, then the type's own. A rule returns any iterable; the shared ones and casino's
    return a list, or () when they find nothing (what they do for nearly every message): a generator
    would be made and run for nothing, five times a casino message."""
    found: list[Violation] = []
    for fn in RULES:
        more = fn(facts)
        if more:
            found += more
    for fn in facts.event_type.rules:
        found += fn(facts)
    return found


@rule
def unknown_fields(f: Facts):
    fields = f.event_type.fields
    extra = f.payload.keys() - fields  # a set operation in C: a 100,000-key body costs milliseconds, not seconds
    if not extra:
        return ()
    names = [name for name in f.payload if name in extra] if len(extra) <= SUGGEST_MAX else None
    if names is None:  # the first few in the sender's order, without walking all of them in Python
        names = list(islice((name for name in f.payload if name in extra), SUGGEST_MAX + LISTED_MAX))
    known, found = sorted(fields), []
    for name in names[:SUGGEST_MAX]:
        near = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        found.append(Violation("payload.unknown_field", "/" + name.replace("~", "~0").replace("/", "~1"),
                               f"{name}: not a field of the contract, ignored by the CRM{hint}"))
    rest = len(extra) - SUGGEST_MAX
    if rest > 0:
        listed = ", ".join(repr(n[:40]) for n in names[SUGGEST_MAX:])
        more = ", ..." if rest > LISTED_MAX else ""
        found.append(Violation("payload.unknown_field", "",
                               f"body: {rest} more fields that are not in the contract, ignored by the CRM "
                               f"(not suggested for, one by one): {listed}{more}"))
    return found


@rule
def latency(f: Facts):
    if f.timestamp is None:
        return ()
    late = (f.received_at - f.timestamp).total_seconds()
    if late > f.latency_budget:
        return [Violation("latency.budget", "/timestamp",
                          f"timestamp: received {late:.3f} s after the event, expected within "
                          f"{f.latency_budget:g} s")]
    elif f.timestamp - f.received_at > FUTURE_SKEW:
        ahead = (f.timestamp - f.received_at).total_seconds()
        return [Violation("timestamp.future", "/timestamp",
                          f"timestamp: {ahead:.3f} s ahead of the time it was received; "
                          f"expected the time the event happened (check the sender's clock and time zone)")]
    return ()


def _lax_reason(text: str) -> str:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return "a bare date, with no time or time zone"
    if re.fullmatch(r"\d{1,2}:\d{2}:\d{2}(\.\d+)?", text):
        return "a bare time, with no date or time zone"
    if re.match(r"^\d{1,2}:", text):
        return "a bare time, with no date"
    return "the hour has one digit (RFC 3339 needs two: 08, not 8)"


@rule
def lax_timestamps(f: Facts):
    """Under a profile whose date-times are FT's (`ft-date-time`): a value FT's validator takes that RFC 3339
    does not, such as the docs' own one-digit hour. Not an error there, but ftsim cannot read a time from it."""
    found = []
    for at in f.event_type.format_paths(f.profile, "ft-date-time"):
        value = f.payload
        for name in at:
            value = value.get(name) if isinstance(value, dict) else None
        if not isinstance(value, str) or parse_rfc3339(value) is not None or not ft_date_time(value):
            continue
        name = at[-1]
        unread = ("; ftsim reads no time from it: latency is not judged, and state built from the event's time "
                  "(casino rounds) leaves it out") if at == ("timestamp",) else ""
        found.append(Violation("timestamp.lax", pointer(at),
                               f"{name}: FT's validator takes {value!r}, but it is not RFC 3339: "
                               f"{_lax_reason(value)}; expected a date-time such as 2015-03-02T08:27:58.721607Z "
                               f"(the strict and lenient profiles refuse it){unread}"))
    return found


@rule
def empty_ref(f: Facts):
    """An empty id for the event (casino's activity_id) where the profile's schema lets it through (FT's
    validator does): ftsim refuses it under every profile, because retries and duplicates are found by it."""
    ref = f.event_type.ref
    if ref is None or f.payload.get(ref) != "" or f.event_type.refuses_empty(f.profile, ref):
        return ()
    return [Violation("activity.empty_id", pointer((ref,)),
                      f"{ref}: expected a non-empty id, got an empty string; FT's validator accepts it, ftsim "
                      f"refuses it because an event without an id cannot be de-duplicated: its retries cannot be "
                      f"told from new events")]
