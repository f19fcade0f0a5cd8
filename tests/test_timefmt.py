"""RFC 3339 text in: the usual `...Z` form goes through the C parser, every other one field by field;
both must read the same instant, and a valid text that UTC cannot hold is refused, never a crash."""
import itertools
from datetime import datetime, timedelta, timezone

import pytest

from simulator.core.timefmt import from_iso, iso, parse_rfc3339

from tests.conftest import casino_event

GRID = [f"{y}-{mo}-{d}T{h}:{mi}:{s}{frac}"
        for y, mo, d, h, mi, s, frac in itertools.product(
            ("2026", "0001", "9999", "2024"), ("01", "02", "12", "13"), ("01", "29", "30", "31"),
            ("00", "23", "24"), ("00", "59"), ("00", "59", "60", "61"),
            ("", ".1", ".123456", ".1234567", "."))]


def test_the_z_form_reads_the_instant_its_offset_form_reads():
    # "+00:00" never takes the fast path, so this compares the C parser with the field-by-field one
    for text in GRID:
        fast, slow = parse_rfc3339(text + "Z"), parse_rfc3339(text + "+00:00")
        assert fast == slow, text
        assert fast is None or fast.tzinfo is timezone.utc, text


@pytest.mark.parametrize("text,expected", [
    ("2026-12-03T12:51:13.123456789Z", "2026-12-03T12:51:13.123456Z"),  # beyond microseconds: cut, not rounded
    ("2026-12-03t12:51:13z", "2026-12-03T12:51:13.000000Z"),
    ("2026-12-31T23:59:60Z", "2026-12-31T23:59:59.999999Z"),  # a leap second
    ("2026-12-03T14:51:13+02:00", "2026-12-03T12:51:13.000000Z"),
])
def test_every_accepted_form_is_read_as_utc(text, expected):
    assert iso(parse_rfc3339(text)) == expected


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-01:00",
                                  "2026-02-30T00:00:00Z", "2026-12-03T24:00:00Z", "2026-12-03 12:51:13Z"])
def test_what_utc_cannot_hold_or_rfc3339_does_not_allow_is_no_time(text):
    assert parse_rfc3339(text) is None


def test_a_timestamp_before_year_one_in_utc_is_a_verdict_not_an_internal_error(judge):
    verdict = judge(casino_event(timestamp="0001-01-01T00:00:00+14:00"))
    assert "ftsim.internal" not in {v.rule for v in verdict.violations}


@pytest.mark.parametrize("dt", [
    datetime(2026, 12, 3, 16, 29, 45, 123456, tzinfo=timezone.utc),
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc),  # no microseconds: still six places
    datetime(987, 6, 5, 4, 3, 2, 1, tzinfo=timezone.utc),  # a year of three digits: still four
    datetime(2026, 12, 3, 18, 0, 0, 5, tzinfo=timezone(timedelta(hours=2))),  # another offset: told in UTC
])
def test_stored_times_are_fixed_width_utc_text_that_reads_back_as_the_same_instant(dt):
    text = iso(dt)
    assert len(text) == 27 and text.endswith("Z") and text[10] == "T"
    assert text == dt.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
    assert from_iso(text) == dt
