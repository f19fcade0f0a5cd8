"""A new event type is one folder's worth of objects: a throwaway type, defined only here, is judged
over REST and by marker, keeps state, adds its rule ids and a checklist item, and nothing else changes."""
from __future__ import annotations

import json

import pytest

from simulator.contract.plugin import EventType, ReadinessItem, RuleInfo
from simulator.contract.registry import Registry, load_registry
from simulator.core.envelope import Envelope
from simulator.core.violations import Violation
from simulator.report import readiness
from simulator.report.query import summary
from simulator.runtime import Runtime
from simulator.serve import Server

from tests.conftest import Client, casino_event, now_iso

SCHEMA = {"$defs": {"strict": {
    "type": "object", "required": ["boost_id", "user_id", "factor", "timestamp"],
    "properties": {"boost_id": {"type": "string", "minLength": 1}, "user_id": {"type": "string", "minLength": 1},
                   "factor": {"type": "number"}, "timestamp": {"type": "string", "format": "date-time"}},
    "x-sources": {"*": "a test"}}}}


def too_big(facts):
    if facts.payload.get("factor", 0) > 10:
        yield Violation("boost.factor", "/factor", f"factor: expected at most 10, got {facts.payload['factor']}")


class Boosts:
    """Counts each user's boosts; the second boost of a user is refused by a stateful rule."""

    def judge(self, tx, facts):
        user = facts.payload["user_id"]
        seen = tx.get("boost", user)
        if seen is not None:
            return [Violation("boost.again", "/user_id", f"user_id: {user} was boosted before")], None
        return [], user

    def apply(self, tx, user):
        tx.put("boost", user, {"boosts": 1}, user_id=user, status="boosted")


BOOSTED = ReadinessItem("boosts.some", "Some user boosted",
                        lambda store: {"boosted": store.entity_counts("boost").get("boosted", 0)},
                        lambda ev: (ev["boosted"] > 0, f"{ev['boosted']} users boosted"))

BOOST = EventType(name="boost", marker="WAGER_BOOST", document=SCHEMA, method="POST", path="/v1/integration/boost",
                  ref="boost_id", keys=("boost_id",), rules=(too_big,), book=Boosts(), readiness=(BOOSTED,),
                  identity=lambda p: p.get("boost_id"),
                  rule_info=(RuleInfo("boost.factor", "error", "A boost factor above 10."),
                             RuleInfo("boost.again", "warning", "A user boosted twice.")))


def boost(**overrides):
    return {"boost_id": "b1", "user_id": "u1", "factor": 2, "timestamp": now_iso(), **overrides}


@pytest.fixture
def boosted(make_settings):
    runtime = Runtime(make_settings(), registry=Registry([*load_registry(), BOOST]))
    server = Server(runtime.settings, runtime).start()
    yield server, Client(server.url)
    server.stop()


def test_the_type_is_served_at_its_method_and_path(boosted):
    server, client = boosted
    assert client.request("POST", "/v1/integration/boost", boost())[0] == 200
    status, body = client.request("POST", "/v1/integration/boost", boost(boost_id="b2", user_id="u2", factor=11))
    assert status == 400 and [v["rule"] for v in body["violations"]] == ["boost.factor"]
    status, body = client.request("PUT", "/v1/integration/boost", boost(boost_id="b3"))
    assert status == 405 and "POST for WAGER_BOOST" in body["message"]


def test_its_schema_rules_state_and_identity_apply_by_marker(boosted):
    server, _ = boosted
    one = server.runtime.intake.one

    def send(payload):
        return one(Envelope("rabbit", json.dumps(payload).encode(), "WAGER_BOOST"))
    missing = send({"boost_id": "b1", "user_id": "u1", "timestamp": boost()["timestamp"]})
    assert [(v.rule, v.path, v.source) for v in missing.violations] == [("schema.required", "/factor", "a test")]
    first = boost()
    assert send(first).valid
    assert [v.rule for v in send(first).violations] == ["activity.retry"]  # same id, same payload
    assert [v.rule for v in send(boost(factor=3)).violations] == ["activity.duplicate"]
    again = send(boost(boost_id="b9"))
    assert again.valid and [(v.rule, v.severity) for v in again.violations] == [("boost.again", "warning")]
    assert send(casino_event()).valid is False  # a casino body under the boost marker: the boost schema judges it


def test_its_rules_and_checklist_item_join_the_catalog(boosted):
    server, client = boosted
    client.request("POST", "/v1/integration/boost", boost())
    rules = {r["rule"] for r in client.get("/api/rules")[1]["rules"]}
    assert {"boost.factor", "boost.again", "amount.sum"} <= rules
    facts = readiness.gather(server.runtime, summary(server.runtime))
    verdict = readiness.evaluate(facts, registry=server.runtime.registry)
    item = next(i for i in verdict["items"] if i["id"] == "boosts.some")
    assert item["status"] == "passed" and item["detail"] == "1 users boosted"


def test_the_discovered_registry_does_not_know_it():
    assert load_registry().for_marker("WAGER_BOOST") is None
    assert "/v1/integration/boost" not in load_registry().routes
