"""Put casino messages on a broker the way an operator's platform does: for tests, demos and quick loads.

RabbitMQ carries the marker as the AMQP message property `type`, Kafka as the message header `type`; both
can also add headers, so a test can send the marker in the wrong place. Bodies may be bytes (sent as they
are, poison included) or dicts (sent as JSON). These are bulk helpers that return once the broker has
everything; `simulator.clients.sender` is the paced, counted, retrying sender for load runs.
"""
from __future__ import annotations

import json
from typing import Iterable

MARKER = "CASINO"
UNSET = object()


def _raw(body) -> bytes:
    return body if isinstance(body, bytes) else json.dumps(body).encode()


def publish_rabbit(url: str, queue: str, bodies: Iterable, *, marker: str | None = MARKER,
                   headers: dict | None = None, confirm: bool = True) -> int:
    """Publish to `queue` (declared durable if missing) through the default exchange; returns the count.

    With `confirm` the channel is in confirm mode and the call returns only when the broker has taken
    every message; pika's blocking channel waits per message then, so pass confirm=False for speed.
    """
    import pika

    from simulator.core.amqp import declare

    conn = pika.BlockingConnection(pika.URLParameters(url))
    try:
        ch = declare(conn, conn.channel(), queue)
        if confirm:
            ch.confirm_delivery()
        props = pika.BasicProperties(type=marker, content_type="application/json", delivery_mode=2,
                                     headers=headers or None)
        n = 0
        for body in bodies:
            ch.basic_publish("", queue, _raw(body), props)
            n += 1
        if not confirm:  # a queue declare round-trips after every publish on the channel has been sent
            declare(conn, ch, queue)
        return n
    finally:
        conn.close()


class KafkaPublisher:
    """One producer for many sends; `close()` flushes and raises if the broker refused any message."""

    def __init__(self, bootstrap: str):
        from kafka import KafkaProducer

        self.producer = KafkaProducer(bootstrap_servers=bootstrap.split(","), acks="all", linger_ms=5,
                                      batch_size=256 * 1024, max_in_flight_requests_per_connection=1)
        self._futures = []

    def send(self, topic: str, body, *, marker: str | None = MARKER, headers: dict | None = None,
             key=UNSET) -> None:
        """Key defaults to the body's user_id, so one player's events keep their order on one partition."""
        if key is UNSET:
            key = body.get("user_id") if isinstance(body, dict) else None
        pairs = [("type", marker.encode())] if marker is not None else []
        pairs += [(k, v if isinstance(v, bytes) else str(v).encode()) for k, v in (headers or {}).items()]
        if key is not None and not isinstance(key, bytes):
            key = str(key).encode()
        self._futures.append(self.producer.send(topic, _raw(body), key=key, headers=pairs))

    def close(self) -> int:
        self.producer.flush()
        futures, self._futures = self._futures, []
        try:
            for f in futures:
                f.get(timeout=30)  # raises the broker's refusal, if any
        finally:
            self.producer.close()
        return len(futures)


def publish_kafka(bootstrap: str, topic: str, bodies: Iterable, *, marker: str | None = MARKER,
                  headers: dict | None = None, key=UNSET) -> int:
    """Produce every body to `topic` with acks=all; returns the count once the broker has them all."""
    publisher = KafkaPublisher(bootstrap)
    try:
        for body in bodies:
            publisher.send(topic, body, marker=marker, headers=headers, key=key)
    finally:
        count = publisher.close()
    return count
