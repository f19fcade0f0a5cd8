"""Violations and severities: the one shape every problem ftsim finds is reported in.

A violation is data, not an exception: intake collects all of them for a message, so a sender sees every
problem at once, each with a stable rule id and a JSON Pointer to the offending value.
"""
from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Mapping

LEVELS = ("error", "warning", "info", "off")


@dataclass(frozen=True, slots=True)
class Violation:
    rule: str
    path: str
    message: str
    severity: str = "error"
    source: str = ""  # who demands it, for schema violations: "spec 000", "spec 001", "FT's validator"

    def as_dict(self) -> dict:
        out = {"rule": self.rule, "path": self.path, "message": self.message, "severity": self.severity}
        if self.source:
            out["source"] = self.source
        return out


def pointer(parts) -> str:
    """JSON Pointer (RFC 6901) for a sequence of keys and indexes; '' is the whole document."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


class Severities:
    """Resolves a rule id to its severity: exact override, then glob override (`schema.*`), then default."""

    def __init__(self, defaults: Mapping[str, str], overrides: Mapping[str, str] | None = None):
        self._defaults = dict(defaults)
        self._exact: dict[str, str] = {}
        self._globs: list[tuple[str, str]] = []
        for rule, level in (overrides or {}).items():
            if level not in LEVELS:
                raise ValueError(f"severity for {rule!r} must be one of {', '.join(LEVELS)}, got {level!r}")
            if any(c in rule for c in "*?["):
                self._globs.append((rule, level))
            else:
                self._exact[rule] = level
        self._cache: dict[str, str] = {}

    def of(self, rule: str) -> str:
        level = self._cache.get(rule)
        if level is None:
            level = self._exact.get(rule)
            if level is None:
                level = next((lv for pat, lv in self._globs if fnmatchcase(rule, pat)), None)
            if level is None:
                level = self._defaults.get(rule) or self._defaults.get(rule.split(".", 1)[0] + ".*", "error")
            self._cache[rule] = level
        return level

    def stamp(self, found) -> list[Violation]:
        """Give each found violation its configured severity and drop the ones switched off."""
        out = []
        for v in found:
            level = self.of(v.rule)
            if level != "off":
                out.append(v if v.severity == level else Violation(v.rule, v.path, v.message, level, v.source))
        return out


MAX_PER_MESSAGE = 50  # violations stored per message; the rest become one summary
_RANK = {"error": 0, "warning": 1, "info": 2}


def capped(found: list[Violation], limit: int = MAX_PER_MESSAGE) -> list[Violation]:
    """At most `limit` violations and one `ftsim.truncated` standing for the rest, as severe as the worst of
    them: a hostile body must not cost thousands of stored rows, and a reader needs the first few anyway."""
    if len(found) <= limit:
        return found
    rest = found[limit:]
    counts: dict[str, int] = {}
    for v in rest:
        counts[v.rule] = counts.get(v.rule, 0) + 1
    worst = min((v.severity for v in rest), key=lambda s: _RANK.get(s, 0))
    by_rule = ", ".join(f"{rule} x{n}" for rule, n in sorted(counts.items(), key=lambda kv: -kv[1])[:5])
    more = ", ..." if len(counts) > 5 else ""
    return found[:limit] + [Violation("ftsim.truncated", "", f"body: {len(rest)} more violations not listed "
                                                             f"({by_rule}{more})", worst)]
