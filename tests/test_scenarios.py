"""Scenarios: the same seed gives the same stream, the play is realistic, and ftsim's verdicts and rounds
equal the ones the scenario expects for every fault kind, over REST, RabbitMQ and Kafka."""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import orjson
import pytest

from simulator.cli import main
from simulator.clients.scenario import ScenarioError, list_scenarios, load_scenario, take
from simulator.clients.scenario.compare import Report, compare_messages
from simulator.clients.scenario.expect import expect_all
from simulator.clients.scenario.faults import FAULTS
from simulator.clients.scenario.remote import Ftsim
from simulator.clients.scenario.render import Renderer
from simulator.clients.scenario.runner import run_scenario
from simulator.clients.scenario.spec import parse_scenario
from simulator.core.timefmt import parse_rfc3339

SCENARIOS = list_scenarios()
FIXED = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)


def clean(planned):
    return [p for p in planned if p.fault is None and not p.retry]


# -- determinism -----------------------------------------------------------------------------------

@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_the_same_seed_gives_the_same_messages(scenario):
    first, second = take(scenario, 400, "ns"), take(scenario, 400, "ns")
    assert [(p.seq, p.payload, p.fault, p.late_by, p.marker_fault, p.retry) for p in first] == \
           [(p.seq, p.payload, p.fault, p.late_by, p.marker_fault, p.retry) for p in second]
    assert list(Renderer("kafka", clock=lambda: FIXED).stream(first)) == \
           list(Renderer("kafka", clock=lambda: FIXED).stream(second))


def test_another_seed_gives_another_stream():
    sc = load_scenario("faulty")
    a, b = take(sc, 200, "ns"), take(replace(sc, seed=sc.seed + 1), 200, "ns")
    assert [p.payload for p in a] != [p.payload for p in b]


def test_only_timestamps_depend_on_when_messages_are_sent():
    sc = load_scenario("faulty")
    early_clock, later_clock = Renderer("rest", clock=lambda: FIXED), Renderer(
        "rest", clock=lambda: FIXED + timedelta(hours=5))
    early = [orjson.loads(early_clock.body(p)) for p in take(sc, 300, "ns")]
    later = [orjson.loads(later_clock.body(p)) for p in take(sc, 300, "ns")]
    for a, b in zip(early, later):
        assert parse_rfc3339(b["timestamp"]) - parse_rfc3339(a["timestamp"]) == timedelta(hours=5)
        assert {**a, "timestamp": None} == {**b, "timestamp": None}


# -- realistic play --------------------------------------------------------------------------------

def test_amounts_add_up_and_balances_follow_the_wallet():
    for p in clean(take(load_scenario("live-casino"), 1500, "ns")):
        e = p.payload
        assert e["amount"] == e["wager_amount"] + e["bonus_wager_amount"] + e["locked_wager_amount"]
        assert all(e[k].as_tuple().exponent == -2 for k in ("amount", "balance_before", "balance_after"))
        gives_back = (e["type"] == "Win") != (e["status"] == "Rollback")  # a win, or a bet refunded
        assert e["balance_after"] - e["balance_before"] == (e["amount"] if gives_back else -e["amount"]), p.label


def test_every_round_ends_with_is_round_end_on_its_settling_win():
    rounds = defaultdict(list)
    for p in clean(take(load_scenario("steady"), 3000, "ns")):
        if not p.rollback:
            rounds[p.round_id].append(p.payload)
    finished = [evs for evs in rounds.values() if evs[-1]["is_round_end"]]
    assert len(finished) > 100
    for events in finished:
        assert events[-1]["type"] == "Win"
        assert [e["is_round_end"] for e in events[:-1]] == [False] * (len(events) - 1)
        assert all(e["type"] == "Bet" for e in events[:-1])


def test_live_casino_has_multi_bet_rounds_rollbacks_and_bonus_and_locked_money():
    planned = clean(take(load_scenario("live-casino"), 2000, "ns"))
    bets = defaultdict(int)
    for p in planned:
        if p.payload["type"] == "Bet" and not p.rollback:
            bets[p.round_id] += 1
    assert max(bets.values()) >= 3
    rolled_back = {p.payload["type"] for p in planned if p.rollback}
    assert rolled_back == {"Bet", "Win"}
    assert any(p.payload["bonus_wager_amount"] > 0 for p in planned)
    assert any(p.payload["locked_wager_amount"] > 0 for p in planned)
    assert {p.payload["game_type"] for p in planned} == {"Live Casino", "Table"}


def test_money_goes_out_as_json_numbers_with_its_cents_and_late_timestamps_lag():
    planned = take(load_scenario("late-feed"), 400, "ns")
    renderer = Renderer("rest", clock=lambda: FIXED)
    for p in planned:
        if p.fault == "wrong_type":
            continue
        raw = renderer.body(p)
        assert re.search(rb'"amount":\d+\.\d\d[,}]', raw), raw
        sent = orjson.loads(raw)
        assert parse_rfc3339(sent["timestamp"]) == FIXED - timedelta(seconds=p.late_by)
    assert any(p.late_by >= 2 for p in planned)


