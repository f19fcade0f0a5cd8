"""What the sender sends (Outgoing) and what it counts (Stats), shared by every channel."""
from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Optional

MARKER = "CASINO"
DEFAULT_ROUTE = ("POST", "/v1/integration/casino")


def route_of(marker: str | None, payload: dict | None = None) -> tuple[str, str]:
    """The REST method and path FT's API takes a message of this marker at (casino's for an unknown or a
    brokers-only type, so the target's answer says what is wrong)."""
    from simulator.contract.registry import load_registry

    event_type = load_registry().for_marker(marker, payload)
    if event_type is None or event_type.path is None:
        return DEFAULT_ROUTE
    return event_type.method, event_type.path


@dataclass(slots=True)
class Outgoing:
    body: bytes
    marker: str | None = MARKER  # the type marker: AMQP property / Kafka header; None sends none
    key: str | None = None  # ordering key (the user id): Kafka's message key, the REST worker it goes to
    headers: dict | None = None  # extra broker headers (RabbitMQ headers table, Kafka headers)
    name: str = "casino"  # a label for statistics
    route: tuple[str, str] | None = None  # REST (method, path); None: the one the marker's type is served at


# Called once per message with its final outcome: (item, "delivered"|"rejected"|"failed", ms, error).
Observer = Optional[Callable[["Outgoing", str, float, Optional[BaseException]], None]]


@dataclass
class Stats:
    """Counters a channel updates from its worker threads; `snapshot()` reads them consistently."""
    sent: int = 0  # handed to the channel
    delivered: int = 0  # answered 2xx / confirmed by the broker / accepted by the producer
    rejected: int = 0  # refused for good (a 4xx the same bytes would get again, a broker nack)
    failed: int = 0  # given up after the last attempt, or lost with a broken connection
    retries: int = 0  # attempts after the first
    statuses: Counter = field(default_factory=Counter)  # REST answers by status code
    latencies_ms: list = field(default_factory=list)  # per delivered message (first 200,000)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    KEEP_LATENCIES = 200_000

    def add(self, *, delivered=0, rejected=0, failed=0, retries=0, status=None, latency_ms=None) -> None:
        with self._lock:
            self.delivered += delivered
            self.rejected += rejected
            self.failed += failed
            self.retries += retries
            if status is not None:
                self.statuses[status] += 1
            if latency_ms is not None and len(self.latencies_ms) < self.KEEP_LATENCIES:
                self.latencies_ms.append(latency_ms)

    def snapshot(self) -> dict:
        with self._lock:
            return {"sent": self.sent, "delivered": self.delivered, "rejected": self.rejected,
                    "failed": self.failed, "retries": self.retries, "statuses": dict(self.statuses)}

    @property
    def done(self) -> int:
        return self.delivered + self.rejected + self.failed


class Channel:
    """What every channel does once a message's fate is known: count it and tell the observer."""

    stats: Stats
    observe: Observer
    max_attempts: int = 1

    def _attempts(self):
        """(attempt number, its start time) for each try; every try after the first counts as a retry."""
        for attempt in range(self.max_attempts):
            if attempt:
                self.stats.add(retries=1)
            yield attempt, time.perf_counter()

    def _done(self, item: Outgoing, outcome: str, started: float, error, status=None) -> None:
        ms = (time.perf_counter() - started) * 1000
        self.stats.add(status=status, latency_ms=ms if outcome == "delivered" else None, **{outcome: 1})
        if self.observe is not None:
            self.observe(item, outcome, ms, error)
