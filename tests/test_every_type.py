"""Every installed event type over every channel, driven by the registry: a new type is covered the day its
folder lands, and one without a scenario generator fails here.

Per type, over real REST: a valid message from its generator is 200 at its method and path, the same with
a field its strict profile requires left out is 400 with schema.required at that field; a brokers-only type
is 404 at the integration paths its name suggests and taken by its marker over RabbitMQ instead. Over real
RabbitMQ and real Kafka: one stream mixing a message of every type, each stored valid as its own type.
"""
from __future__ import annotations

import json
import random
import urllib.error
import urllib.request
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from faker import Faker

from simulator.clients.scenario import load_scenario, take
from simulator.clients.scenario.context import PlayerContext
from simulator.clients.scenario.journeys import Ids, Wallet
from simulator.clients.scenario.render import dumps
from simulator.clients.sender import deliver, open_channel
from simulator.clients.sender.base import Outgoing
from simulator.contract.registry import load_registry
from simulator.contract.validate import PythonValidator
from simulator.core.timefmt import iso
from tests.brokers import api, wait_for

REGISTRY = load_registry()
TYPES = list(REGISTRY)
BROKERS_ONLY = [t for t in TYPES if t.path is None]


def context(t, namespace: str) -> PlayerContext:
    ids = Ids(namespace)
    fake = Faker()
    fake.seed_instance(7)
    return PlayerContext(f"{namespace}-{t.name}", "EUR", Decimal("1"), "MT",
                         Wallet(Decimal("100.00"), Decimal("20.00"), Decimal("0.00")), random.Random(7), fake,
                         lambda: datetime.now(timezone.utc), "www.brand.example", namespace, ids.make)


def sample(t, namespace: str = "every") -> dict:
    """The first message the type's generator gives for a player with money, stamped now (casino's rounds
    are the scenario engine's own: the first event of a casino-only scenario)."""
    if t.generate is None:
        if t.name != "casino":
            pytest.fail(f"{t.name}: no scenario generator; add simulator/types/{t.name}/scenario.py")
        payload = take(load_scenario("steady"), 1, namespace)[0].payload
    else:
        payload = t.generate(context(t, namespace))[0]
    if "timestamp" in payload:
        payload = {**payload, "timestamp": iso(datetime.now(timezone.utc))}
    assert REGISTRY.for_marker(t.marker, payload) is t  # a shared marker (LOTTERY_V2) picks this shape
    return payload


def without_a_required_field(t, payload: dict) -> tuple[str, dict]:
    """The payload less the first field (by name) whose absence the strict profile reports as schema.required."""
    validator = PythonValidator(t, "strict")
    for name in sorted(payload):
        rest = {k: v for k, v in payload.items() if k != name}
        if any(v.rule == "schema.required" and v.path == f"/{name}" for v in validator.violations(rest)):
            return name, rest
    pytest.fail(f"{t.name}: the strict profile requires none of the fields its generator sends")


