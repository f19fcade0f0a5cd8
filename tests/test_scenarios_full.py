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
# the journeys send every installed type over a broker; over REST, those FT serves at a method and path
JOURNEY_TYPES = {t.marker for t in load_registry() if t.family == "ft"}
REST_TYPES = {t.marker for t in load_registry() if t.path is not None and t.family == "ft"}
JOURNEY_NAMES = {t.name for t in load_registry() if t.family == "ft"}


def types_of(via) -> set:
    return REST_TYPES if via == "rest" else JOURNEY_TYPES


def clean(planned):
    return [p for p in planned if p.fault is None and not p.retry]


def sent(p, renderer=None) -> dict:
    return orjson.loads((renderer or Renderer("rest", clock=lambda: FIXED)).body(p))


# -- the generator hook ------------------------------------------------------------------------------

def test_each_type_but_casino_offers_a_generator_from_its_folder():
    """casino's rounds are the engine's own (journeys.py); every other type brings its scenario.py."""
    assert {t.name for t in load_registry() if t.generate is None} == {"casino"}


def test_a_type_defined_in_a_test_carries_its_generator_through_the_registry():
    def generate(ctx, **want):
        return [{"user_id": ctx.user_id}]
    t = EventType("thing", "THING", {"$defs": {"strict": {"type": "object"}}}, "POST", "/v1/thing", generate=generate)
    assert Registry([t]).for_marker("THING").generate is generate
    assert t == replace(t, generate=None)  # the generator is not part of what makes the type this type


@pytest.mark.parametrize("name", [FULL, FAULTY])
def test_every_clean_payload_is_valid_under_its_types_strict_schema(name):
    registry = load_registry()
    validators = {t.name: PythonValidator(t, "strict") for t in registry}
    seen = Counter()
    for p in clean(take(load_scenario(name), 1500, "ns")):
        payload = sent(p)
        t = registry.for_marker(p.marker, payload)
        assert validators[t.name].violations(payload) == [], (p.label, payload)
        assert set(payload) <= t.fields, p.label  # no field the contract does not define
        seen[t.name] += 1
    assert set(seen) == JOURNEY_NAMES


# -- the stream ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,via", [(FULL, None), (FAULTY, None), (FAULTY, "rest")])
def test_the_same_seed_gives_the_same_stream(name, via):
    sc = load_scenario(name)
    first, second = take(sc, 600, "ns", via), take(sc, 600, "ns", via)
    shape = [(p.seq, p.marker, p.payload, p.fault, p.late_by, p.marker_fault, p.retry) for p in first]
    assert shape == [(p.seq, p.marker, p.payload, p.fault, p.late_by, p.marker_fault, p.retry) for p in second]
    for via in ("rest", "rabbit", "kafka"):
        assert list(Renderer(via, clock=lambda: FIXED).stream(first)) == \
               list(Renderer(via, clock=lambda: FIXED).stream(second))
    other = take(replace(sc, seed=sc.seed + 1), 600, "ns", via)
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
        if msgs[0].marker == "GAME":  # the catalogue: no player
            continue
        assert msgs[0].marker in ("USER_CREATE_V2", "USER_MIGRATION"), user
        if msgs[0].marker == "USER_MIGRATION":
            assert msgs[1].marker == "USER_MIGRATION_APPROVE", user
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
            elif m.marker == "SPORTSBOOK":
                assert pl["balance_before"] == balance, (user, pl)
                balance = pl["balance_after"]
            elif m.marker == "LOTTERY_V2":  # both shapes: a purchase or a ticket's Bet pays, a Settlement wins
                balance += pl["amount"] if pl.get("type") == "Settlement" else -pl["amount"]
            elif m.marker == "CART":
                balance -= pl["amount"] - pl["discount_amount"]
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


def test_a_sportsbook_session_places_bets_and_later_settles_each_one():
    planned = clean(take(load_scenario(FULL), 3000, "ns"))
    placed, settled, left = {}, Counter(), set()
    for p in planned:
        if p.farewell:
            left.add(p.user_id)
        if p.marker != "SPORTSBOOK":
            continue
        pl = p.payload  # Decimal money, as planned
        if pl["type"] == "Bet":
            assert pl["odds"] > 1 and all(leg["odds"] > 1 for leg in pl["bets"])
            assert len(pl["bets"]) == 1 if pl["bet_type"] == "Single" else len(pl["bets"]) >= 2
            placed[pl["activity_id"]] = pl
        else:
            bet = placed[pl["activity_id_reference"]]  # a bet placed before, by this user, in this currency
            assert (bet["user_id"], bet["currency"]) == (pl["user_id"], pl["currency"])
            won = (bet["amount"] * bet["odds"]).quantize(Decimal("0.01"))
            assert pl["amount"] == (won if pl["settlement_type"] == "Won" else 0)
            settled[pl["activity_id_reference"]] += 1
    assert placed and set(settled) <= set(placed) and set(settled.values()) == {1}
    done = {bid for bid, bet in placed.items() if bet["user_id"] in left}  # players who finished their journey
    assert done and done <= set(settled)


