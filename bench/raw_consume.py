"""The broker ceilings: consume a preloaded queue or topic with the same client ftsim uses, judging nothing.

RabbitMQ: pika, prefetch 1000, one ack per 500 messages (multiple=True), as ftsim acks per batch.
Kafka: kafka-python in a consumer group, offsets committed after each poll, as ftsim commits per batch.
Prints one JSON line: {"count", "first", "last"} with wall-clock times of the first and last message,
so start-up and the group join are not counted, as they are not for ftsim.

    python bench/raw_consume.py rabbit AMQP_URL QUEUE COUNT
    python bench/raw_consume.py kafka BOOTSTRAP TOPIC COUNT
"""
from __future__ import annotations

import json
import sys
import time


def rabbit(url: str, queue: str, count: int) -> dict:
    import pika

    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    ch.basic_qos(prefetch_count=1000)
    seen = {"n": 0, "first": None, "last": None}

    def on_message(channel, method, properties, body):
        seen["n"] += 1
        if seen["first"] is None:
            seen["first"] = time.time()
        if seen["n"] % 500 == 0 or seen["n"] == count:
            channel.basic_ack(method.delivery_tag, multiple=True)
        if seen["n"] >= count:
            seen["last"] = time.time()
            channel.stop_consuming()

    ch.basic_consume(queue, on_message)
    ch.start_consuming()
    conn.close()
    return {"count": seen["n"], "first": seen["first"], "last": seen["last"]}


def kafka(bootstrap: str, topic: str, count: int) -> dict:
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"raw-{topic}",
                             auto_offset_reset="earliest", enable_auto_commit=False, session_timeout_ms=6000,
                             heartbeat_interval_ms=2000, max_poll_records=500)
    n, first, last = 0, None, None
    deadline = time.monotonic() + 300
    while n < count and time.monotonic() < deadline:
        batches = consumer.poll(timeout_ms=1000)
        for records in batches.values():
            for _ in records:
                n += 1
                if first is None:
                    first = time.time()
        if batches:
            consumer.commit()
            last = time.time()
    consumer.close()
    return {"count": n, "first": first, "last": last}


if __name__ == "__main__":
    kind, target, name, total = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    print(json.dumps((rabbit if kind == "rabbit" else kafka)(target, name, total)), flush=True)
