"""Scenarios across every event type: each type's generator builds strict-valid payloads, journeys keep
their order and follow the wallet, type faults draw their rules, and over REST, RabbitMQ and Kafka a real
ftsim judges every message as the independent oracle expects; the pytest plugin takes any type."""
from __future__ import annotations

import json
import urllib.request
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal

import orjson
import pytest

from simulator.cli import main
from simulator.clients.scenario import ScenarioError, list_scenarios, load_scenario, take
from simulator.clients.scenario.compare import Report, compare_messages
from simulator.clients.scenario.expect import expect_all
from simulator.clients.scenario.faults import KNOWN, TYPE_FAULTS
from simulator.clients.scenario.feed import Feed
from simulator.clients.scenario.remote import Ftsim
from simulator.clients.scenario.render import Renderer
from simulator.clients.scenario.runner import run_scenario
from simulator.clients.scenario.spec import parse_scenario
from simulator.clients.sender.base import route_of
from simulator.contract.plugin import EventType
from simulator.contract.registry import Registry, load_registry
from simulator.contract.validate import PythonValidator
from simulator.core.violations import Severities
from simulator.contract.catalog import DEFAULT_SEVERITIES

FIXED = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)
FULL, FAULTY = "full-journey", "full-journey-faulty"
JOURNEY_TYPES = {"USER_CREATE_V2", "LOGIN_V2", "PAYMENT", "BONUS", "CASINO", "USER_UPDATE_V2", "USER_BLOCK_V2",
                 "USER_CONSENTS_V2", "USER_BALANCES_UPDATE"}


def clean(planned):
    return [p for p in planned if p.fault is None and not p.retry]


def sent(p, renderer=None) -> dict:
    return orjson.loads((renderer or Renderer("rest", clock=lambda: FIXED)).body(p))


# -- the generator hook ------------------------------------------------------------------------------

def test_each_journey_type_offers_a_generator_from_its_folder():
    by_marker = {t.marker: t for t in load_registry()}
    assert {m for m, t in by_marker.items() if t.generate is not None} >= JOURNEY_TYPES - {"CASINO"}
    assert by_marker["USER_MIGRATION"].generate is None  # a folder without scenario.py: no scenario traffic


def test_a_type_defined_in_a_test_carries_its_generator_through_the_registry():
    def generate(ctx, **want):
        return [{"user_id": ctx.user_id}]
    t = EventType("thing", "THING", {"$defs": {"strict": {"type": "object"}}}, "POST", "/v1/thing", generate=generate)
    assert Registry([t]).for_marker("THING").generate is generate
    assert t == replace(t, generate=None)  # the generator is not part of what makes the type this type


@pytest.mark.parametrize("name", [FULL, FAULTY])
def test_every_clean_payload_is_valid_under_its_types_strict_schema(name):
    by_marker = {t.marker: t for t in load_registry()}
    validators = {m: PythonValidator(t, "strict") for m, t in by_marker.items()}
    seen = Counter()
    for p in clean(take(load_scenario(name), 1500, "ns")):
        payload = sent(p)
        assert validators[p.marker].violations(payload) == [], (p.label, payload)
        assert set(payload) <= by_marker[p.marker].fields, p.label  # no field the contract does not define
        seen[p.marker] += 1
    assert set(seen) == JOURNEY_TYPES


# -- the stream ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [FULL, FAULTY])
def test_the_same_seed_gives_the_same_stream(name):
    sc = load_scenario(name)
    first, second = take(sc, 600, "ns"), take(sc, 600, "ns")
    shape = [(p.seq, p.marker, p.payload, p.fault, p.late_by, p.marker_fault, p.retry) for p in first]
    assert shape == [(p.seq, p.marker, p.payload, p.fault, p.late_by, p.marker_fault, p.retry) for p in second]
    for via in ("rest", "rabbit", "kafka"):
        assert list(Renderer(via, clock=lambda: FIXED).stream(first)) == \
               list(Renderer(via, clock=lambda: FIXED).stream(second))
    other = take(replace(sc, seed=sc.seed + 1), 600, "ns")
    assert [p.payload for p in other] != [p.payload for p in first]


