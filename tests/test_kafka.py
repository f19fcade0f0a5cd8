"""The Kafka listener against a real Kafka-compatible broker (tansu): marker, poison, crashes, outages, groups."""
import pytest

from simulator.clients.publish import KafkaPublisher, publish_kafka

from tests.brokers import (channel_state, create_topic, fail_store_once, lose_first_batch_after_commit, received,
                      rules_of, stored, unique, wait_for)
from tests.conftest import casino_event

pytestmark = pytest.mark.broker


def committed(bootstrap: str, group: str, topic: str) -> int:
    """The sum of the group's committed offsets: how many messages it has told the broker it is done with."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        return sum(consumer.committed(TopicPartition(topic, p)) or 0 for p in consumer.partitions_for_topic(topic))
    finally:
        consumer.close()


@pytest.fixture
def kafka_server(start_server, kafka_bootstrap, kafka_topic):
    """ftsim consuming the test's topic, returned once its group has given it the partitions."""
    def start(**flags):
        flags.setdefault("kafka_group", f"g-{kafka_topic}")
        server = start_server(kafka=kafka_bootstrap, kafka_topic=kafka_topic, **flags)
        wait_for(lambda: channel_state(server, "kafka").get("partitions"), 30, what="partitions assigned")
        return server
    return start


def test_only_the_type_header_marks_a_casino_message(kafka_server, kafka_bootstrap, kafka_topic):
    server = kafka_server()
    publisher = KafkaPublisher(kafka_bootstrap)
    publisher.send(kafka_topic, casino_event(activity_id="header"))
    publisher.send(kafka_topic, casino_event(activity_id="none"), marker=None)
    publisher.send(kafka_topic, casino_event(activity_id="lowercase"), marker="casino")
    publisher.send(kafka_topic, casino_event(activity_id="other-key"), marker=None, headers={"Type": "CASINO"})
    publisher.close()
    wait_for(lambda: received(server) == 4, what="4 messages judged")
    found = stored(server)
    assert found["header"]["valid"] and found["header"]["violations"] == []
    for name in ("none", "lowercase", "other-key"):
        assert not found[name]["valid"] and rules_of(found[name]) == {"transport.type"}, name
    assert "Kafka message header 'type'" in found["none"]["violations"][0]["message"]
    assert all(m["channel"] == "kafka" and "partition" in m["source"] for m in found.values())


def test_a_poison_message_is_stored_with_its_parse_error_and_committed(kafka_server, kafka_bootstrap,
                                                                       kafka_topic):
    publish_kafka(kafka_bootstrap, kafka_topic, [b"{not json", b"\xff\xfe"])
    publish_kafka(kafka_bootstrap, kafka_topic, [casino_event()])
    server = kafka_server(kafka_group="poison")
    wait_for(lambda: received(server) == 3, what="3 messages judged")
    assert server.runtime.store.counts()["by_rule"]["json.parse"]["messages"] == 2
    wait_for(lambda: committed(kafka_bootstrap, "poison", kafka_topic) == 3, what="the offsets past them committed")


def test_hostile_bodies_and_a_judging_bug_never_stall_the_topic(kafka_server, kafka_bootstrap, kafka_topic,
                                                                monkeypatch):
    """Deep bodies (orjson refuses one, the other breaks its digest) and a rule that raises (injected)."""
    from simulator.contract import rules

    from tests.test_hostile_bodies import BRACKETS, boom_on, nested

    monkeypatch.setattr(rules, "RULES", rules.RULES + [boom_on("bug")])
    publish_kafka(kafka_bootstrap, kafka_topic, [BRACKETS, casino_event(activity_id="deep", meta=nested(300)),
                                                 casino_event(activity_id="bug")]
                  + [casino_event(activity_id=f"after-{i}") for i in range(5)], key=b"one-partition")
    server = kafka_server(kafka_group="hostile")
    wait_for(lambda: received(server) == 8, what="all 8 messages judged")
    counts = server.runtime.store.counts()
    assert counts["by_rule"]["json.parse"]["messages"] == 2 and counts["by_rule"]["ftsim.internal"]["messages"] == 1
    assert counts["valid"] == 5
    wait_for(lambda: committed(kafka_bootstrap, "hostile", kafka_topic) == 8, what="the offsets past them committed")


def test_a_store_failure_reads_the_batch_again_until_it_is_stored(kafka_server, kafka_bootstrap, kafka_topic):
    """A failing store cannot be produced on demand by a real SQLite file; the fault is injected once."""
    server = kafka_server()
    calls = fail_store_once(server, lambda e: e.delivery_key)
    events = [casino_event() for _ in range(6)]
    publish_kafka(kafka_bootstrap, kafka_topic, events)
    wait_for(lambda: received(server) == 6, what="all 6 stored after the failure")
    assert set(calls[0]) <= {key for batch in calls[1:] for key in batch}  # read again, not skipped
    assert sorted(stored(server)) == sorted(e["activity_id"] for e in events)


def test_a_batch_stored_but_not_committed_comes_back_and_is_not_stored_twice(kafka_server, kafka_bootstrap,
                                                                             kafka_topic):
    """The consumer dies between the store's commit and the offset commit (injected): it reconnects, reads
    the batch again from the last committed offset, and intake recognises every message."""
    server = kafka_server()
    calls = lose_first_batch_after_commit(server, "consumer lost before committing offsets")
    publish_kafka(kafka_bootstrap, kafka_topic, [casino_event() for _ in range(30)])
    wait_for(lambda: calls and channel_state(server, "kafka").get("redelivered") == calls[0]
             and received(server) == 30, 30, what="the uncommitted batch read again and everything stored")
    summary = server.runtime.store.counts()
    assert (summary["received"], summary["valid"], summary["duplicates"]) == (30, 30, 0)


