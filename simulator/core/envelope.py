"""The one shape a message has after its transport: what intake sees, whatever the channel.

Transports build an Envelope at the door and hand it to intake; intake never imports Flask, pika or
kafka-python, and a transport never parses, validates or stores.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(slots=True)
class Envelope:
    channel: str  # "rest", "rabbit", "kafka" or "file"
    raw: bytes
    marker: str | None  # the channel's type marker: AMQP property, Kafka header, or the REST path's type
    received_at: datetime = field(default_factory=utcnow)
    source: str = ""  # where exactly: "file.jsonl:3", "partition 0 offset 17", the REST client's address
    handle: Any = None  # the transport's delivery handle (delivery tag, offset); intake ignores it
    delivery_key: str | None = None  # "kafka:topic:partition:offset@timestamp" or "rabbit:<blake2b of queue+body>"
    maybe_redelivered: bool = False  # the broker may have delivered it before (AMQP redelivered flag, Kafka)
    type_name: str | None = None  # REST: the event type its method and path name (a marker may have two shapes)
    header_marker: str | None = None  # RabbitMQ: a `type` header where the property is missing (ignored: named)


@dataclass(slots=True)
class Verdict:
    id: int | None
    valid: bool
    violations: list
    duplicate: bool = False
    event: str | None = None
    redelivered: bool = False  # the broker delivered an already stored message again: not stored twice

    def as_dict(self) -> dict:
        return {"id": self.id, "valid": self.valid, "duplicate": self.duplicate,
                "violations": [v.as_dict() for v in self.violations]}
