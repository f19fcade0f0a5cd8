"""The pairing on a real runtime: inputs registered as a driver would, FT events through the real intake."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from simulator.core.envelope import Envelope
from simulator.core.timefmt import iso
from simulator.runtime import Runtime
from tests.conftest import casino_event


class Clock:
    """The pairing's monotonic clock, moved by the test: grace periods pass without waiting for them."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def rt(make_settings):
    runtime = Runtime(make_settings())
    runtime.pipeline.clock = Clock()
    yield runtime
    runtime.close()


def start(game_id, user="p1", bet=1.5, result=True, currency="EUR", sent_at=None):
    body = {"type": "start", "session": {"id": "s1", "playerId": user, "gameId": "Mines", "currency": currency},
            "game": {"id": game_id, "status": "in_progress", "payout": 0, "profit": 0, "bet": bet, "round": 1},
            "data": {"bet": bet, "allBetAmount": bet}, "time": 0}
    return {"id": f"start:{game_id}", "source": "phoenix", "kind": "start",
            "sent_at": iso(sent_at or datetime.now(timezone.utc)), "body": body, "answer": {"result": result}}


def finish(game_id, user="p1", payout=3.0, status="win", currency="EUR"):
    body = {"type": "finish", "session": {"id": "s1", "playerId": user, "gameId": "Mines", "currency": currency},
            "game": {"id": game_id, "status": status, "payout": payout, "profit": payout - 1.5, "bet": 1.5,
                     "round": 1}, "data": {"balanceUpdateDelay": 1000}, "time": 0}
    return {"id": f"finish:{game_id}", "source": "phoenix", "kind": "finish",
            "sent_at": iso(datetime.now(timezone.utc)), "body": body, "answer": {}}


def send(rt, **fields):
    event = casino_event(**{"user_id": "p1", "wager_amount": None, "bonus_wager_amount": None,
                            "locked_wager_amount": None, **fields})
    return rt.intake.one(Envelope("rest", json.dumps(event).encode(), "CASINO", type_name="casino"))


def rules(rows) -> list[str]:
    return sorted(v["rule"] for r in rows for v in r["violations"] + [v for e in r["events"] for v in e["violations"]])


def test_a_bet_and_its_win_pair_clean(rt):
    p = rt.pipeline
    p.register([start("g1")])
    send(rt, type="Bet", round_id="g1", amount=1.5)
    send(rt, type="Win", round_id="g1", amount=3.0, is_round_end=True)  # before its input: waits for it
    p.register([finish("g1")])
    s = p.summary()
    assert (s["inputs"], s["paired"], s["pending"], s["unclaimed"], s["problems"]) == (2, 2, 0, 0, 0)
    rows, total = p.inputs()
    assert total == 2 and {r["verdict"] for r in rows} == {"clean"}


def test_payout_in_cents_names_both_values_and_the_unit(rt):
    rt.pipeline.register([start("g2")])
    send(rt, type="Bet", round_id="g2", amount=150)
    rows, _ = rt.pipeline.inputs(verdict="problem")
    (v,) = rows[0]["events"][0]["violations"]
    assert v["rule"] == "pipeline.amount" and v["path"] == "/amount"
    assert "expected 1.50 (from" in v["message"] and "got 150:" in v["message"] and "cents" in v["message"]
    assert "start:g2" in v["message"]


def test_an_amount_is_worded_as_money_not_as_the_double_it_arrived_as(rt):
    """150.00 in JSON arrives as the double 150.0; the message said 'expected 1.5 ... got 150.0'."""
    rt.pipeline.register([start("g3")])
    send(rt, type="Bet", round_id="g3", amount=150.0)
    rows, _ = rt.pipeline.inputs(verdict="problem")
    (v,) = rows[0]["events"][0]["violations"]
    assert "expected 1.50 (from" in v["message"] and "got 150.00: 100 times the expected" in v["message"]


def test_wrong_round_and_wrong_user_pair_with_their_rule(rt):
    rt.pipeline.register([start("g3"), start("g4", user="p2")])
    send(rt, type="Bet", round_id="other", amount=1.5)
    send(rt, type="Bet", round_id="g4", user_id="p9", amount=1.5)
    assert rt.pipeline.summary()["pending"] == 2  # an exact partner may still come
    rt.pipeline.clock.now += 6  # none did: each pairs with the event that agrees on all key fields but one
    assert rules(rt.pipeline.inputs(verdict="problem")[0]) == ["pipeline.round", "pipeline.user"]


def test_missing_after_grace_and_extra_unclaimed(rt):
    p = rt.pipeline
    p.register([start("g5")])
    send(rt, type="Win", round_id="nobody", user_id="p7", amount=1, is_round_end=True)
    p.clock.now += 6
    s = p.summary()
    assert (s["missing"], s["extra"], s["pending"], s["unclaimed"]) == (1, 1, 0, 0)
    assert rules(p.inputs(verdict="problem")[0]) == ["pipeline.extra", "pipeline.missing"]
    assert p.inputs(rule="pipeline.missing")[0][0]["input"] == "start:g5"


def test_an_early_event_waits_for_its_own_input_not_a_near_one(rt):
    p = rt.pipeline
    p.register([start("g12", result=False)])
    send(rt, type="Bet", round_id="g13", amount=1.5)  # g13's start is registered after its Bet arrived
    p.register([start("g13")])
    p.clock.now += 6
    s = p.summary()
    assert (s["paired"], s["not_sent"], s["problems"]) == (1, 1, 0)


def test_result_false_expects_no_bet_and_refuses_one(rt):
    p = rt.pipeline
    p.register([start("g6", result=False), start("g7", result=False)])
    send(rt, type="Bet", round_id="g7", amount=1.5)
    p.clock.now += 6
    s = p.summary()
    assert (s["expected"], s["missing"], s["not_sent"], s["extra"]) == (0, 0, 1, 1)
    (row,) = p.inputs(verdict="problem")[0]
    assert row["input"] == "start:g7" and "answer.result = false" in row["events"][0]["violations"][0]["message"]


def test_late_and_out_of_order(rt):
    p = rt.pipeline
    old = datetime.now(timezone.utc) - timedelta(seconds=3)
    p.register([start("g8", sent_at=old), start("g9")])
    send(rt, type="Bet", round_id="g9", amount=1.5)
    send(rt, type="Bet", round_id="g8", amount=1.5)
    assert rules(p.inputs(verdict="problem")[0]) == ["pipeline.latency", "pipeline.order"]


def test_pending_is_bounded(make_settings):
    runtime = Runtime(make_settings(pipeline_max_pending=10))
    try:
        runtime.pipeline.register([start(f"b{i}") for i in range(25)])
        s = runtime.pipeline.summary()
        assert s["pending"] == 10 and s["by_rule"]["pipeline.overflow"] == {"warning": 15}
    finally:
        runtime.close()


def test_a_retried_registration_counts_once_and_a_bad_one_is_named(rt):
    rt.pipeline.register([start("g10")])
    assert rt.pipeline.register([start("g10")]) == {"accepted": 0, "retried": 1}
    with pytest.raises(ValueError, match=r"inputs\[0\].source: no mapping for 'nope'"):
        rt.pipeline.register([{**start("g11"), "source": "nope"}])
