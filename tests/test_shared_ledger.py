"""Several ftsim instances on one database share one ledger: a message two of them see is counted once."""
import threading

from simulator.types.casino import tables, views
from simulator.runtime import Runtime

from tests.conftest import casino_event, judge_with


def test_two_instances_judging_the_same_feed_count_each_event_once(make_settings, db_target):
    settings = make_settings(db=db_target, severity=["latency.budget=off"])
    a, b = Runtime(settings), Runtime(settings)
    feed = []
    for i in range(60):
        feed.append(casino_event(round_id=f"r{i}", activity_id=f"bet-{i}", amount=10, wager_amount=10))
        feed.append(casino_event(round_id=f"r{i}", activity_id=f"win-{i}", type="Win", amount=4, wager_amount=4,
                                 is_round_end=True))
    try:
        threads = [threading.Thread(target=lambda rt=rt: [judge_with(rt)(e) for e in feed]) for rt in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        counts = a.store.counts()
        assert counts["received"] == 240 and counts["duplicates"] == 120 and counts["invalid"] == 0
        rounds = [views.round_dict(r) for r in tables.rounds(a.store)]
        assert len(rounds) == 60
        assert {(r["bet_total"], r["win_total"], r["events"], r["status"]) for r in rounds} == {
            ("10.00", "4.00", 2, "closed")}
    finally:
        a.close()
        b.close()
