"""The combiner behind intake's group commit: every caller gets its own item's result or error, callers
that wait at once share a call, and a call that goes wrong leaves nobody waiting, and the next caller leads
again."""
from __future__ import annotations

import threading

import pytest

from simulator.core.combining import Combiner

from tests.brokers import wait_for


def run_callers(combiner, items, threads=16):
    got, errors = {}, {}

    def caller(chunk):
        for item in chunk:
            try:
                got[item] = combiner.submit(item)
            except Exception as exc:
                errors[item] = exc

    workers = [threading.Thread(target=caller, args=(items[i::threads],)) for i in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(10)
    assert not any(t.is_alive() for t in workers)  # nobody left waiting
    return got, errors


def test_each_caller_gets_its_own_result_or_error_and_waiting_callers_share_calls():
    calls = []
    gate = threading.Event()

    def call(items):
        calls.append(len(items))
        gate.wait(0.01)  # a call that takes a moment, as a commit does: callers queue behind it
        return [(None, ValueError(f"odd {i}")) if i % 2 else (i * 10, None) for i in items]

    combiner = Combiner(call, most=8)
    got, errors = run_callers(combiner, list(range(400)))
    assert got == {i: i * 10 for i in range(0, 400, 2)}
    assert sorted(errors) == list(range(1, 400, 2)) and all(str(errors[i]) == f"odd {i}" for i in errors)
    assert sum(calls) == 400 and max(calls) > 1 and max(calls) <= 8  # shared, never more than `most`


def test_a_call_that_raises_fails_its_batch_and_the_next_caller_leads_again():
    fail = threading.Event()
    fail.set()

    def call(items):
        if fail.is_set():
            raise KeyError("a bug")
        return [(i, None) for i in items]

    combiner = Combiner(call, most=64)
    got, errors = run_callers(combiner, list(range(50)))
    assert not got and len(errors) == 50
    kinds = {type(e) for e in errors.values()}
    assert KeyError in kinds and kinds <= {KeyError, RuntimeError}  # the leader's own, the others told so
    fail.clear()
    assert combiner.submit("after") == "after"


def test_a_call_that_answers_the_wrong_number_of_items_leaves_nobody_waiting():
    combiner = Combiner(lambda items: [(1, None)] * (len(items) - 1), most=64)
    with pytest.raises(RuntimeError, match="0 results for 1 items"):
        combiner.submit("x")
    got, errors = run_callers(combiner, list(range(30)), threads=6)
    assert not got and len(errors) == 30 and all(isinstance(e, RuntimeError) for e in errors.values())


def test_callers_that_arrive_while_the_leader_holds_share_its_call():
    """hold (intake's wait for the fsync under way) runs before the leader takes the queue: whoever arrives
    meanwhile is in the leader's call, not in calls of their own."""
    held, release, calls = threading.Event(), threading.Event(), []

    def hold():
        if not calls:
            held.set()
            release.wait(10)

    combiner = Combiner(lambda items: calls.append(list(items)) or [(i, None) for i in items], most=64, hold=hold)
    got = {}
    threads = [threading.Thread(target=lambda i=i: got.setdefault(i, combiner.submit(i))) for i in range(5)]
    threads[0].start()
    assert held.wait(10)
    for t in threads[1:]:
        t.start()
    wait_for(lambda: combiner.waiting == 5, what="five callers queued behind the holding leader")
    release.set()
    for t in threads:
        t.join(10)
    assert got == {i: i for i in range(5)} and calls == [[0, 1, 2, 3, 4]]