def post(url: str, method: str, payload: dict) -> tuple[int, dict]:
    req = urllib.request.Request(url, dumps(payload), {"Content-Type": "application/json"}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def errors(violations) -> list:
    return [v for v in violations if v["severity"] == "error"]


def test_every_type_is_covered_and_the_generators_give_strict_valid_messages():
    assert len(TYPES) >= 22 and {t.name for t in TYPES if t.generate is None} <= {"casino"}
    for t in TYPES:
        assert PythonValidator(t, "strict").violations(sample(t)) == [], t.name


@pytest.mark.parametrize("t", [t for t in TYPES if t.path is not None], ids=lambda t: t.name)
def test_rest_takes_a_valid_message_of_each_type_at_its_path_and_names_a_missing_field(t, start_server):
    server = start_server()
    payload = sample(t)
    status, answer = post(server.url + t.path, t.method, payload)
    assert (status, answer["valid"], errors(answer["violations"])) == (200, True, []), answer
    field, broken = without_a_required_field(t, sample(t, "again"))
    status, answer = post(server.url + t.path, t.method, broken)
    assert status == 400 and answer["valid"] is False, answer
    assert {(v["rule"], v["path"]) for v in errors(answer["violations"])} >= {("schema.required", f"/{field}")}
    kept = api(server, "/api/messages?limit=10")["messages"]
    assert sorted((m["marker"], m["valid"]) for m in kept) == [(t.marker, False), (t.marker, True)]


def _guesses(t) -> set[str]:
    stem = t.name.removesuffix("_v2")
    return {f"/{v}/integration/{s}" for v in ("v1", "v2") for s in (t.name, stem, stem.replace("_", "/"),
                                                                        t.marker.lower())}


@pytest.mark.broker
@pytest.mark.parametrize("t", BROKERS_ONLY, ids=lambda t: t.name)
def test_a_brokers_only_type_has_no_rest_path_and_is_taken_by_its_marker(t, start_server, rabbit_url, rabbit_queue):
    server = start_server(rabbit=rabbit_url, rabbit_queue=rabbit_queue)
    payload = sample(t)
    for path in sorted(_guesses(t) - set(REGISTRY.routes)):
        status, answer = post(server.url + path, "POST", payload)
        assert status == 404 and "has no event type at" in answer["message"], (path, answer)
    assert all(t not in methods.values() for methods in REGISTRY.routes.values())
    field, broken = without_a_required_field(t, sample(t, "again"))
    stats = deliver(open_channel("rabbit", rabbit_url, queue=rabbit_queue),
                    [Outgoing(dumps(payload), t.marker, "k"), Outgoing(dumps(broken), t.marker, "k")])
    assert stats.failed == 0
    wait_for(lambda: api(server, "/api/summary")["received"] >= 2, what=f"two {t.marker} messages")
    kept = sorted(api(server, "/api/messages?limit=10")["messages"], key=lambda m: m["id"])
    assert [(m["marker"], m["valid"]) for m in kept] == [(t.marker, True), (t.marker, False)]
    assert errors(kept[0]["violations"]) == []
    assert ("schema.required", f"/{field}") in {(v["rule"], v["path"]) for v in kept[1]["violations"]}


def _mixed(via: str, target: str, server, **options) -> None:
    items = [Outgoing(dumps(sample(t, via)), t.marker, t.name) for t in TYPES]
    stats = deliver(open_channel(via, target, **options), items)
    assert stats.failed == 0 and stats.delivered == len(TYPES)
    wait_for(lambda: api(server, "/api/summary")["received"] >= len(TYPES), what=f"{len(TYPES)} messages")
    kept = api(server, "/api/messages?limit=100")["messages"]
    assert len(kept) == len(TYPES)
    assert [m for m in kept if not m["valid"] or errors(m["violations"])] == []
    by_type = api(server, "/api/summary")["by_type"]  # the type each message was judged as, by name
    assert {name: (c["received"], c["valid"]) for name, c in by_type.items()} == {t.name: (1, 1) for t in TYPES}
    assert sorted(m["marker"] for m in kept) == sorted(t.marker for t in TYPES)


@pytest.mark.broker
def test_a_stream_of_every_type_over_rabbitmq_is_stored_valid_type_by_type(start_server, rabbit_url, rabbit_queue):
    server = start_server(rabbit=rabbit_url, rabbit_queue=rabbit_queue)
    _mixed("rabbit", rabbit_url, server, queue=rabbit_queue)


@pytest.mark.broker
def test_a_stream_of_every_type_over_kafka_is_stored_valid_type_by_type(start_server, kafka_bootstrap, kafka_topic):
    server = start_server(kafka=kafka_bootstrap, kafka_topic=kafka_topic, kafka_group=f"g-{kafka_topic}")
    _mixed("kafka", kafka_bootstrap, server, topic=kafka_topic)
