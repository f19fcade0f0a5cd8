"""Builders and helpers shared by the player-account type tests."""
from __future__ import annotations

from tests.conftest import Client, now_iso

BASE = {"user_id": "u-1", "origin": "www.brand.com"}


def event(**overrides) -> dict:
    """A valid strict-profile event of any user_* type, timestamped now; None removes a field."""
    out = {**BASE, "timestamp": now_iso(), **overrides}
    return {k: v for k, v in out.items() if v is not None}


def found(verdict) -> set[tuple[str, str]]:
    return {(v.rule, v.path) for v in verdict.violations}


def rules(verdict) -> set[str]:
    return {v.rule for v in verdict.violations}


def schema_errors(verdict) -> set[tuple[str, str]]:
    return {(v.rule, v.path) for v in verdict.violations if v.rule.startswith("schema.")}


def source(verdict, path: str) -> str:
    return next(v.source for v in verdict.violations if v.path == path and v.rule.startswith("schema."))


def http_contract(server, marker: str, method: str, path: str, valid: dict, invalid: dict, wrong: str,
                  expect: tuple):
    """POST/PUT the valid (200) and the invalid (400, with `expect` among its violations) events over real
    HTTP, and the wrong method (405 naming the right one): the checks every type's REST test makes."""
    client = Client(server.url)
    status, body = client.request(method, path, valid)
    assert status == 200 and body["valid"], body
    status, body = client.request(method, path, invalid)
    assert status == 400 and not body["accepted"]
    assert expect in {(v["rule"], v["path"]) for v in body["violations"]}
    status, body = client.request(wrong, path, valid)
    assert status == 405 and f"{method} for {marker}" in body["message"], body
    return client
