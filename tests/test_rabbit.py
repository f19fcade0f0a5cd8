"""The RabbitMQ listener against a real RabbitMQ: the marker, poison, store failures, crashes and outages."""
import pytest

from simulator.clients.publish import publish_rabbit

from tests.brokers import (channel_state, fail_store_once, lose_first_batch_after_commit, queue_depth, received,
                      rules_of, stored, unique, wait_for)
from tests.conftest import casino_event, hold_fsync

pytestmark = pytest.mark.broker


def test_only_the_type_property_marks_a_casino_message(start_server, rabbit_url, rabbit_queue):
    publish_rabbit(rabbit_url, rabbit_queue, [casino_event(activity_id="property")])
    publish_rabbit(rabbit_url, rabbit_queue, [casino_event(activity_id="header-only")], marker=None,
                   headers={"type": "CASINO"})
    publish_rabbit(rabbit_url, rabbit_queue, [casino_event(activity_id="none")], marker=None)
    publish_rabbit(rabbit_url, rabbit_queue, [casino_event(activity_id="lowercase")], marker="casino")
    server = start_server(rabbit=rabbit_url, rabbit_queue=rabbit_queue)
    wait_for(lambda: received(server) == 4, what="4 messages judged")
    found = stored(server)
    assert found["property"]["valid"] and found["property"]["violations"] == []
    for name in ("header-only", "none", "lowercase"):
        assert not found[name]["valid"] and rules_of(found[name]) == {"transport.type"}, name
    assert "headers are ignored" in found["header-only"]["violations"][0]["message"]
    assert "a header type = 'CASINO' came, but the marker is the property" in \
        found["header-only"]["violations"][0]["message"]
    assert "got no type marker" in found["none"]["violations"][0]["message"]
    assert "header" not in found["none"]["violations"][0]["message"].split("got")[-1]
    assert "got type 'casino'; did you mean 'CASINO'?" in found["lowercase"]["violations"][0]["message"]
    assert all(m["channel"] == "rabbit" for m in found.values())
    server.stop()
    assert queue_depth(rabbit_url, rabbit_queue) == 0  # all acked: nothing went back on the queue


def test_a_poison_message_is_stored_with_its_parse_error_and_acked(start_server, rabbit_url, rabbit_queue):
    publish_rabbit(rabbit_url, rabbit_queue, [b"{not json", b"\xff\xfe", casino_event(activity_id="after")])
    server = start_server(rabbit=rabbit_url, rabbit_queue=rabbit_queue)
    wait_for(lambda: received(server) == 3, what="3 messages judged")
    summary = server.runtime.store.counts()
    assert summary["by_rule"]["json.parse"]["messages"] == 2 and summary["valid"] == 1
    server.stop()
    assert queue_depth(rabbit_url, rabbit_queue) == 0  # acked, so never delivered again
    assert server.runtime.channels["rabbit"].extra.get("redelivered", 0) == 0


def test_hostile_bodies_and_a_judging_bug_never_stall_the_queue(start_server, rabbit_url, rabbit_queue,
                                                                 monkeypatch):
    """Deep bodies (orjson refuses one, the other breaks its digest) and a rule that raises (injected)."""
    from simulator.contract import rules

    from tests.test_hostile_bodies import BRACKETS, boom_on, nested

    monkeypatch.setattr(rules, "RULES", rules.RULES + [boom_on("bug")])
    publish_rabbit(rabbit_url, rabbit_queue, [BRACKETS, casino_event(activity_id="deep", meta=nested(300)),
                                              casino_event(activity_id="bug")]
                   + [casino_event(activity_id=f"after-{i}") for i in range(5)])
    server = start_server(rabbit=rabbit_url, rabbit_queue=rabbit_queue)
    wait_for(lambda: received(server) == 8, what="all 8 messages judged")
    counts = server.runtime.store.counts()
    assert counts["by_rule"]["json.parse"]["messages"] == 2 and counts["by_rule"]["ftsim.internal"]["messages"] == 1
    assert counts["valid"] == 5
    server.stop()
    assert queue_depth(rabbit_url, rabbit_queue) == 0
    assert server.runtime.channels["rabbit"].extra.get("redelivered", 0) == 0


def test_a_store_failure_leaves_the_batch_with_the_broker_until_it_is_stored(start_server, rabbit_url,
                                                                                rabbit_queue):
    """A failing store cannot be produced on demand by a real SQLite file; the fault is injected once."""
    server = start_server(rabbit=rabbit_url, rabbit_queue=rabbit_queue)
    calls = fail_store_once(server, lambda e: (e.raw, e.maybe_redelivered))
    events = [casino_event() for _ in range(5)]
    publish_rabbit(rabbit_url, rabbit_queue, events)
    wait_for(lambda: received(server) == 5, what="all 5 stored after the failure")
    first = calls[0]
    again = [item for batch in calls[1:] for item in batch if item[0] in {raw for raw, _ in first}]
    assert len(again) == len(first) and all(redelivered for _, redelivered in again)
    assert sorted(stored(server)) == sorted(e["activity_id"] for e in events)
    server.stop()
    assert queue_depth(rabbit_url, rabbit_queue) == 0


def test_a_batch_stored_but_not_acked_comes_back_and_is_not_stored_twice(start_server, rabbit_url, rabbit_queue):
    """The connection dies between commit and ack (injected): the broker redelivers, intake recognises it."""
    server = start_server(rabbit=rabbit_url, rabbit_queue=rabbit_queue)
    calls = lose_first_batch_after_commit(server, "connection lost before the ack")
    publish_rabbit(rabbit_url, rabbit_queue, [casino_event() for _ in range(20)])
    wait_for(lambda: calls and channel_state(server, "rabbit").get("redelivered") == calls[0]
             and received(server) == 20,
             what="the unacked batch redelivered and everything stored")
    summary = server.runtime.store.counts()
    assert summary["received"] == 20 and summary["valid"] == 20 and summary["duplicates"] == 0
    server.stop()
    assert queue_depth(rabbit_url, rabbit_queue) == 0