def test_casino_only_scenarios_stay_casino_only():
    for sc in list_scenarios():
        if sc.name in (FULL, FAULTY):
            assert sc.journey is not None
            continue
        assert sc.journey is None
        assert {p.marker for p in take(sc, 500, "ns")} == {"CASINO"}, sc.name


def test_a_journey_registers_first_pays_in_before_playing_and_balances_follow_the_wallet():
    by_user = defaultdict(list)
    for p in clean(take(load_scenario(FULL), 3000, "ns")):
        by_user[p.user_id].append(p)
    finished = 0
    for user, msgs in by_user.items():
        assert msgs[0].marker == "USER_CREATE_V2", user
        markers = [m.marker for m in msgs]
        if "CASINO" in markers:
            first_bet = markers.index("CASINO")
            approved = [m for m in msgs[:first_bet] if m.marker == "PAYMENT" and m.payload["status"] == "Approved"]
            assert approved and approved[0].payload["type"] == "Credit", user
            if "LOGIN_V2" in markers:
                assert markers.index("LOGIN_V2") < first_bet
        balance = Decimal("0.00")  # the wallet as the other events tell it: balance updates must agree
        for m in msgs:
            pl = m.payload
            if m.marker == "CASINO":
                balance = pl["balance_after"]
            elif m.marker == "PAYMENT" and pl["status"] == "Approved":
                balance += pl["amount"] if pl["type"] == "Credit" else -pl["amount"]
            elif m.marker == "BONUS" and pl["status"] == "Created":
                balance += pl["amount"]
            elif m.marker == "USER_BALANCES_UPDATE":
                amounts = {b["key"]: b["amount"] for b in pl["balances"]}
                assert amounts["real_money"] + amounts["bonus_money"] == balance, user
        withdrawals = [m for m in msgs if m.marker == "PAYMENT" and m.payload["type"] == "Debit"]
        if withdrawals:
            finished += 1
            last = [m for m in msgs if m.marker == "USER_BALANCES_UPDATE"][-1]
            assert {b["key"]: b["amount"] for b in last.payload["balances"]}["real_money"] == Decimal("0.00")
    assert finished > 5
    statuses = Counter((p.payload["type"], p.payload["status"]) for ms in by_user.values() for p in ms
                       if p.marker == "PAYMENT")
    assert statuses[("Credit", "Approved")] and statuses[("Debit", "Approved")]
    assert statuses[("Credit", "Rejected")] + statuses[("Credit", "Cancelled")] > 0
    bonus = Counter(p.payload["status"] for ms in by_user.values() for p in ms if p.marker == "BONUS")
    assert bonus["Created"] and bonus["Ongoing"] and bonus["Completed"]


def test_rest_sends_each_type_to_its_method_and_path_and_brokers_carry_its_marker():
    planned = take(load_scenario(FULL), 400, "ns")
    by_marker = {t.marker: t for t in load_registry()}
    for p in planned:
        out = Renderer("kafka", clock=lambda: FIXED).outgoing(p)
        assert out.marker == p.marker and out.key == p.user_id
        assert route_of(out.marker) == (by_marker[p.marker].method, by_marker[p.marker].path)
    assert route_of("USER_UPDATE_V2") == ("PUT", "/v2/integration/user")


# -- faults and the oracle -------------------------------------------------------------------------------

def test_the_faulty_journey_injects_every_fault_kind_in_600_messages():
    sc = load_scenario(FAULTY)
    assert set(sc.faults) == set(KNOWN)
    assert {p.fault for p in take(sc, 600, "ns")} >= set(KNOWN)


