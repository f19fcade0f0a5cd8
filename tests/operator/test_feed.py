"""`ftsim serve --operator-api`: user events trigger the CRM's calls off the intake path, linked to the message
that caused them, cross-checked, stored, and shown in /api/operator-calls, the summary and readiness."""
from __future__ import annotations

import json

import pytest

from simulator.core.envelope import Envelope
from simulator.report import query, readiness
from simulator.runtime import Runtime
from tests.conftest import Client, casino_event
from tests.types._users import event

KEY = "op-key-123"


@pytest.fixture
def make_runtime(make_settings):
    made = []

    def make(url, **flags):
        flags.setdefault("operator_api_key", KEY)
        made.append(Runtime(make_settings(operator_api=url, **flags)))
        return made[-1]
    yield make
    for rt in made:
        rt.close()


def send(rt, marker, payload):
    return rt.intake.one(Envelope("rest", json.dumps(payload).encode(), marker))


def calls(rt, **filters):
    assert rt.operator.wait_idle(30)
    return rt.store.operator_calls(newest_first=False, **filters)[0]


def test_each_user_event_calls_its_endpoints_linked_to_the_message(operator_url, make_runtime):
    rt = make_runtime(operator_url)
    created = send(rt, "USER_CREATE_V2", event(user_id="u-1"))
    updated = send(rt, "USER_UPDATE_V2", event(user_id="u-1"))
    consents = send(rt, "USER_CONSENTS_V2", event(user_id="u-1"))
    blocked = send(rt, "USER_BLOCK_V2", event(user_id="u-1"))
    assert all(v.valid for v in (created, updated, consents, blocked))
    made = calls(rt)
    by_message = {}
    for c in made:
        by_message.setdefault(c["message_id"], []).append(c["endpoint"])
    assert sorted(by_message[created.id]) == ["userblocks", "userconsents", "userdetails"]
    assert by_message[updated.id] == ["userdetails"]
    assert by_message[consents.id] == ["userconsents"]
    assert by_message[blocked.id] == ["userblocks"]
    assert all(c["valid"] and c["status"] == 200 and c["user_id"] == "u-1" and c["violations"] == [] for c in made)
    assert json.loads(made[0]["body"])  # the answer is kept


def test_refused_events_and_other_types_call_nothing(operator_url, make_runtime):
    rt = make_runtime(operator_url)
    send(rt, "USER_CREATE_V2", event(user_id="u-1", origin=None))  # invalid: the CRM would not act on it
    send(rt, "CASINO", casino_event(user_id="u-1"))
    assert calls(rt) == []


def test_a_faulty_operator_is_judged_and_intake_goes_on(start_operator, make_runtime):
    rt = make_runtime(start_operator("--api-key", KEY, "--fault", "wrong-user"))
    assert send(rt, "USER_UPDATE_V2", event(user_id="u-1")).valid
    (call,) = calls(rt)
    assert not call["valid"] and [v["rule"] for v in call["violations"]] == ["operator.user_mismatch"]


def test_currency_cross_check(operator_url, make_runtime):
    rt = make_runtime(operator_url)  # the example operator says EUR for everyone
    send(rt, "CASINO", casino_event(user_id="eur-1", currency="EUR"))
    send(rt, "CASINO", casino_event(user_id="sek-1", currency="SEK"))
    send(rt, "USER_UPDATE_V2", event(user_id="eur-1"))
    send(rt, "USER_UPDATE_V2", event(user_id="sek-1"))
    assert calls(rt, user_id="eur-1")[0]["violations"] == []
    (bad,) = calls(rt, user_id="sek-1")
    assert [(v["rule"], v["severity"]) for v in bad["violations"]] == [("operator.currency", "warning")]


def test_a_block_or_consent_event_is_followed_by_an_answer_that_shows_it(operator_url, make_runtime):
    rt = make_runtime(operator_url)
    blocked = [{"type": "Blocked", "active": True, "note": "support"}]
    opt_out = [{"type": "email", "opted_in": False}]
    send(rt, "USER_BLOCK_V2", event(user_id="blocked-1", blocks=blocked))  # the operator shows it
    send(rt, "USER_BLOCK_V2", event(user_id="u-2", blocks=blocked))  # the operator does not
    send(rt, "USER_CONSENTS_V2", event(user_id="optout-1", consents=opt_out))
    send(rt, "USER_CONSENTS_V2", event(user_id="u-3", consents=opt_out))
    assert calls(rt, user_id="blocked-1")[0]["violations"] == []
    assert calls(rt, user_id="optout-1")[0]["violations"] == []
    for user, path in (("u-2", "/blocks/1/active"), ("u-3", "/consents/0/opted_in")):
        (call,) = calls(rt, user_id=user)
        assert [(v["rule"], v["path"]) for v in call["violations"]] == [("operator.stale", path)]