def test_the_next_batch_is_judged_while_the_last_waits_for_the_disk_and_none_is_acked_before(
        start_server, rabbit_url, rabbit_queue, monkeypatch):
    """With the WAL's fsync held, a second batch is committed (the listener's thread did not wait for the
    disk after the first), neither counts as consumed (acked only once on disk), and all are acked after.
    How the broker's frames split into batches varies with load, so the test counts commits, not sizes."""
    release, fsyncs = hold_fsync(monkeypatch)
    server = start_server(rabbit=rabbit_url, rabbit_queue=rabbit_queue, batch_max=5)
    commit, sizes = server.runtime.intake.commit, []

    def counted(envelopes):
        answer = commit(envelopes)
        sizes.append(len(envelopes))
        return answer

    server.runtime.intake.commit = counted
    publish_rabbit(rabbit_url, rabbit_queue, [casino_event() for _ in range(10)])
    wait_for(lambda: len(sizes) >= 2, what="a second batch committed while the first waits for the disk")
    assert fsyncs and channel_state(server, "rabbit")["consumed"] == 0
    assert server.runtime.store.counts()["received"] == sum(sizes)
    release.set()
    wait_for(lambda: channel_state(server, "rabbit")["consumed"] == 10, what="all acked once on disk")
    server.stop()
    assert queue_depth(rabbit_url, rabbit_queue) == 0


def test_a_failed_fsync_sends_every_committed_batch_back_to_the_queue(start_server, rabbit_url, rabbit_queue,
                                                                        monkeypatch):
    """The disk error is the one fake (a real one cannot be made here): the batches committed before it were
    not acked (nacked, delivered again, refused again), so the broker holds all of them when ftsim stops, and
    the listener says why meanwhile."""
    from simulator.store import walsync

    def broken(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(walsync.os, "fdatasync", broken)
    publish_rabbit(rabbit_url, rabbit_queue, [casino_event() for _ in range(10)])
    server = start_server(rabbit=rabbit_url, rabbit_queue=rabbit_queue, batch_max=5)
    wait_for(lambda: "could not be flushed" in (channel_state(server, "rabbit")["error"] or ""),
             what="the listener's error")
    assert server.runtime.store.counts()["received"] >= 1  # committed, the fsync failed after
    assert channel_state(server, "rabbit")["consumed"] == 0
    server.stop()
    assert queue_depth(rabbit_url, rabbit_queue) == 10


@pytest.mark.parametrize("workers", ["1", "2"])  # one process; a supervisor with its HTTP workers
def test_killed_mid_stream_and_restarted_every_message_is_stored_exactly_once(ftsim_process, rabbit_url,
                                                                              rabbit_queue, tmp_path,
                                                                              workers):
    n = 10_000
    publish_rabbit(rabbit_url, rabbit_queue, [casino_event() for _ in range(n)], confirm=False)
    args = ("--db", str(tmp_path / "killed.db"), "--rabbit", rabbit_url, "--rabbit-queue", rabbit_queue,
            "--batch-max", "50", "--severity", "latency.budget=off", "--workers", workers)
    first = ftsim_process(*args)
    wait_for(lambda: received(first.url) >= 500, what="ftsim to be mid-stream")
    first.kill_hard(workers)
    second = ftsim_process(*args)
    at_start = received(second.url)
    assert 500 <= at_start < n  # killed mid-stream, and what it committed survived
    wait_for(lambda: received(second.url) >= n and queue_depth(rabbit_url, rabbit_queue) == 0, 60,
             what="the rest consumed")
    summary = second.summary()
    assert (summary["received"], summary["valid"], summary["duplicates"]) == (n, n, 0)
    assert second.terminate() == 0  # SIGTERM: finish the batch in hand, ack, close, exit 0
    assert queue_depth(rabbit_url, rabbit_queue) == 0


def test_ftsim_resumes_by_itself_when_the_broker_comes_back(rabbit_node, start_server):
    queue = unique("ftsim.outage")
    server = start_server(rabbit=rabbit_node.url, rabbit_queue=queue)
    publish_rabbit(rabbit_node.url, queue, [casino_event() for _ in range(10)])
    wait_for(lambda: received(server) == 10, what="the first 10 judged")
    rabbit_node.stop_app()
    wait_for(lambda: not channel_state(server, "rabbit")["connected"], what="ftsim to notice the outage")
    assert channel_state(server, "rabbit")["error"]
    rabbit_node.start_app()
    publish_rabbit(rabbit_node.url, queue, [casino_event() for _ in range(10)])
    wait_for(lambda: received(server) == 20, 30, what="the next 10 judged after the restart")
    state = channel_state(server, "rabbit")
    assert state["connected"] and state["error"] is None and state["consumed"] == 20


def test_a_queue_declared_before_with_other_arguments_is_used_as_it_is(start_server, rabbit_url, rabbit_queue):
    import pika

    conn = pika.BlockingConnection(pika.URLParameters(rabbit_url))
    try:  # not durable, with a length limit: ftsim's durable declare would be refused (406)
        conn.channel().queue_declare(rabbit_queue, durable=False, arguments={"x-max-length": 100})
    finally:
        conn.close()
    server = start_server(rabbit=rabbit_url, rabbit_queue=rabbit_queue)
    publish_rabbit(rabbit_url, rabbit_queue, [casino_event()])
    wait_for(lambda: received(server) == 1, what="the message judged")
    assert channel_state(server, "rabbit")["connected"]