@pytest.mark.parametrize("via", ["rest", "kafka"])
def test_each_type_fault_is_expected_to_draw_its_rule(via):
    planned = take(load_scenario(FAULTY), 1500, "ns")
    expected, _ = expect_all(planned, via)
    drawn = Counter()
    for p, e in zip(planned, expected):
        kind = KNOWN.get(p.fault)
        if kind is None or via not in kind.channels:
            continue
        assert kind.rule in e.rules, f"{p.label} [{p.fault}]: {sorted(e.rules)}"
        drawn[p.fault] += 1
    assert set(drawn) >= set(TYPE_FAULTS)
    for p, e in zip(planned, expected):  # the other types' clean messages stay clean (a refused casino bet
        if p.fault is None and not p.retry and not p.casino:  # makes its round's win one without a bet)
            assert e.valid and not e.rules, p.label


def test_a_type_fault_in_a_casino_only_scenario_is_refused():
    with pytest.raises(ScenarioError, match=r"payment_changed: a fault of the PAYMENT type needs a \[journey\]"):
        parse_scenario({"name": "x", "description": "x", "seed": 1, "faults": {"payment_changed": 0.1}})
    with pytest.raises(ScenarioError, match=r"journey: unknown key 'logins'"):
        parse_scenario({"name": "x", "description": "x", "seed": 1, "journey": {"logins": 1.0}})


@pytest.mark.skipif(load_registry().for_marker("SPORTSBOOK") is not None, reason="the SPORTSBOOK type is installed")
def test_a_sportsbook_journey_without_the_sportsbook_type_says_so():
    with pytest.raises(ScenarioError, match=r"journey.sportsbook: the SPORTSBOOK type is not installed"):
        parse_scenario({"name": "x", "description": "x", "seed": 1, "journey": {"sportsbook": 0.5}})


def test_a_feed_for_locust_serves_every_type_with_its_verdict():
    feed = Feed(load_scenario(FAULTY), "rest", namespace="feed")
    pairs = [feed.next() for _ in range(400)]
    assert {out.marker for out, _ in pairs} == JOURNEY_TYPES
    assert any(not e.valid for _, e in pairs) and any(e.valid for _, e in pairs)


# -- over the wire ---------------------------------------------------------------------------------------

def channel_for(via, request, start_server):
    if via == "rest":
        server = start_server()
        return server, server.url, {}
    if via == "rabbit":
        url, queue = request.getfixturevalue("rabbit_url"), request.getfixturevalue("rabbit_queue")
        return start_server(rabbit=url, rabbit_queue=queue), url, {"queue": queue}
    bootstrap, topic = request.getfixturevalue("kafka_bootstrap"), request.getfixturevalue("kafka_topic")
    server = start_server(kafka=bootstrap, kafka_topic=topic, kafka_group=f"g-{topic}")
    return server, bootstrap, {"topic": topic}


VIAS = ["rest", pytest.param("rabbit", marks=pytest.mark.broker), pytest.param("kafka", marks=pytest.mark.broker)]


@pytest.mark.parametrize("via", VIAS)
def test_ftsim_judges_a_full_journey_as_expected(via, request, start_server):
    server, target, options = channel_for(via, request, start_server)
    run = run_scenario(load_scenario(FULL), via=via, ftsim=Ftsim(server.url), target=target, count=400, **options)
    assert run.report.ok, "\n".join(run.report.lines())
    assert run.report.same == 400 and run.report.rounds > 50 and run.stats.failed == 0
    stored = Ftsim(server.url).messages_of_run(run.namespace, 400)
    assert {m["marker"] for m in stored} == JOURNEY_TYPES
    # nothing flagged but, where the channel was behind, the latency budget (compare.py counts those apart)
    assert all(m["valid"] and {v["rule"] for v in m["violations"]} <= {"latency.budget"} for m in stored)


@pytest.mark.parametrize("via", VIAS)
def test_ftsim_judges_every_fault_of_every_type_as_expected(via, request, start_server):
    server, target, options = channel_for(via, request, start_server)
    run = run_scenario(load_scenario(FAULTY), via=via, ftsim=Ftsim(server.url), target=target, count=600,
                       **options)
    assert run.report.ok, "\n".join(run.report.lines())
    assert run.report.same == 600
    assert set(run.report.faults) == {k for k, kind in KNOWN.items() if via in kind.channels}