def test_the_channel_decides_which_types_a_journey_sends():
    """Over REST the brokers-only types stay out (a migrated player registers instead); a broker takes all."""
    sc = load_scenario(FULL)
    rest, broker = take(sc, 1200, "ns", "rest"), take(sc, 1200, "ns", "kafka")
    assert {p.marker for p in rest} == REST_TYPES and {p.marker for p in broker} == JOURNEY_TYPES
    assert [p.payload for p in broker] == [p.payload for p in take(sc, 1200, "ns")]  # a broker's is the default


def test_rest_sends_each_type_to_its_method_and_path_and_brokers_carry_its_marker():
    registry = load_registry()
    for p in take(load_scenario(FULL), 1200, "ns", "rest"):
        t = registry.for_marker(p.marker, p.payload)
        out = Renderer("rest", clock=lambda: FIXED).outgoing(p)
        assert (out.route or route_of(out.marker)) == (t.method, t.path), p.label  # casino's: the sender's default
    for p in take(load_scenario(FULL), 400, "ns"):
        out = Renderer("kafka", clock=lambda: FIXED).outgoing(p)
        assert out.marker == p.marker and out.key == p.user_id
    assert route_of("USER_UPDATE_V2") == ("PUT", "/v2/integration/user")
    assert route_of("LOTTERY_V2", {"tickets": []}) == ("POST", "/v1/integration/lottery")  # the older shape
    assert route_of("LOTTERY_V2", {"lines": []}) == ("POST", "/v2/integration/lottery")


# -- faults and the oracle -------------------------------------------------------------------------------

@pytest.mark.parametrize("via", ["rest", "kafka"])
def test_the_faulty_journey_injects_every_fault_kind_its_channel_carries_in_its_count(via):
    sc = load_scenario(FAULTY)
    assert set(sc.faults) == set(KNOWN)
    assert {p.fault for p in take(sc, sc.count, "ns", via)} >= {k for k, kind in KNOWN.items() if via in kind.channels}


def _bet_of(p) -> str | None:
    """The bet a sportsbook or lines-shape lottery event is about (its own id for a Bet)."""
    pl = p.payload
    if p.marker == "SPORTSBOOK":
        return pl.get("activity_id") if pl.get("type") == "Bet" else pl.get("activity_id_reference")
    return pl.get("ticket_id") if p.marker == "LOTTERY_V2" and "lines" in pl else None


@pytest.mark.parametrize("via", ["rest", "kafka"])
def test_each_type_fault_is_expected_to_draw_its_rule(via):
    planned = take(load_scenario(FAULTY), 1500, "ns", via)
    expected, _ = expect_all(planned, via)
    drawn = Counter()
    for p, e in zip(planned, expected):
        kind = KNOWN.get(p.fault)
        if kind is None or via not in kind.channels:
            continue
        assert kind.rule in e.rules, f"{p.label} [{p.fault}]: {sorted(e.rules)}"
        drawn[p.fault] += 1
    assert set(drawn) >= {k for k, kind in TYPE_FAULTS.items() if via in kind.channels}
    refused = {_bet_of(p) for p, e in zip(planned, expected) if not e.valid and _bet_of(p)}
    for p, e in zip(planned, expected):  # the other types' clean messages stay clean (a refused casino bet
        if p.fault is None and not p.retry and not p.casino:  # makes its round's win one without a bet, a
            if _bet_of(p) in refused:  # refused sportsbook or lottery Bet its Settlement one of no bet)
                assert e.valid and set(e.rules) <= {"sportsbook.settle_unknown", "lottery_v2.settle_unknown"}
                continue
            assert e.valid and not e.rules, p.label


def test_a_type_fault_in_a_casino_only_scenario_is_refused():
    with pytest.raises(ScenarioError, match=r"payment_changed: a fault of the PAYMENT type needs a \[journey\]"):
        parse_scenario({"name": "x", "description": "x", "seed": 1, "faults": {"payment_changed": 0.1}})
    with pytest.raises(ScenarioError, match=r"journey: unknown key 'logins'"):
        parse_scenario({"name": "x", "description": "x", "seed": 1, "journey": {"logins": 1.0}})


