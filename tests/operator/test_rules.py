"""The judge's rules one by one, each with a trip and a pass, and the OAuth refresh before expires_in."""
from __future__ import annotations

import pytest

from simulator.contract.catalog import CATALOG
from simulator.operator.auth import OAuth
from simulator.operator.client import OperatorClient
from simulator.operator.crosscheck import cross_check
from simulator.operator.endpoints import ENDPOINTS
from simulator.operator.judge import cache_violations, judge
from simulator.operator.wire import Answer

RULES = ["operator.status", "operator.schema.*", "operator.timeout", "operator.unreachable", "operator.cache",
         "operator.auth", "operator.content_type", "operator.redirect", "operator.not_json", "operator.user_mismatch",
         "operator.token", "operator.currency", "operator.stale"]


def test_every_operator_rule_is_in_the_catalog_with_a_default_severity():
    for rule in RULES:
        assert CATALOG[rule].severity in ("error", "warning"), rule


@pytest.mark.parametrize("header", ["no-store", "no-cache, no-store, must-revalidate", "max-age=0", "private, no-cache"])
def test_cache_control_that_forbids_caching_passes(header):
    assert cache_violations("GET /userdetails", header) == []


@pytest.mark.parametrize("header", [None, "public, max-age=300", "private, max-age=60", "max-age=60", "public",
                                    "no-store, max-age=10"])
def test_cache_control_that_allows_caching_trips(header):
    assert [v.rule for v in cache_violations("GET /userdetails", header)] == ["operator.cache"]


JSON = {"content-type": "application/json", "cache-control": "no-store"}


@pytest.mark.parametrize("answer,rule", [
    (Answer(500, JSON, b'{"error": "x", "code": 500}'), "operator.status"),
    (Answer(404, JSON, b""), "operator.status"),
    (Answer(302, {"location": "/x"}), "operator.redirect"),
    (Answer(401, JSON), "operator.auth"),
    (Answer(403, JSON), "operator.auth"),
    (Answer(None, failure="timeout", detail="no answer within 5 s"), "operator.timeout"),
    (Answer(None, failure="unreachable", detail="refused"), "operator.unreachable"),
    (Answer(200, JSON, b"[1, 2]"), "operator.not_json"),
    (Answer(200, JSON, b""), "operator.not_json"),
    (Answer(200, {**JSON, "content-type": "text/plain"}, b'{"blocks": []}'), "operator.content_type"),
])
def test_each_transport_rule_trips(answer, rule):
    found, _ = judge(ENDPOINTS["userblocks"], answer, user_id="u")
    assert rule in {v.rule for v in found}


def blocks(**first):
    return {"blocks": [{"type": "Excluded", "active": False, "note": "", **first},
                       {"type": "Blocked", "active": True, "note": "support"}]}


def test_blocks_schema_pass_and_trips():
    import json

    ok, _ = judge(ENDPOINTS["userblocks"], Answer(200, JSON, json.dumps(blocks()).encode()))
    assert ok == []
    for body, rule, path in [(blocks(type="Paused"), "operator.schema.enum", "/blocks/0/type"),
                             (blocks(active="yes"), "operator.schema.type", "/blocks/0/active"),
                             ({"blocks": blocks()["blocks"][:1]}, "operator.schema.minItems", "/blocks"),
                             ({**blocks(), "extra": 1}, "operator.schema.additionalProperties", "")]:
        found, _ = judge(ENDPOINTS["userblocks"], Answer(200, JSON, json.dumps(body).encode()))
        assert (rule, path) in {(v.rule, v.path) for v in found}, (found, rule)


def test_user_mismatch_passes_for_the_same_user():
    import json

    body = json.dumps({"user_id": "u-1"}).encode()
    assert judge(ENDPOINTS["authenticate"], Answer(200, JSON, body), user_id="u-1")[0] == []
    assert [v.rule for v in judge(ENDPOINTS["authenticate"], Answer(200, JSON, body), user_id="u-2")[0]] == [
        "operator.user_mismatch"]


def test_cross_checks_currency_and_stale():
    assert cross_check("userdetails", {"currency": "EUR"}, {}, {"EUR"}) == []
    assert cross_check("userdetails", {"currency": "EUR"}, {}, set()) == []  # nothing to compare with
    assert [v.rule for v in cross_check("userdetails", {"currency": "EUR"}, {}, {"SEK"})] == ["operator.currency"]
    event = {"blocks": [{"type": "Blocked", "active": True}]}
    assert cross_check("userblocks", blocks(), event, set()) == []
    stale = cross_check("userblocks", {"blocks": [{"type": "Blocked", "active": False}]}, event, set())
    assert [(v.rule, v.path) for v in stale] == [("operator.stale", "/blocks/0/active")]
    consents = {"consents": [{"type": "email", "opted_in": False}]}
    assert cross_check("userconsents", consents, consents, set()) == []
    assert [v.rule for v in cross_check("userconsents", {"consents": [{"type": "email", "opted_in": True}]},
                                        consents, set())] == ["operator.stale"]


def test_severity_overrides_apply_to_operator_rules(operator_url):
    from simulator.core.violations import Severities

    client = OperatorClient(operator_url, severities=Severities({}, {"operator.auth": "warning"}))
    call = client.call("userdetails", "u-1")  # no key: 401
    assert [(v.rule, v.severity) for v in call.violations] == [("operator.auth", "warning")] and call.valid


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_oauth_token_is_refreshed_before_expires_in(start_operator):
    url = start_operator("--client-id", "ftsim", "--client-secret", "s3cret", "--token-ttl", "100")
    clock = Clock()
    auth = OAuth(url + "/oauth/token", "ftsim", "s3cret", clock=clock)
    client = OperatorClient(url, auth)
    assert client.call("userdetails", "u-1").violations == [] and auth.fetched == 1
    clock.now += 70  # 70 of 100 s: the token is still used
    assert client.call("userdetails", "u-1").violations == [] and auth.fetched == 1
    clock.now += 15  # 85 of 100 s: past the refresh point, a new one is fetched before the call
    assert client.call("userdetails", "u-1").violations == [] and auth.fetched == 2


def test_a_refused_token_is_replaced_once(start_operator):
    """The operator's clock says the token expired (ttl 0.001 s) though ours does not: one fresh token,
    then a second 401 is the finding."""
    url = start_operator("--client-id", "ftsim", "--client-secret", "s3cret", "--token-ttl", "0.000001")
    auth = OAuth(url + "/oauth/token", "ftsim", "s3cret", clock=Clock())
    call = OperatorClient(url, auth).call("userdetails", "u-1")
    assert auth.fetched == 2 and [v.rule for v in call.violations] == ["operator.auth"]


def test_secrets_are_not_in_reprs():
    from simulator.settings import load_settings

    s = load_settings(None, env={}, operator_api="http://x", operator_oauth="http://x/t", operator_client_id="id",
                      operator_client_secret="s3cret-value")
    assert "s3cret-value" not in repr(s)
    assert "s3cret-value" not in repr(OAuth("http://x/t", "id", "s3cret-value"))