@pytest.mark.parametrize("workers", ["1", "2"])  # one process; a supervisor with its HTTP workers
def test_killed_mid_stream_and_restarted_every_message_is_stored_exactly_once(ftsim_process, kafka_bootstrap,
                                                                              kafka_topic, tmp_path,
                                                                              workers):
    n = 10_000
    publish_kafka(kafka_bootstrap, kafka_topic, [casino_event(user_id=f"u{i % 40}") for i in range(n)])
    args = ("--db", str(tmp_path / "killed.db"), "--kafka", kafka_bootstrap, "--kafka-topic", kafka_topic,
            "--kafka-group", f"killed-{workers}", "--batch-max", "50", "--severity", "latency.budget=off",
            "--workers", workers)
    first = ftsim_process(*args)
    wait_for(lambda: received(first.url) >= 500, 30, what="ftsim to be mid-stream")
    first.kill_hard(workers)
    second = ftsim_process(*args)
    at_start = received(second.url)
    assert 500 <= at_start < n  # killed mid-stream, and what it committed survived
    wait_for(lambda: received(second.url) >= n and committed(kafka_bootstrap, f"killed-{workers}", kafka_topic) == n,
             60,
             what="the rest consumed and committed")
    summary = second.summary()
    assert (summary["received"], summary["valid"], summary["duplicates"]) == (n, n, 0)
    assert second.terminate() == 0


def test_ftsim_resumes_by_itself_when_the_broker_comes_back(tansu_broker, start_server):
    """tansu keeps everything in memory: after its restart the topic is created again, offsets from 0."""
    topic = create_topic(tansu_broker.bootstrap, unique("outage"))
    server = start_server(kafka=tansu_broker.bootstrap, kafka_topic=topic, kafka_group="outage")
    publish_kafka(tansu_broker.bootstrap, topic, [casino_event() for _ in range(10)])
    wait_for(lambda: received(server) == 10, what="the first 10 judged")
    tansu_broker.stop()
    wait_for(lambda: not channel_state(server, "kafka")["connected"], what="ftsim to notice the outage")
    tansu_broker.start()
    create_topic(tansu_broker.bootstrap, topic)
    publish_kafka(tansu_broker.bootstrap, topic, [casino_event() for _ in range(10)])
    wait_for(lambda: received(server) == 20, 45, what="the next 10 judged after the restart")
    assert server.runtime.store.counts()["valid"] == 20  # same offsets as before, yet none taken for a redelivery
    wait_for(lambda: channel_state(server, "kafka")["connected"], what="ftsim to say it is connected again")


def test_two_consumers_in_one_group_split_the_topic_and_judge_nothing_twice(start_server, kafka_bootstrap,
                                                                          kafka_topic, tmp_path):
    group = f"pair-{kafka_topic}"
    servers = [start_server(db=str(tmp_path / f"member{i}.db"), kafka=kafka_bootstrap, kafka_topic=kafka_topic,
                            kafka_group=group) for i in range(2)]
    wait_for(lambda: all(len(channel_state(s, "kafka")["partitions"]) == 1 for s in servers), 30,
             what="each member to hold one of the two partitions")
    events = [casino_event(user_id=f"u{i % 20}") for i in range(400)]
    publish_kafka(kafka_bootstrap, kafka_topic, events)
    wait_for(lambda: sum(received(s) for s in servers) >= 400, what="all 400 judged")
    seen = [set(stored(s)) for s in servers]
    assert sum(received(s) for s in servers) == 400
    assert seen[0].isdisjoint(seen[1]) and seen[0] | seen[1] == {e["activity_id"] for e in events}
    assert all(seen)  # both took part


def test_two_instances_on_one_postgres_hand_over_a_killed_ones_partitions_and_judge_nothing_twice(
        ftsim_process, kafka_bootstrap, kafka_topic, pg_url):
    """Two `ftsim serve` (each a supervisor with two HTTP workers), as on two hosts: one PostgreSQL ledger,
    one consumer group. One is SIGKILLed mid-stream with batches stored but their offsets not committed;
    the group gives its partition to the other, which reads those records again: each is recognised in the
    shared store by its delivery key, so the one summary counts every record once."""
    n, group = 6000, f"hosts-{kafka_topic}"
    publish_kafka(kafka_bootstrap, kafka_topic, [casino_event(user_id=f"u{i % 40}") for i in range(n)])
    args = ("--db", pg_url, "--kafka", kafka_bootstrap, "--kafka-topic", kafka_topic, "--kafka-group", group,
            "--batch-max", "50", "--severity", "latency.budget=off", "--workers", "2")
    a, b = ftsim_process(*args), ftsim_process(*args)
    wait_for(lambda: received(a.url) >= 1000, 60, what="both instances to be mid-stream")
    a.kill()
    wait_for(lambda: received(b.url) >= n and committed(kafka_bootstrap, group, kafka_topic) == n, 120,
             what="the survivor to take the partition over and finish")
    summary = b.summary()
    assert (summary["received"], summary["valid"], summary["duplicates"]) == (n, n, 0)
    assert b.terminate() == 0
