"""Concurrent REST callers share transactions, yet each gets its own verdict, committed, exactly once."""
import json
import threading

from simulator.core.envelope import Envelope

from tests.brokers import wait_for
from tests.conftest import casino_event, hold_fsync


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


def test_callers_arriving_while_the_disk_flushes_share_the_next_commit(runtime, monkeypatch):
    """With the WAL's fsync held, the first caller's message is committed but `one` has not returned; the
    callers that arrive meanwhile wait, nothing more is committed while the disk flushes, and once the fsync
    is let go they are committed in one transaction (committed one by one, each would have waited for the
    next fsync all the same). Nobody returns before the disk has their message."""
    release, fsyncs = hold_fsync(monkeypatch)
    sizes, commit = [], runtime.intake.commit

    def counting(envelopes, stateless=None):
        envelopes = list(envelopes)
        sizes.append(len(envelopes))
        return commit(envelopes, stateless)

    monkeypatch.setattr(runtime.intake, "commit", counting)
    answers = {}

    def caller(name):
        event = casino_event(activity_id=name)
        answers[name] = runtime.intake.one(Envelope("rest", json.dumps(event).encode(), "CASINO"))

    threads = [threading.Thread(target=caller, args=(name,)) for name in ("first", "a", "b", "c", "d")]
    threads[0].start()
    wait_for(lambda: fsyncs and sizes == [1], what="the first commit, its fsync held")
    for t in threads[1:]:
        t.start()
    wait_for(lambda: runtime.intake._group.waiting == 4, what="four more callers waiting")
    assert sizes == [1] and answers == {}  # committed, not on disk: nobody answered, nothing more committed
    release.set()
    for t in threads:
        t.join(30)
    assert sizes == [1, 4] and len(answers) == 5 and all(v.valid for v in answers.values())
    assert runtime.store.counts()["received"] == 5
