"""Counters kept as messages are written, so nothing a reader asks for costs a pass over the messages.

A transaction collects its deltas here and adds them to the tally tables just before it commits, in the
same transaction as the messages: a crash, a restart, a clear or a second instance on the same PostgreSQL
(which writes under the same advisory lock) never sees counters that disagree with the rows. Latency is
kept as a histogram of three-significant-digit buckets, so p50 and p99 are read from a few hundred rows and
are within 1% of the exact value.
"""
from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from math import ceil, floor, log10

WIDTHS = (19, 16, 13, 10)  # characters of the ISO receipt time: second, minute, hour, day buckets

DDL = """
CREATE TABLE IF NOT EXISTS tally_channels (
  channel TEXT PRIMARY KEY, received BIGINT NOT NULL, valid BIGINT NOT NULL, duplicates BIGINT NOT NULL){without_rowid};
CREATE TABLE IF NOT EXISTS tally_rules (
  rule TEXT NOT NULL, severity TEXT NOT NULL, messages BIGINT NOT NULL, PRIMARY KEY (rule, severity)){without_rowid};
CREATE TABLE IF NOT EXISTS tally_states (
  kind TEXT NOT NULL, status TEXT NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (kind, status)){without_rowid};
CREATE TABLE IF NOT EXISTS tally_latency (le {real} PRIMARY KEY, n BIGINT NOT NULL){without_rowid};
CREATE TABLE IF NOT EXISTS tally_time (
  width INTEGER NOT NULL, at TEXT NOT NULL, received BIGINT NOT NULL, invalid BIGINT NOT NULL,
  warned BIGINT NOT NULL, PRIMARY KEY (width, at)){without_rowid};
CREATE TABLE IF NOT EXISTS tally_rejections (
  channel TEXT NOT NULL, rule TEXT NOT NULL, n BIGINT NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
  PRIMARY KEY (channel, rule)){without_rowid};
CREATE TABLE IF NOT EXISTS lost_activities (
  activity_id TEXT PRIMARY KEY, deliveries BIGINT NOT NULL, first_id BIGINT NOT NULL, last_id BIGINT NOT NULL){without_rowid};
CREATE INDEX IF NOT EXISTS lost_activities_first ON lost_activities (first_id);
CREATE TABLE IF NOT EXISTS tally_types (
  event TEXT NOT NULL, channel TEXT NOT NULL, received BIGINT NOT NULL, valid BIGINT NOT NULL,
  PRIMARY KEY (event, channel)){without_rowid};
CREATE TABLE IF NOT EXISTS tally_users (
  user_id TEXT PRIMARY KEY, messages BIGINT NOT NULL, invalid BIGINT NOT NULL, first_at TEXT NOT NULL,
  last_at TEXT NOT NULL){without_rowid};
CREATE TABLE IF NOT EXISTS tally_meta (name TEXT PRIMARY KEY, n BIGINT NOT NULL){without_rowid}
"""
TABLES = ("tally_channels", "tally_rules", "tally_states", "tally_latency", "tally_time", "tally_rejections",
          "lost_activities", "tally_types", "tally_users", "tally_meta")

UPSERTS = {
    "channels": "INSERT INTO tally_channels (channel, received, valid, duplicates) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (channel) DO UPDATE SET received = tally_channels.received + excluded.received, "
                "valid = tally_channels.valid + excluded.valid, "
                "duplicates = tally_channels.duplicates + excluded.duplicates",
    "rules": "INSERT INTO tally_rules (rule, severity, messages) VALUES (?, ?, ?) ON CONFLICT (rule, severity) "
             "DO UPDATE SET messages = tally_rules.messages + excluded.messages",
    "states": "INSERT INTO tally_states (kind, status, n) VALUES (?, ?, ?) ON CONFLICT (kind, status) "
              "DO UPDATE SET n = tally_states.n + excluded.n",
    "latency": "INSERT INTO tally_latency (le, n) VALUES (?, ?) ON CONFLICT (le) "
               "DO UPDATE SET n = tally_latency.n + excluded.n",
    "time": "INSERT INTO tally_time (width, at, received, invalid, warned) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (width, at) DO UPDATE SET received = tally_time.received + excluded.received, "
            "invalid = tally_time.invalid + excluded.invalid, warned = tally_time.warned + excluded.warned",
    "types": "INSERT INTO tally_types (event, channel, received, valid) VALUES (?, ?, ?, ?) "
             "ON CONFLICT (event, channel) DO UPDATE SET received = tally_types.received + excluded.received, "
             "valid = tally_types.valid + excluded.valid",
    "users": "INSERT INTO tally_users (user_id, messages, invalid, first_at, last_at) VALUES (?, ?, ?, ?, ?) "
             "ON CONFLICT (user_id) DO UPDATE SET messages = tally_users.messages + excluded.messages, "
             "invalid = tally_users.invalid + excluded.invalid, "
             "first_at = CASE WHEN excluded.first_at < tally_users.first_at THEN excluded.first_at "
             "ELSE tally_users.first_at END, "
             "last_at = CASE WHEN excluded.last_at > tally_users.last_at THEN excluded.last_at "
             "ELSE tally_users.last_at END",
    "meta": "INSERT INTO tally_meta (name, n) VALUES (?, ?) ON CONFLICT (name) "
            "DO UPDATE SET n = tally_meta.n + excluded.n",
}