def test_a_wrong_expectation_about_a_type_shows_as_a_difference(start_server):
    server = start_server()  # user.unknown is off here; an oracle that thinks it a warning must disagree
    sc = load_scenario(FAULTY)
    run = run_scenario(sc, via="rest", ftsim=Ftsim(server.url), count=600, namespace="wrong")
    assert run.report.ok, "\n".join(run.report.lines())
    planned = take(sc, 600, "wrong")
    severity = Severities({**DEFAULT_SEVERITIES, "user.unknown": "warning"}).of
    mistaken, _ = expect_all(planned, "rest", severity)
    report = Report()
    compare_messages(mistaken, Ftsim(server.url).messages_of_run("wrong", 600), report)
    ghosts = [p.label for p in planned if p.fault == "login_before_registration"]
    assert ghosts and len(report.differ) == len(ghosts) and not report.ok
    assert all(line.startswith(label) and "login.before_registration, user.unknown | ftsim valid " in line
               for line, label in zip(report.differ, ghosts))


def test_scenario_run_full_journey_from_the_command_line(start_server, capsys):
    server = start_server()
    code = main(["scenario", "run", FULL, "--ftsim", server.url, "--count", "300", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "verdicts: 300 of 300 as expected, 0 differ" in out


# -- the pytest plugin takes any type -------------------------------------------------------------------

def _send(ftsim, marker: str, payload: dict) -> int:
    method, _ = ftsim.route(marker)
    req = urllib.request.Request(ftsim.url_for(marker), json.dumps(payload).encode(),
                                 {**ftsim.headers, "Content-Type": "application/json"}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


def test_the_pytest_plugin_routes_waits_and_asserts_by_type(ftsim):
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert ftsim.route("PAYMENT") == ("POST", "/v1/integration/payment")
    assert ftsim.route("USER_BLOCK_V2") == ("PUT", "/v2/integration/user/blocks")
    assert ftsim.url_for("LOGIN_V2") == ftsim.url + "/v2/integration/login"
    with pytest.raises(ValueError, match="no event type has the marker 'PAYMENTS'"):
        ftsim.url_for("PAYMENTS")
    assert _send(ftsim, "USER_CREATE_V2", {"user_id": "u1", "timestamp": now, "origin": "www.brand.com"}) == 200
    assert _send(ftsim, "PAYMENT", {"user_id": "u1", "timestamp": now, "origin": "www.brand.com",
                                    "payment_id": "p1", "status": "Requested", "type": "Credit", "amount": 20,
                                    "currency": "EUR", "vendor_id": "1001"}) == 200
    assert _send(ftsim, "USER_UPDATE_V2", {"user_id": "u1", "timestamp": now}) == 400  # origin left out
    payments = ftsim.wait_for(1, marker="PAYMENT")
    assert [m["marker"] for m in payments] == ["PAYMENT"]
    ftsim.assert_contract_held(marker="PAYMENT")
    ftsim.assert_contract_held(marker="USER_CREATE_V2")
    with pytest.raises(AssertionError, match=r"(?s)USER_UPDATE_V2, rest.*schema.required"):
        ftsim.assert_contract_held(marker="USER_UPDATE_V2")
    assert {v["marker"] for v in ftsim.violations("error")} == {"USER_UPDATE_V2"}
    with pytest.raises(AssertionError, match="expected 2 PAYMENT messages within 0.2 s, received 1"):
        ftsim.wait_for(2, timeout=0.2, marker="PAYMENT")


def test_scenario_show_of_a_journey_prints_typed_lines_the_sender_reads(capsys):
    from simulator.commands.check import typed

    assert main(["scenario", "show", FULL, "--count", "800", "--namespace", "show"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 800
    markers = Counter()
    for line in lines:
        raw, marker = typed(line.encode(), None)
        payload = json.loads(raw)
        assert payload["user_id"].startswith("show-")
        markers[marker] += 1
    assert set(markers) == JOURNEY_TYPES
