"""Kafka: produce with the message header `type` = CASINO, keyed by user id so a player's events keep order.

kafka-python's producer batches in its own thread; each send's outcome is counted from its future.
`acks="all"` (the default here) counts a message delivered only when the broker has it; with one
request in flight per connection a retried batch cannot overtake the next, so order per key holds.
`close()` flushes: when deliver() returns, every message has been answered.
"""
from __future__ import annotations

import logging
import time

from kafka import KafkaProducer
from kafka.errors import KafkaError

from simulator.clients.sender.base import Channel, Observer, Outgoing, Stats


class KafkaChannel(Channel):
    name = "kafka"
    OPTIONS = ("topic", "acks", "linger_ms", "observe")

    def __init__(self, bootstrap: str, *, stats: Stats | None = None, topic: str = "ftsim.casino", acks="all",
                 linger_ms: int = 5, observe: Observer = None):
        if logging.getLogger("kafka").level == logging.NOTSET:  # kafka-python narrates at INFO
            logging.getLogger("kafka").setLevel(logging.WARNING)
        self.topic = topic
        self.stats = stats or Stats()
        self.observe = observe
        try:
            self.producer = KafkaProducer(bootstrap_servers=bootstrap.split(","), acks=acks, linger_ms=linger_ms,
                                          retries=5, max_in_flight_requests_per_connection=1,
                                          batch_size=256 * 1024, max_request_size=8 * 1024 * 1024)
        except KafkaError as exc:
            raise ValueError(f"kafka: cannot reach {bootstrap}: {exc}") from None

    def submit(self, item: Outgoing) -> None:
        headers = [("type", item.marker.encode())] if item.marker is not None else []
        headers += [(k, str(v).encode()) for k, v in (item.headers or {}).items()]
        started = time.perf_counter()
        try:
            future = self.producer.send(self.topic, value=item.body,
                                        key=item.key.encode() if item.key else None, headers=headers)
        except KafkaError as exc:
            return self._done(item, "failed", started, exc)
        future.add_callback(lambda _meta: self._done(item, "delivered", started, None))
        future.add_errback(lambda exc: self._done(item, "failed", started, exc))


    def close(self) -> None:
        self.producer.flush()
        self.producer.close()