_BOUNDS: dict[tuple[int, int], float] = {}


def bucket(latency_ms: float) -> float:
    """The bucket's upper bound: the value rounded up to three significant digits.

    Floats when the value is clearly inside a bucket (once per message, so it must be cheap); Decimal when
    it sits on or next to a bound, where float division would put 0.7 ms or a 750 ms budget one above."""
    v = float(latency_ms)
    if v > 0:
        exp = floor(log10(v)) - 2
        scaled = v / 10.0 ** exp
        top = ceil(scaled)
        if 100 < top <= 1000 and top - scaled > 1e-6 and scaled - (top - 1) > 1e-6:
            bound = _BOUNDS.get((top, exp))
            if bound is None:
                bound = _BOUNDS[(top, exp)] = float(f"{top}e{exp}")
            return bound
    return _exact(v)


def _exact(latency_ms: float) -> float:
    d = Decimal(repr(float(latency_ms)))
    if d == 0:
        return 0.0
    exp = d.adjusted() - 2
    rounding = ROUND_CEILING if d > 0 else ROUND_FLOOR
    up = d.scaleb(-exp).to_integral_value(rounding=rounding).scaleb(exp)
    return float(up if d > 0 else -up)  # negative (a timestamp from the future): toward zero is "at most"


class Deltas:
    """What one transaction adds to the counters; written once, at its end, one row per distinct key."""

    __slots__ = ("channels", "rules", "states", "latency", "time", "types", "users", "meta", "_second",
                 "_buckets")

    def __init__(self):
        self.channels: dict[str, list[int]] = {}
        self.rules: dict[tuple[str, str], int] = {}
        self.states: dict[tuple[str, str], int] = {}
        self.latency: dict[float, int] = {}
        self.time: dict[tuple[int, str], list[int]] = {}
        self.types: dict[tuple[str, str], list[int]] = {}  # (event type, channel) -> [received, valid]
        self.users: dict[str, list] = {}  # user_id -> [messages, invalid, first_at, last_at]
        self.meta: dict[str, int] = {}
        self._second, self._buckets = None, []

    def message(self, channel: str, received_at: str, valid: bool, duplicate: bool, latency_ms,
                pairs, event: str | None = None, user_id: str | None = None) -> None:
        """One stored message: `pairs` is its violations as (rule, severity), repeats allowed."""
        if event is not None:
            t = self.types.get((event, channel))
            if t is None:
                t = self.types[(event, channel)] = [0, 0]
            t[0] += 1
            t[1] += valid
        if user_id is not None:
            u = self.users.get(user_id)
            if u is None:
                self.users[user_id] = [1, int(not valid), received_at, received_at]
            else:
                u[0] += 1
                u[1] += not valid
                u[2], u[3] = min(u[2], received_at), max(u[3], received_at)
        c = self.channels.get(channel)
        if c is None:
            c = self.channels[channel] = [0, 0, 0]
        c[0] += 1
        c[1] += valid
        c[2] += duplicate
        warned = False
        if pairs:
            seen = set(pairs)
            for key in seen:
                self.rules[key] = self.rules.get(key, 0) + 1
            warned = valid and any(s == "warning" for _, s in seen)
        second = received_at[:19]
        if second != self._second:  # a batch's messages mostly share their second: look its buckets up once
            self._second, self._buckets = second, [self._time_row(w, received_at[:w]) for w in WIDTHS]
        for t in self._buckets:
            t[0] += 1
            t[1] += not valid
            t[2] += warned
        if latency_ms is not None:
            b = bucket(latency_ms)
            self.latency[b] = self.latency.get(b, 0) + 1

    def _time_row(self, width: int, at: str) -> list[int]:
        row = self.time.get((width, at))
        if row is None:
            row = self.time[(width, at)] = [0, 0, 0]
        return row

    def state(self, kind: str, old: str | None, new: str) -> None:
        """One thing of a kind (a casino round) moved from state `old` (None: new) to `new`."""
        if old == new:
            return
        if old is not None:
            self.states[(kind, old)] = self.states.get((kind, old), 0) - 1
        self.states[(kind, new)] = self.states.get((kind, new), 0) + 1

    def write(self, cur, q) -> None:
        if self.channels:
            cur.executemany(q(UPSERTS["channels"]), [(k, *v) for k, v in self.channels.items()])
        if self.rules:
            cur.executemany(q(UPSERTS["rules"]), [(*k, n) for k, n in self.rules.items()])
        if self.states:
            cur.executemany(q(UPSERTS["states"]), [(*k, n) for k, n in self.states.items() if n])
        if self.latency:
            cur.executemany(q(UPSERTS["latency"]), list(self.latency.items()))
        if self.time:
            cur.executemany(q(UPSERTS["time"]), [(*k, *v) for k, v in self.time.items()])
        if self.types:
            cur.executemany(q(UPSERTS["types"]), [(*k, *v) for k, v in self.types.items()])
        if self.users:
            cur.executemany(q(UPSERTS["users"]), [(k, *v) for k, v in self.users.items()])
        if self.meta:
            cur.executemany(q(UPSERTS["meta"]), list(self.meta.items()))
