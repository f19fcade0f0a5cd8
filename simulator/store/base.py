"""The store's interface and the record it keeps for every message, accepted or not."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ContextManager, Iterator, Protocol

from simulator.core.envelope import Verdict
from simulator.types.casino.ledger import Activity, Round
from simulator.core.violations import Violation


@dataclass(slots=True)
class MessageRecord:
    channel: str
    received_at: datetime
    marker: str | None
    raw: bytes
    source: str
    event: str | None  # the event type's name, once the marker or path identified it
    activity_id: str | None
    user_id: str | None
    round_id: str | None
    valid: bool
    duplicate: bool
    violations: list[Violation]
    latency_ms: float | None
    delivery_key: str | None = None


class Tx(Protocol):
    """One transaction: what the ledger reads and writes, and the message it judged."""

    def activity(self, activity_id: str) -> Activity | None: ...
    def round(self, user_id: str, round_id: str) -> Round | None: ...
    def save_activity(self, activity: Activity) -> None: ...
    def save_round(self, rnd: Round) -> None: ...
    def add_message(self, record: MessageRecord) -> int: ...
    def delivery(self, delivery_key: str) -> "Verdict | None": ...


class Store(Protocol):
    def batch(self) -> ContextManager[Tx]: ...
    def add_rejection(self, channel: str, received_at: datetime, rule: str, detail: str) -> None: ...
    def messages(self, *, channel=None, valid=None, rule=None, user_id=None, limit=100, offset=0,
                 newest_first=False) -> tuple[list[dict], int]: ...
    def rounds(self, *, user_id=None, round_id=None, status=None, limit=None, offset=0) -> list[Round]: ...
    def rounds_in_order(self, *, user_id=None) -> Iterator[Round]: ...
    def counts(self) -> dict: ...
    def latency_quantiles(self, qs: tuple[float, ...]) -> list[float | None]: ...
    def timeline(self, bucket_seconds: int) -> list[dict]: ...
    def clear(self) -> None: ...
    def health(self) -> dict: ...  # {"ok", "error", "kind", "durability", ...}: for /api/summary
    def close(self) -> None: ...
