"""Helpers for the product types' tests (sportsbook, lottery, cart, game, custom, poker)."""
from __future__ import annotations

from itertools import count

from tests.conftest import now_iso

_ids = count(1)


def next_id() -> int:
    return next(_ids)


def build(base: dict, overrides: dict) -> dict:
    """base with overrides; an override of None removes the field."""
    out = {**base, **overrides}
    return {k: v for k, v in out.items() if v is not None}


def rules(verdict) -> set[tuple[str, str]]:
    return {(v.rule, v.path) for v in verdict.violations}


def rule_ids(verdict) -> set[str]:
    return {v.rule for v in verdict.violations}


def only(verdict, rule: str):
    [found] = [v for v in verdict.violations if v.rule == rule]
    return found


def errors(body: dict) -> set[tuple[str, str]]:
    return {(v["rule"], v["path"]) for v in body["violations"] if v["severity"] == "error"}


__all__ = ["now_iso", "next_id", "build", "rules", "rule_ids", "only", "errors"]
