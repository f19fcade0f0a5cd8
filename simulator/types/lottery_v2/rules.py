"""The lines shape's stateless rules: each line once, and matched numbers are numbers played."""
from __future__ import annotations

from simulator.contract.plugin import Facts
from simulator.core.violations import Violation
from simulator.types._wagers import each_index


def line_duplicate(f: Facts):
    seen: dict = {}
    for where, line in each_index(f.payload.get("lines"), "lines"):
        lid = line.get("line_id")
        if isinstance(lid, bool) or not isinstance(lid, (int, float)):
            continue
        if lid in seen:
            yield Violation("lottery_v2.line_duplicate", f"{where}/line_id",
                            f"line_id: expected a line_id once per ticket, got {lid} again (first at {seen[lid]})")
        else:
            seen[lid] = where


def matched_not_played(f: Facts):
    for where, line in each_index(f.payload.get("lines"), "lines"):
        for matched, played in (("matched_numbers", "numbers"), ("matched_special_numbers", "special_numbers")):
            got, have = line.get(matched), line.get(played)
            if not isinstance(got, list) or not isinstance(have, list):
                continue
            extra = [n for n in got if n not in have]
            if extra:
                yield Violation("lottery_v2.matched_not_played", f"{where}/{matched}",
                                f"{matched}: expected numbers from the line's {played} {have}, got {extra} not played")
