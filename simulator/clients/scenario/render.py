"""Planned messages to bytes on the wire, at the moment they leave.

The timestamp is the clock at render time (minus `late_by` for a late fault), money goes out as JSON
numbers with exactly its cents (Decimal text, never a float), and a retry goes out as the very bytes of
the message it repeats. The type marker follows the channel: over a broker a marker fault removes it,
lower-cases it, or puts it where the spec says it is not read (RabbitMQ: a header instead of the
property; Kafka: a header `Type` instead of `type`). Over REST the path is the marker, so a marker fault
cannot be expressed and the message goes out as it was before the fault.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Callable, Iterable, Iterator

import orjson

from simulator.clients.sender.base import Outgoing, route_of
from simulator.core.timefmt import iso
from simulator.clients.scenario.planned import Planned


def _decimal(value):
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value).encode())
    raise TypeError(f"cannot serialize {type(value).__name__}")


def dumps(payload: dict) -> bytes:
    return orjson.dumps(payload, default=_decimal)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Renderer:
    def __init__(self, channel: str, clock: Callable[[], datetime] = utcnow):
        self.channel = channel
        self.clock = clock
        self._kept: dict[int, bytes] = {}  # bytes of messages a retry will repeat; dropped when it has

    def body(self, p: Planned) -> bytes:
        if p.retry:
            return self._kept.pop(p.seq)
        payload = p.payload
        if "timestamp" in payload:
            payload = {**payload, "timestamp": iso(self.clock() - timedelta(seconds=p.late_by))}
        raw = dumps(payload)
        if p.repeated:
            self._kept[p.seq] = raw
        return raw

    def outgoing(self, p: Planned) -> Outgoing:
        """Brokers carry p.marker; over REST a journey's message names its route by its payload (two types
        share LOTTERY_V2, each at its own path), casino's leaves it to the sender (sender.base.route_of)."""
        marker, headers = p.marker, None
        if p.marker_fault and self.channel != "rest":
            marker = {"lowercase": p.marker.lower()}.get(p.marker_fault)
            if p.marker_fault == "header":
                headers = {"type" if self.channel == "rabbit" else "Type": p.marker}
        if p.casino:
            kind = p.payload.get("type")
            kind = kind if isinstance(kind, str) else "?"
            name = f"{kind} Rollback" if p.rollback else kind
        else:
            status = p.payload.get("status")
            name = f"{p.marker} {status}" if isinstance(status, str) else p.marker
        route = route_of(p.marker, p.payload) if self.channel == "rest" and not p.casino else None
        return Outgoing(self.body(p), marker, p.key, headers, name, route)

    def stream(self, planned: Iterable[Planned]) -> Iterator[Outgoing]:
        """Outgoing messages, each rendered when the sender asks for it."""
        for p in planned:
            yield self.outgoing(p)