def test_a_full_queue_drops_and_counts_and_loses_no_message(start_operator, make_runtime, caplog):
    url = start_operator("--api-key", KEY, "--fault", "slow", "--delay", "1")
    rt = make_runtime(url, operator_queue=1, operator_workers=1, operator_rate=0)
    verdicts = [send(rt, "USER_CREATE_V2", event(user_id=f"q-{n}")) for n in range(6)]
    assert all(v.valid for v in verdicts)
    assert rt.store.counts()["received"] == 6  # intake kept every message
    op = query.summary(rt)["operator"]
    # One in flight at most, one waiting: at least four events found the queue full.
    assert op["dropped"]["events"] >= 4 and op["dropped"]["calls"] == 3 * op["dropped"]["events"]
    assert "queue full" in caplog.text
    items = {i["id"]: i for i in readiness.evaluate(readiness.gather(rt, query.summary(rt)))["items"]}
    assert "calls dropped (queue full)" in items["operator.userdetails"]["detail"]


def test_summary_readiness_and_the_query_api(operator_url, start_server):
    server = start_server(operator_api=operator_url, operator_api_key=KEY)
    rt = server.runtime
    for n in range(3):
        send(rt, "USER_CREATE_V2", event(user_id=f"u-{n}"))
    assert rt.operator.wait_idle(30)
    client = Client(server.url)
    status, summary = client.get("/api/summary")
    op = summary["operator"]
    assert status == 200 and op["calls"] == 9 and op["failed"] == 0 and op["failures_by_rule"] == {}
    assert op["latency_ms"]["p50"] is not None and op["latency_ms"]["p99"] >= op["latency_ms"]["p50"]
    assert op["auth"] == "api-key" and KEY not in json.dumps(summary)
    status, page = client.get("/api/operator-calls?endpoint=userdetails&limit=2")
    assert status == 200 and page["total"] == 3 and len(page["calls"]) == 2
    assert {c["endpoint"] for c in page["calls"]} == {"userdetails"}
    _, page = client.get("/api/operator-calls?user_id=u-1")
    assert page["total"] == 3 and {c["user_id"] for c in page["calls"]} == {"u-1"}
    _, page = client.get("/api/operator-calls?valid=false")
    assert page["total"] == 0
    _, page = client.get("/api/operator-calls?limit=5&offset=5")
    assert page["total"] == 9 and len(page["calls"]) == 4
    assert KEY not in json.dumps(page)
    items = {i["id"]: i for i in readiness.evaluate(readiness.gather(rt, query.summary(rt)))["items"]}
    for item in ("operator.userdetails", "operator.consents", "operator.blocks", "operator.latency"):
        assert items[item]["status"] == "passed", items[item]


def test_readiness_fails_on_a_broken_operator_and_is_absent_without_one(start_operator, make_runtime, runtime):
    rt = make_runtime(start_operator("--api-key", KEY, "--fault", "500"))
    send(rt, "USER_CREATE_V2", event(user_id="u-1"))
    assert rt.operator.wait_idle(30)
    result = readiness.evaluate(readiness.gather(rt, query.summary(rt)))
    items = {i["id"]: i for i in result["items"]}
    assert {items[i]["status"] for i in ("operator.userdetails", "operator.consents", "operator.blocks")} == {"failed"}
    assert items["operator.userdetails"]["detail"] == "1 calls, 1 with an error"
    assert not result["passed"]
    plain = readiness.evaluate(readiness.gather(runtime, query.summary(runtime)))
    assert not any(i["id"].startswith("operator.") for i in plain["items"])
    assert "operator" not in query.summary(runtime)


def test_latency_item_fails_on_timeouts(start_operator, make_runtime):
    rt = make_runtime(start_operator("--api-key", KEY, "--fault", "slow", "--delay", "1"), operator_timeout=0.2)
    send(rt, "USER_UPDATE_V2", event(user_id="u-1"))
    (call,) = calls(rt)
    assert [v["rule"] for v in call["violations"]] == ["operator.timeout"]
    items = {i["id"]: i for i in readiness.evaluate(readiness.gather(rt, query.summary(rt)))["items"]}
    assert items["operator.latency"]["status"] == "failed" and "1 calls timed out" in items["operator.latency"]["detail"]


def test_oauth_through_the_feed(start_operator, make_runtime):
    url = start_operator("--client-id", "ftsim", "--client-secret", "s3cret")
    rt = make_runtime(url, operator_api_key=None, operator_oauth=url + "/oauth/token", operator_client_id="ftsim",
                      operator_client_secret="s3cret")
    send(rt, "USER_CREATE_V2", event(user_id="u-1"))
    made = calls(rt)
    assert len(made) == 3 and all(c["valid"] for c in made) and rt.operator.auth.fetched == 1
    assert "s3cret" not in json.dumps(query.summary(rt))
