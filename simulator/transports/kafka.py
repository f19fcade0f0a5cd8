"""Kafka: a consumer-group member with kafka-python; each poll is judged as one batch, then its offsets committed.

The marker is the message header `type`. Being a group member (group id configurable) is what lets several
ftsim instances share a topic's partitions; each partition is judged by one of them at a time.

Delivery: offsets are committed only after the batch they cover is committed to the store, and before the
next poll, so a rebalance (which happens inside poll) never takes away a partition with judged but
uncommitted messages. After a crash the uncommitted tail is consumed again; intake recognises each message
by its delivery key and returns its stored verdict instead of storing it twice.
"""
from __future__ import annotations

import logging

from simulator.core.envelope import Envelope, utcnow
from simulator.core.errors import ConfigError
from simulator.transports.base import STATE_EVERY, Every, Listener, log

POLL_MS = 200  # how long a poll may block when nothing is waiting (bounds stop latency)
# tansu answers a group's second JoinGroup only after about half the session timeout, and Kafka's own
# minimum is 6 s: 6 s joins in about 3 s; heartbeats go from kafka-python's own thread, not from poll.
SESSION_TIMEOUT_MS = 6000
HEARTBEAT_MS = 1500
FETCH_WAIT_MS = 50  # the default 500 ms wait for a full fetch adds ~100 ms to every quiet message
CLOSE_MS = 3000  # leaving the group politely is worth a moment, not a hang when the broker is gone
COMMIT_MS = 10000


def crc_is_cheap() -> bool:
    """kafka-python checks each record batch's CRC-32C in pure Python unless the `crc32c` C package is
    installed. Measured here that costs about 60 µs for a 500-byte message and holds ftsim to 6,600 msg/s
    instead of 11,000, so without the C package the check is left to TCP and to the broker (Apache Kafka
    checks the CRC when it takes a batch from the producer)."""
    from kafka.record import util

    return getattr(util, "crc32c_c", None) is not None


def delivery_key(record) -> str:
    """topic:partition:offset names a record for its topic's life; the record's timestamp tells a topic
    deleted and created again (offsets restart at 0) from the one whose messages are already stored."""
    return f"kafka:{record.topic}:{record.partition}:{record.offset}@{record.timestamp}"


def marker_of(headers) -> str | None:
    for key, value in headers or ():
        if key == "type":
            return None if value is None else value.decode("utf-8", errors="replace")
    return None


def envelope_of(record, received_at) -> Envelope:
    return Envelope("kafka", record.value or b"", marker_of(record.headers), received_at,
                    f"{record.topic} partition {record.partition} offset {record.offset}",
                    (record.partition, record.offset), delivery_key(record), True)


class KafkaListener(Listener):
    name = "kafka"

    def __init__(self, settings, runtime):
        if settings.kafka_client != "kafka-python":
            raise ConfigError(f"kafka_client: expected kafka-python, got {settings.kafka_client!r}")
        super().__init__(settings, runtime)
        self.topic = settings.kafka_topic
        self.state.extra.update(topic=self.topic, group=settings.kafka_group, partitions=[])
        if logging.getLogger("kafka").level == logging.NOTSET:
            # kafka-python logs every reconnect attempt at ERROR (ten a second in an outage); the listener
            # reports the connection itself, in the log once per change and in /api/summary.
            logging.getLogger("kafka").setLevel(logging.CRITICAL)

    def _consumer(self):
        from kafka import KafkaConsumer

        return KafkaConsumer(
            bootstrap_servers=self.settings.kafka.split(","), group_id=self.settings.kafka_group,
            client_id=f"ftsim-{self.settings.kafka_group}", enable_auto_commit=False,
            auto_offset_reset="earliest", session_timeout_ms=SESSION_TIMEOUT_MS,
            heartbeat_interval_ms=HEARTBEAT_MS, max_poll_records=self.settings.batch_max,
            max_partition_fetch_bytes=4 * 1024 * 1024, reconnect_backoff_max_ms=1000,
            metadata_max_age_ms=30000, check_crcs=crc_is_cheap(),
            fetch_max_wait_ms=FETCH_WAIT_MS)

    def consume(self) -> None:
        consumer = self._consumer()
        try:
            self._session(consumer)
        finally:
            self.state.connected = False
            try:
                consumer.close(autocommit=False, timeout_ms=CLOSE_MS)
            except Exception:  # closing after the broker went away: nothing left to save
                pass

    def _session(self, consumer) -> None:
        from kafka.structs import OffsetAndMetadata

        consumer.subscribe([self.topic])
        self.backoff.reset()
        self._next: dict = {}  # partition -> the offset after the last one judged, for the lag
        state = Every(STATE_EVERY)
        while not self.stopping:
            polled = consumer.poll(timeout_ms=POLL_MS)
            if polled:
                received_at = utcnow()
                batch = [envelope_of(r, received_at) for records in polled.values() for r in records]
                if self.judge(batch) is None:  # read them again after a pause: nothing was stored
                    for tp, records in polled.items():
                        consumer.seek(tp, records[0].offset)
                    self.pause_after_store_failure()
                    continue
                offsets = {tp: records[-1].offset + 1 for tp, records in polled.items()}
                # A commit that fails (rebalance, outage) raises: the consumer is made anew and reads the
                # batch again, which intake recognises by delivery key.
                consumer.commit({tp: OffsetAndMetadata(n, "", -1) for tp, n in offsets.items()},
                                timeout_ms=COMMIT_MS)
                self._next.update(offsets)
            if state.due():
                self._report(consumer)

    def _report(self, consumer) -> None:
        """Partitions held and lag where the broker told us its high watermark (tansu's may lag behind)."""
        assigned = sorted(consumer.assignment(), key=lambda tp: tp.partition)
        self.state.extra["partitions"] = [tp.partition for tp in assigned]
        lag = [max(0, high - self._next[tp]) for tp in assigned
               if (high := consumer.highwater(tp)) is not None and tp in self._next]
        self.state.lag = sum(lag) if lag else None
        up = reachable(consumer)
        if up is not None and up != self.state.connected:
            self.state.connected = up
            self.state.error = None if up else f"no Kafka broker reachable at {self.settings.kafka}"
            if up:
                log.info("kafka: connected to %s", self.settings.kafka)
            else:
                log.warning("kafka: %s; kafka-python keeps trying", self.state.error)


def reachable(consumer) -> bool | None:
    """Whether any broker connection is open. kafka-python reconnects by itself and says so only in its
    log, so this looks at its client (not public API: None when a kafka-python version lacks it)."""
    try:
        client = consumer._client
        return any(client.connected(b.node_id) for b in client.cluster.brokers())
    except Exception:
        return None
