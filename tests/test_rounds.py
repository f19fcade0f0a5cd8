"""Rounds and sessions built from the raw feed, with retries, rollbacks and the rules that need history."""
from datetime import datetime, timedelta, timezone

import pytest

from simulator.types.casino import tables, views
from simulator.runtime import Runtime

from tests.conftest import casino_event, judge_with

BASE = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=2)


def at(minutes: float) -> str:
    return (BASE + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def bet(rid, aid, amount, minute=0, **kw):
    fields = dict(round_id=rid, activity_id=aid, type="Bet", amount=amount, wager_amount=amount,
                  bonus_wager_amount=0, locked_wager_amount=0, timestamp=at(minute))
    fields.update(kw)
    return casino_event(**fields)


def win(rid, aid, amount, minute=0, end=True, **kw):
    return bet(rid, aid, amount, minute, type="Win", is_round_end=end, **kw)


def rollback(event):
    return {**event, "status": "Rollback"}


class Book:
    """Intake with latency rules off (rounds are laid out in the past) and readers of what it built."""

    def __init__(self, runtime):
        self.runtime = runtime
        self.send = judge_with(runtime)

    def round(self, round_id):
        [r] = tables.rounds(self.runtime.store, round_id=round_id)
        return views.round_dict(r)

    def sessions(self, idle=1800):
        return views.sessions(tables.rounds_in_order(self.runtime.store), idle)

    def rules(self, payload):
        return {v.rule for v in self.send(payload).violations}


@pytest.fixture
def book(make_settings, db_target):
    rt = Runtime(make_settings(severity=["latency.budget=off"], db=db_target))
    yield Book(rt)
    rt.close()


def test_bet_then_win_closes_the_round_with_totals(book):
    assert book.send(bet("r1", "a1", 10, 0)).valid and book.send(bet("r1", "a2", 5.5, 1)).valid
    assert book.send(win("r1", "a3", 30.25, 2)).valid
    assert book.round("r1") == {
        "user_id": "52530", "round_id": "r1", "game_id": "10911", "currency": "EUR", "status": "closed",
        "bet_total": "15.50", "win_total": "30.25", "rollback_total": "0.00", "events": 3,
        "started_at": at(0), "ended_at": at(2)}


def test_a_round_stays_open_until_is_round_end(book):
    book.send(bet("r1", "a1", 10))
    book.send(win("r1", "a2", 4, 1, end=False))
    r = book.round("r1")
    assert r["status"] == "open" and r["ended_at"] is None and r["win_total"] == "4.00"


def test_amounts_are_summed_as_decimals(book):
    for i in range(10):
        book.send(bet("r1", f"a{i}", 0.1, i))
    assert book.round("r1")["bet_total"] == "1.00"


def test_rounds_are_per_user(book):
    book.send(bet("r1", "a1", 10, user_id="u1"))
    book.send(bet("r1", "a2", 7, user_id="u2"))
    totals = {r.user_id: views.round_dict(r)["bet_total"] for r in tables.rounds(book.runtime.store, round_id="r1")}
    assert totals == {"u1": "10.00", "u2": "7.00"}


class TestRetriesAndDuplicates:
    def test_a_retry_is_recorded_but_counted_once(self, book):
        event = bet("r1", "a1", 10)
        assert book.send(event).valid
        again = book.send(event)
        assert again.valid and again.duplicate
        assert [(v.rule, v.severity) for v in again.violations] == [("activity.retry", "info")]
        assert book.round("r1")["bet_total"] == "10.00" and book.round("r1")["events"] == 1
        assert book.runtime.store.counts()["duplicates"] == 1

    def test_a_retry_with_keys_reordered_is_still_a_retry(self, book):
        event = bet("r1", "a1", 10)
        book.send(event)
        assert book.rules(dict(reversed(list(event.items())))) == {"activity.retry"}

    def test_a_different_payload_under_the_same_id_is_an_error(self, book):
        book.send(bet("r1", "a1", 10))
        verdict = book.send(bet("r1", "a1", 12))
        assert not verdict.valid and {v.rule for v in verdict.violations} == {"activity.duplicate"}
        assert book.round("r1")["bet_total"] == "10.00"


class TestRollbacks:
    def test_a_rollback_reverses_the_bet_it_names(self, book):
        first = bet("r1", "a1", 10)
        book.send(first)
        book.send(bet("r1", "a2", 5, 1))
        assert book.send(rollback(first)).valid
        r = book.round("r1")
        assert (r["bet_total"], r["rollback_total"], r["events"]) == ("5.00", "10.00", 3)

    def test_a_rollback_reverses_a_win_even_after_the_round_ended(self, book):
        book.send(bet("r1", "a1", 10))
        w = win("r1", "a2", 25, 1)
        book.send(w)
        assert book.send(rollback(w)).valid
        r = book.round("r1")
        assert (r["win_total"], r["rollback_total"], r["status"]) == ("0.00", "25.00", "closed")

    def test_a_rollback_of_nothing_is_unknown_and_reverses_nothing(self, book):
        book.send(bet("r1", "a1", 10))
        verdict = book.send(rollback(bet("r1", "nope", 10)))
        assert not verdict.valid and {v.rule for v in verdict.violations} == {"round.rollback_unknown"}
        assert book.round("r1")["bet_total"] == "10.00"

    def test_a_rollback_naming_an_event_of_another_round_is_unknown(self, book):
        book.send(bet("r1", "a1", 10))
        assert book.rules(rollback(bet("r2", "a1", 10))) == {"round.rollback_unknown"}
        assert book.round("r1")["rollback_total"] == "0.00"

    def test_a_rollback_retry_is_counted_once(self, book):
        first = bet("r1", "a1", 10)
        book.send(first)
        book.send(rollback(first))
        assert book.rules(rollback(first)) == {"activity.retry"}
        assert book.round("r1")["rollback_total"] == "10.00"

    def test_a_second_different_rollback_is_a_duplicate(self, book):
        first = bet("r1", "a1", 10)
        book.send(first)
        book.send(rollback(first))
        assert book.rules({**rollback(first), "timestamp": at(5)}) == {"activity.duplicate"}

    def test_a_rollback_with_another_amount_warns_and_reverses_the_original(self, book):
        book.send(bet("r1", "a1", 10))
        verdict = book.send(rollback(bet("r1", "a1", 3)))
        assert verdict.valid and {v.rule for v in verdict.violations} == {"round.rollback_mismatch"}
        assert book.round("r1")["rollback_total"] == "10.00"


class TestRoundRules:
    def test_win_without_bet_warns_and_still_counts(self, book):
        verdict = book.send(win("r1", "a1", 5))
        assert verdict.valid and {v.rule for v in verdict.violations} == {"round.win_without_bet"}
        assert book.round("r1")["win_total"] == "5.00"

    def test_win_after_a_bet_does_not_warn(self, book):
        book.send(bet("r1", "a1", 5))
        assert book.rules(win("r1", "a2", 5, 1)) == set()

    def test_an_event_after_the_round_ended_is_an_error_and_not_counted(self, book):
        book.send(bet("r1", "a1", 5))
        book.send(win("r1", "a2", 5, 1))
        verdict = book.send(bet("r1", "a3", 7, 2))
        assert not verdict.valid and {v.rule for v in verdict.violations} == {"round.after_end"}
        assert book.round("r1")["bet_total"] == "5.00"

    def test_currency_must_stay_the_same_within_a_round(self, book):
        book.send(bet("r1", "a1", 5))
        assert book.rules(bet("r1", "a2", 5, 1, currency="SEK")) == {"round.currency_mismatch"}
        assert book.round("r1")["bet_total"] == "5.00"

    def test_game_should_stay_the_same_within_a_round(self, book):
        book.send(bet("r1", "a1", 5))
        assert book.rules(bet("r1", "a2", 5, 1, game_id="999")) == {"round.game_mismatch"}

    def test_without_round_id_an_event_joins_no_round(self, make_judge):
        send = make_judge(profile="lenient", severity=["latency.budget=off"])
        verdict = send(bet(None, "a1", 5))
        assert verdict.valid and [(v.rule, v.severity) for v in verdict.violations] == [("round.missing_id", "info")]

    def test_an_invalid_event_never_moves_a_round(self, book):
        book.send(bet("r1", "a1", 5))
        assert not book.send({**bet("r1", "a2", 5, 1), "amount": 99}).valid  # amount.sum error
        assert book.round("r1")["bet_total"] == "5.00"


class TestSessions:
    def test_rounds_closer_than_the_idle_time_share_a_session(self, book):
        book.send(bet("r1", "a1", 10, 0))
        book.send(win("r1", "a2", 4, 1))
        book.send(bet("r2", "a3", 5, 20))
        book.send(win("r2", "a4", 0, 21))
        book.send(bet("r3", "a5", 1, 60))  # 39 minutes after r2 ended: a new session
        sessions = book.sessions()
        assert [(s["rounds"], s["bet_total"], s["win_total"]) for s in sessions] == [(2, "15.00", "4.00"),
                                                                                    (1, "1.00", "0.00")]
        assert sessions[0]["started_at"] == at(0) and sessions[0]["ended_at"] == at(21)

    def test_idle_time_is_configurable(self, book):
        book.send(bet("r1", "a1", 10, 0, is_round_end=True))
        book.send(bet("r2", "a2", 10, 10, is_round_end=True))
        assert len(book.sessions(idle=1800)) == 1
        assert len(book.sessions(idle=300)) == 2

    def test_sessions_are_per_game(self, book):
        book.send(bet("r1", "a1", 10, 0, is_round_end=True))
        book.send(bet("r2", "a2", 10, 1, is_round_end=True, game_id="777"))
        assert sorted(s["game_id"] for s in book.sessions()) == ["10911", "777"]


def test_rounds_survive_a_restart(make_settings):
    settings = make_settings(severity=["latency.budget=off"])
    first = Runtime(settings)
    judge_with(first)(bet("r1", "a1", 10))
    first.close()
    second = Runtime(settings)
    try:
        send = judge_with(second)
        assert {v.rule for v in send(bet("r1", "a1", 10)).violations} == {"activity.retry"}
        assert send(win("r1", "a2", 3, 1)).valid
        r = Book(second).round("r1")
        assert (r["bet_total"], r["win_total"], r["status"]) == ("10.00", "3.00", "closed")
    finally:
        second.close()