# -- the oracle ------------------------------------------------------------------------------------

def test_the_faulty_scenario_injects_every_fault_kind():
    sc = load_scenario("faulty")
    assert set(sc.faults) == set(FAULTS)
    assert {p.fault for p in take(sc, sc.count, "ns")} >= set(FAULTS)


@pytest.mark.parametrize("via", ["rest", "kafka"])
def test_each_fault_is_expected_to_draw_its_rule_where_the_channel_can_carry_it(via):
    planned = take(load_scenario("faulty"), 1500, "ns")
    expected, _ = expect_all(planned, via)
    for p, e in zip(planned, expected):
        kind = FAULTS.get(p.fault)
        if kind is None:
            continue
        if via in kind.channels:
            assert kind.rule in e.rules, f"{p.label} [{p.fault}]: {sorted(e.rules)}"
        else:  # a marker fault over REST: the path is the marker, the message goes out clean
            assert e.fault is None and "transport.type" not in e.rules


def test_a_bad_scenario_file_names_the_file_and_the_key(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('name = "mine"\ndescription = "x"\nseed = 1\n[faults]\nbad_amounts = 0.1\n')
    with pytest.raises(ScenarioError, match=r"mine\.toml.*unknown fault 'bad_amounts'.*bad_amount"):
        load_scenario(str(path))
    with pytest.raises(ScenarioError, match="add up to 1.2"):
        parse_scenario({"name": "x", "description": "x", "seed": 1, "faults": {"late": 0.6, "retry": 0.6}})


# -- over the wire: ftsim's verdicts against the expected ones ---------------------------------------

def channel_for(via, request, start_server):
    """A running ftsim listening on `via`, and the sender's target and options for that channel."""
    if via == "rest":
        server = start_server()
        return server, server.url, {}
    if via == "rabbit":
        url, queue = request.getfixturevalue("rabbit_url"), request.getfixturevalue("rabbit_queue")
        return start_server(rabbit=url, rabbit_queue=queue), url, {"queue": queue}
    bootstrap, topic = request.getfixturevalue("kafka_bootstrap"), request.getfixturevalue("kafka_topic")
    server = start_server(kafka=bootstrap, kafka_topic=topic, kafka_group=f"g-{topic}")
    return server, bootstrap, {"topic": topic}


@pytest.mark.parametrize("via", ["rest", pytest.param("rabbit", marks=pytest.mark.broker),
                                 pytest.param("kafka", marks=pytest.mark.broker)])
def test_ftsim_judges_every_fault_kind_as_the_scenario_expects(via, request, start_server):
    server, target, options = channel_for(via, request, start_server)
    sc = load_scenario("faulty")
    run = run_scenario(sc, via=via, ftsim=Ftsim(server.url), target=target, count=1200, **options)
    assert run.report.ok, "\n".join(run.report.lines())
    assert run.report.same == 1200 and run.report.rounds > 200
    expressible = {k for k, kind in FAULTS.items() if via in kind.channels}
    assert set(run.report.faults) == expressible


@pytest.mark.parametrize("name", [s.name for s in SCENARIOS if s.name != "faulty"])
def test_every_scenario_is_judged_as_it_expects_over_rest(name, start_server):
    server = start_server()
    run = run_scenario(load_scenario(name), via="rest", ftsim=Ftsim(server.url), count=400)
    assert run.report.ok, "\n".join(run.report.lines())
    assert run.report.same == 400 and run.stats.failed == 0


def test_a_verdict_other_than_the_expected_one_shows_as_a_difference(start_server):
    server = start_server()
    sc = load_scenario("faulty")
    run = run_scenario(sc, via="rest", ftsim=Ftsim(server.url), count=600, namespace="diff")
    assert run.report.ok
    planned = take(sc, 600, "diff")
    as_if_kafka, _ = expect_all(planned, "kafka")  # marker faults would be invalid there
    report = Report()
    compare_messages(as_if_kafka, Ftsim(server.url).messages_of_run("diff", 600), report)
    markers = [p.label for p in planned if p.fault == "marker"]
    shown = [line for line in report.differ if "[fault marker]" in line]
    assert markers and len(shown) == len(markers) and not report.ok
    assert all(line.startswith(label) for line, label in zip(shown, markers))
    assert all("expected invalid  transport.type | ftsim valid " in line for line in shown)


def test_the_run_follows_the_targets_own_severities(start_server):
    server = start_server(severity=["round.win_without_bet=error"])
    run = run_scenario(load_scenario("faulty"), via="rest", ftsim=Ftsim(server.url), count=600)
    assert run.report.ok, "\n".join(run.report.lines())
    assert run.stats.rejected > run.report.faults["win_without_bet"] > 0  # now refused with 400


@pytest.mark.parametrize("profile", ["lenient", "ft"])
def test_the_run_follows_the_targets_profile(start_server, profile):
    """Under lenient and ft a numeric game_id is no wrong type: the run expected schema.type for it and
    reported ftsim DIFFERENT for judging right. Its wrong types are now only what the profile refuses."""
    server = start_server(profile=profile)
    run = run_scenario(load_scenario("faulty"), via="rest", ftsim=Ftsim(server.url), count=1200)
    assert run.report.ok, "\n".join(run.report.lines())
    assert run.report.faults["wrong_type"] > 0
    strict = take(load_scenario("faulty"), 1200, "x", "rest")
    assert any(p.fault == "wrong_type" and isinstance(p.payload["game_id"], int) for p in strict)


def _left_open(planned) -> tuple[int, int]:
    """(rounds, payments) the messages leave open, as ftsim's checklist counts them."""
    _, rounds = expect_all(planned, "rest")
    payments = {}
    for p in planned:
        if p.marker == "PAYMENT":
            payments[p.payload["payment_id"]] = p.payload["status"]
    return (sum(r.status == "open" for r in rounds.values()),
            sum(status == "Requested" for status in payments.values()))


@pytest.mark.parametrize("name, count", [("steady", 5000), ("full-journey", 3000), ("live-casino", 2000)])
def test_a_stream_finished_after_its_count_leaves_no_round_or_payment_open(name, count):
    """Cut at a bare count, clean traffic failed the go-live checklist (rounds.closed, payments.settled)."""
    from simulator.clients.scenario.stream import finished, plan

    sc = load_scenario(name)
    cut = take(sc, count, "f", "rest")
    assert _left_open(cut) != (0, 0)
    done = list(finished(plan(sc, "f", "rest"), count))
    assert [p.payload for p in done[:count]] == [p.payload for p in cut]
    assert count < len(done) <= 2 * count and _left_open(done) == (0, 0)


def test_send_finishes_the_open_rounds_unless_told_to_cut(start_server, capsys):
    server = start_server()
    open_rounds = []
    for flags in ([], ["--cut"]):
        assert main(["send", "--scenario", "steady", "--count", "500", "--target", server.url, "--quiet",
                     *flags]) == 0
        sent = int(capsys.readouterr().out.split()[0])
        open_rounds.append(len(Ftsim(server.url).get("/api/rounds?status=open")["rounds"]))
        assert sent > 500 if not flags else sent == 500
    assert open_rounds[0] == 0 and open_rounds[1] > 0


# -- the command ------------------------------------------------------------------------------------

def test_scenario_run_against_a_server_that_wants_credentials_says_what_it_answered(start_server, capsys):
    """The 401's body came out as a bytes repr: b'{"error":"Unauthorized",...}\\n'."""
    server = start_server(api_key="right")
    assert main(["scenario", "run", "steady", "--ftsim", server.url, "--count", "10"]) == 2
    err = capsys.readouterr().err
    assert "answered 401: Unauthorized: expected an X-Api-Key header; the request had no credentials" in err
    assert "b'" not in err

def test_scenario_list_shows_each_scenario_on_one_line(capsys):
    assert main(["scenario", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [s.name for s in SCENARIOS]
    assert {"faulty", "steady"} <= {s.name for s in SCENARIOS}


def test_scenario_run_prints_the_comparison_and_exits_zero_when_all_match(start_server, capsys):
    server = start_server()
    code = main(["scenario", "run", "retry-storm", "--ftsim", server.url, "--count", "300", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "verdicts: 300 of 300 as expected, 0 differ" in out and out.rstrip().endswith(
        "OK: ftsim judged every message and round as expected")


def test_scenario_run_exits_one_when_ftsim_does_not_have_what_was_expected(start_server, capsys, tmp_path):
    # the verdicts are read from an ftsim that got nothing
    sent_to, read_from = start_server(db=str(tmp_path / "a.db")), start_server(db=str(tmp_path / "b.db"))
    code = main(["scenario", "run", "retry-storm", "--ftsim", read_from.url, "--target", sent_to.url,
                 "--count", "200", "--quiet"])
    out = capsys.readouterr().out
    assert code == 1
    assert "verdicts: 0 of 200 as expected, 200 differ" in out and "ftsim has not stored it" in out
    assert out.rstrip().endswith("DIFFERENT: see above")


def test_scenario_show_prints_json_lines_a_sender_can_replay(capsys):
    assert main(["scenario", "show", "faulty", "--count", "50", "--namespace", "show"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 50
    first = orjson.loads(lines[0])
    assert first["meta"]["run"] == "show" and first["activity_id"].startswith("show-")
    assert isinstance(first["amount"], (int, float)) and Decimal(str(first["amount"])) >= 0