def test_a_journey_step_whose_type_is_missing_or_has_no_generator_is_refused():
    """The check reads the registry it is given: one without sportsbook, one whose sportsbook has no generator."""
    doc = {"name": "x", "description": "x", "seed": 1, "journey": {"sportsbook": 0.5}}
    installed = load_registry()
    without = Registry([t for t in installed if t.name != "sportsbook"], installed.shared)
    with pytest.raises(ScenarioError, match=r"journey.sportsbook: the sportsbook type is not installed or offers no "
                                            r"scenario generator \(simulator/types/sportsbook/scenario.py\)"):
        parse_scenario(doc, registry=without)
    silent = Registry([replace(t, generate=None) if t.name == "sportsbook" else t for t in installed])
    with pytest.raises(ScenarioError, match=r"journey.sportsbook: the sportsbook type"):
        parse_scenario(doc, registry=silent)
    with pytest.raises(ScenarioError, match=r"journey.poker: the poker_cash_game_buy_in_v2 type"):
        parse_scenario({**doc, "journey": {"poker": 0.5}}, registry=Registry(
            [t for t in installed if t.name != "poker_cash_game_buy_in_v2"]))
    assert parse_scenario(doc).journey.sportsbook == 0.5  # installed, with its generator: taken


def test_a_feed_for_locust_serves_every_type_with_its_verdict():
    feed = Feed(load_scenario(FAULTY), "rest", namespace="feed")
    pairs = [feed.next() for _ in range(1200)]
    assert {out.marker for out, _ in pairs} == REST_TYPES
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
    sc = load_scenario(FULL)
    run = run_scenario(sc, via=via, ftsim=Ftsim(server.url), target=target, **options)
    assert run.report.ok, "\n".join(run.report.lines())
    assert run.report.same == sc.count and run.report.rounds > 50 and run.stats.failed == 0
    stored = Ftsim(server.url).messages_of_run(run.namespace, sc.count)
    assert {m["marker"] for m in stored} == types_of(via)
    registry = load_registry()  # both LOTTERY_V2 shapes too
    assert {registry.for_marker(m["marker"], m["payload"]).name for m in stored} == \
        (JOURNEY_NAMES if via != "rest" else {t.name for t in registry if t.path is not None and t.family == "ft"})
    # nothing flagged but, where the channel was behind, the latency budget (compare.py counts those apart)
    assert all(m["valid"] and {v["rule"] for v in m["violations"]} <= {"latency.budget"} for m in stored)


@pytest.mark.parametrize("via", VIAS)
def test_ftsim_judges_every_fault_of_every_type_as_expected(via, request, start_server):
    server, target, options = channel_for(via, request, start_server)
    sc = load_scenario(FAULTY)
    run = run_scenario(sc, via=via, ftsim=Ftsim(server.url), target=target, **options)
    assert run.report.ok, "\n".join(run.report.lines())
    assert run.report.same == sc.count
    assert set(run.report.faults) == {k for k, kind in KNOWN.items() if via in kind.channels}


def test_a_wrong_expectation_about_a_type_shows_as_a_difference(start_server):
    server = start_server()  # user.unknown is off here; an oracle that thinks it a warning must disagree
    sc = load_scenario(FAULTY)
    run = run_scenario(sc, via="rest", ftsim=Ftsim(server.url), count=600, namespace="wrong")
    assert run.report.ok, "\n".join(run.report.lines())
    planned = take(sc, 600, "wrong", "rest")
    severity = Severities({**DEFAULT_SEVERITIES, "user.unknown": "warning"}).of
    mistaken, _ = expect_all(planned, "rest", severity)
    report = Report()
    compare_messages(mistaken, Ftsim(server.url).messages_of_run("wrong", 600), report)
    ghosts = [p.label for p in planned if p.fault == "login_before_registration"]
    assert ghosts and len(report.differ) == len(ghosts) and not report.ok
    assert all(line.startswith(label) and "login.before_registration, user.unknown | ftsim valid " in line
               for line, label in zip(report.differ, ghosts))


@pytest.mark.parametrize("via", ["rest", "kafka"])  # the senders that keep order per key only
def test_a_ghost_login_goes_out_on_the_lane_of_the_message_it_follows(via):
    """login.before_registration needs a registration judged before the ghost: on a lane (REST worker, Kafka
    partition) of its own it could overtake all of them (seen in CI: 599 of 600 as expected); on the lane of
    the message it follows, that player's registration goes first."""
    planned = take(load_scenario(FAULTY), 600, "lanes", via)
    sent = list(Renderer(via).stream(planned))
    ghosts = [i for i, p in enumerate(planned) if p.fault == "login_before_registration"]
    assert ghosts
    for i in ghosts:
        follows = planned[i - 1]
        assert planned[i].user_id != follows.user_id and sent[i].key == sent[i - 1].key == follows.key
        registration = next(k for k, q in enumerate(planned[:i]) if q.user_id == follows.user_id)
        assert planned[registration].marker in ("USER_CREATE_V2", "USER_MIGRATION")


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

    assert main(["scenario", "show", FULL, "--namespace", "show", "--via", "kafka"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == load_scenario(FULL).count
    markers = Counter()
    for line in lines:
        raw, marker = typed(line.encode(), None)
        payload = json.loads(raw)
        assert (payload["game_id"] if marker == "GAME" else payload["user_id"]).startswith("show-")
        markers[marker] += 1
    assert set(markers) == JOURNEY_TYPES
