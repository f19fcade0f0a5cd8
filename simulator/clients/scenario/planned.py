"""One message a scenario plans to send: its payload, the fault it carries, and how it goes on the wire.

The payload is complete except for its timestamp, which is only known when the message leaves (the
1-second budget is measured from it); render.py fills it in at that moment.
"""
from __future__ import annotations

from dataclasses import dataclass

MARKER = "CASINO"


@dataclass(slots=True)
class Planned:
    seq: int  # position in the stream; a retry carries the seq of the message it repeats
    payload: dict  # "timestamp" is None until render time
    user_id: str
    fault: str | None = None  # the fault kind injected into (or added as) this message
    late_by: float = 0.0  # seconds the timestamp lags the clock at send time (the `late` fault)
    marker_fault: str | None = None  # broker channels: "missing", "lowercase" or "header" (see render.py)
    retry: bool = False  # the exact bytes of the message with the same seq, sent again
    repeated: bool = False  # a retry of this message follows: its rendered bytes are kept for it
    farewell: bool = False  # the player's last message: state about them may be dropped after it
    marker: str = MARKER  # its event type: the broker's type marker; over REST the type's method and path
    lane: str | None = None  # set to go out in order with another user's messages (see `key`)

    @property
    def key(self) -> str:
        """The sender's ordering key (REST worker, Kafka partition): order is kept among equal keys only."""
        return self.lane or self.user_id

    @property
    def casino(self) -> bool:
        return self.marker == MARKER

    @property
    def located_by_seq(self) -> bool:
        """Whether the stored copy is found by payload.meta.seq; types without `meta` in their schema are
        found by user and type, in the order they were sent (compare.py)."""
        return isinstance(self.payload.get("meta"), dict)

    @property
    def activity_id(self):
        return self.payload.get("activity_id")

    @property
    def round_id(self):
        return self.payload.get("round_id")

    @property
    def rollback(self) -> bool:
        """A casino Rollback (a PAYMENT Rollback is a status of the payment, not this)."""
        return self.casino and self.payload.get("status") == "Rollback"

    @property
    def label(self) -> str:
        """What a reader needs to find the message: `#17 Bet act-3 (user u-1, round r-2)`,
        `#18 PAYMENT Approved p-7 (user u-1)`."""
        retry = " retry" if self.retry else ""
        if not self.casino:
            pl = self.payload
            ref = pl.get("payment_id") or pl.get("user_bonus_id") or ""
            what = " ".join(str(x) for x in (pl.get("status"), ref) if x)
            return f"#{self.seq}{retry} {self.marker}{' ' + what if what else ''} (user {self.user_id})"
        kind = f"{self.payload.get('type')}{' Rollback' if self.rollback else ''}"
        return f"#{self.seq}{retry} {kind} {self.activity_id} (user {self.user_id}, round {self.round_id})"
