"""Concurrent REST callers share transactions, yet each gets its own verdict, committed, exactly once."""
import json
import threading

from simulator.core.envelope import Envelope

from tests.conftest import casino_event, two_callers_while_the_fsync_is_held


def test_concurrent_callers_each_get_their_own_committed_verdict(runtime):
    results: dict[str, object] = {}

    def caller(n: int):
        for i in range(40):
            aid = f"t{n}-{i}"
            event = casino_event(activity_id=aid, amount=5 if i % 5 == 0 else 20.0)  # every 5th breaks amount.sum
            results[aid] = runtime.intake.one(Envelope("rest", json.dumps(event).encode(), "CASINO"))

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 640
    for aid, verdict in results.items():
        expect_valid = int(aid.rsplit("-", 1)[1]) % 5 != 0
        assert verdict.valid is expect_valid, aid
    counts = runtime.store.counts()
    assert (counts["received"], counts["valid"], counts["invalid"]) == (640, 512, 128)
    stored, _ = runtime.store.messages(limit=1000)
    assert sorted(m["id"] for m in stored) == sorted(v.id for v in results.values())


def test_a_store_failure_reaches_every_waiting_caller(runtime):
    from simulator.core.errors import StoreError

    runtime.store.close()  # a closed database: every commit fails
    errors = []

    def caller():
        try:
            runtime.intake.one(Envelope("rest", json.dumps(casino_event()).encode(), "CASINO"))
        except StoreError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 8


def test_a_caller_returns_once_the_disk_has_it_while_the_next_batch_commits(runtime, monkeypatch):
    """With the WAL's fsync held, the first caller's message is committed but `one` has not returned, and the
    next caller leads a batch of its own and commits it meanwhile; both return once the fsync is let go."""
    def one(name):
        event = casino_event(activity_id=name)
        return runtime.intake.one(Envelope("rest", json.dumps(event).encode(), "CASINO"))

    answers, calls = two_callers_while_the_fsync_is_held(monkeypatch, one, runtime.store)
    assert answers["first"].valid and answers["second"].valid and len(calls) <= 2
