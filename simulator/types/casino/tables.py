"""Casino's own tables: activities (for retries and rollbacks) and rounds, kept in SQL columns.

A state document per key (`tx.get/put`) would do for correctness, but the rounds table is read in
orders a document store cannot index (by start for the rounds list, by user, game and start for the
sessions walk) and updated on every casino message, so casino brings tables of its own. The store runs
this DDL with its dialect's holes filled, clears these tables with its own, and counts rounds by status
(`tx.count_state`) in the same transaction as the messages.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Iterator

from simulator.contract.plugin import Tables
from simulator.core.timefmt import from_iso, iso

@dataclass(slots=True)
class Activity:
    activity_id: str
    user_id: str
    round_id: str | None
    kind: str  # Bet or Win
    amount: Decimal
    digest: str
    rollback_digest: str | None = None


@dataclass(slots=True)
class Round:
    user_id: str
    round_id: str
    game_id: str | None
    currency: str | None
    status: str  # open or closed
    bet_total: Decimal
    win_total: Decimal
    rollback_total: Decimal
    events: int
    bets: int
    started_at: datetime
    ended_at: datetime | None
    last_event_at: datetime


KIND = "round"  # the state kind rounds are counted under (store.state_counts)
DDL = """
CREATE TABLE IF NOT EXISTS activities (
  activity_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, round_id TEXT, kind TEXT NOT NULL, amount TEXT NOT NULL,
  digest TEXT NOT NULL, rollback_digest TEXT){without_rowid};
CREATE TABLE IF NOT EXISTS rounds (
  user_id TEXT NOT NULL, round_id TEXT NOT NULL, game_id TEXT, currency TEXT, status TEXT NOT NULL,
  bet_total TEXT NOT NULL, win_total TEXT NOT NULL, rollback_total TEXT NOT NULL, events INTEGER NOT NULL,
  bets INTEGER NOT NULL, started_at TEXT NOT NULL, ended_at TEXT, last_event_at TEXT NOT NULL,
  PRIMARY KEY (user_id, round_id)){without_rowid};
CREATE INDEX IF NOT EXISTS rounds_open ON rounds (started_at, user_id, round_id) WHERE status = 'open';
DROP INDEX IF EXISTS rounds_status;
CREATE INDEX IF NOT EXISTS rounds_started ON rounds (started_at, user_id, round_id);
CREATE INDEX IF NOT EXISTS rounds_sessions ON rounds (user_id, game_id, started_at, round_id);
"""
TABLES = Tables(DDL, ("activities", "rounds"),
                recount=(f"INSERT INTO tally_states (kind, status, n) SELECT '{KIND}', status, COUNT(*) FROM rounds "
                         f"GROUP BY status",))

ROUND_COLUMNS = ("user_id, round_id, game_id, currency, status, bet_total, win_total, rollback_total, "
                 "events, bets, started_at, ended_at, last_event_at")
ROUND_CHUNK = 2000  # rounds read per query when walking them in session order

_SEL_ACTIVITY = ("SELECT activity_id, user_id, round_id, kind, amount, digest, rollback_digest "
                 "FROM activities WHERE activity_id = ?")
_SEL_ROUND = f"SELECT {ROUND_COLUMNS} FROM rounds WHERE user_id = ? AND round_id = ?"
PREFETCH_CHUNK = 400  # keys a prefetch statement asks for at most (far below SQLite's and PostgreSQL's caps)
_SEL_ACTIVITIES = ("SELECT activity_id, user_id, round_id, kind, amount, digest, rollback_digest "
                   "FROM activities WHERE activity_id IN (%s)")
# one equality pair per round, ORed: both SQLite and PostgreSQL answer it from the primary key (a row-value
# IN (VALUES ...) made SQLite scan the table)
_SEL_ROUNDS = f"SELECT {ROUND_COLUMNS} FROM rounds WHERE %s"
_UP_ACTIVITY = ("INSERT INTO activities (activity_id, user_id, round_id, kind, amount, digest, rollback_digest) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (activity_id) DO UPDATE SET "
                "rollback_digest = excluded.rollback_digest")
_UP_ROUND = (f"INSERT INTO rounds ({ROUND_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
             "ON CONFLICT (user_id, round_id) DO UPDATE SET status = excluded.status, "
             "bet_total = excluded.bet_total, win_total = excluded.win_total, "
             "rollback_total = excluded.rollback_total, events = excluded.events, bets = excluded.bets, "
             "ended_at = excluded.ended_at, last_event_at = excluded.last_event_at")
# started_at is in two indexes: set only when an earlier event moved it (rare), so that the usual round
# update does not rewrite their entries
_UP_STARTED = "UPDATE rounds SET started_at = ? WHERE user_id = ? AND round_id = ?"
_SEL_STATUS = "SELECT status, started_at FROM rounds WHERE user_id = ? AND round_id = ?"


def _round(row) -> Round:
    return Round(row[0], row[1], row[2], row[3], row[4], Decimal(row[5]), Decimal(row[6]), Decimal(row[7]),
                 row[8], row[9], from_iso(row[10]), from_iso(row[11]), from_iso(row[12]))


# -- inside a transaction (the ledger) --------------------------------------------------------------
# Activities and rounds are read and written through a per-transaction cache: a round takes several
# events, often in one batch, and rewriting its row (and its three index entries) per event cost more than
# the rest of casino's judging. Each row is written once, just before the commit (tx.before_commit), with
# what the last event left in it; the ledger reads its own unwritten rows from the cache, so it judges as
# if each had been written at once. Nothing else reads these tables inside a transaction.

def activity(tx, activity_id: str):
    c = _cache(tx)
    if activity_id not in c.activities:
        row = tx.execute(_SEL_ACTIVITY, (activity_id,)).fetchone()
        c.activities[activity_id] = None if row is None else _activity(row)
    return c.activities[activity_id]


def round_of(tx, user_id: str, round_id: str):
    c = _cache(tx)
    key = (user_id, round_id)
    if key not in c.rounds:
        _remember_round(c, key, tx.execute(_SEL_ROUND, key).fetchone())
    return c.rounds[key]


def prefetch(tx, activity_ids, round_keys) -> None:
    """Read the batch's activities and rounds in a statement per PREFETCH_CHUNK keys, not one per event:
    what `activity` and `round_of` would read one at a time, found (or found absent) in the cache."""
    c = _cache(tx)
    for chunk in _chunks([a for a in activity_ids if a not in c.activities]):
        found = {row[0]: row for row in tx.execute(_SEL_ACTIVITIES % ", ".join("?" * len(chunk)), chunk).fetchall()}
        for a in chunk:
            row = found.get(a)
            c.activities[a] = None if row is None else _activity(row)
    for chunk in _chunks([k for k in round_keys if k not in c.rounds]):
        rows = tx.execute(_SEL_ROUNDS % " OR ".join(["(user_id = ? AND round_id = ?)"] * len(chunk)),
                          tuple(v for k in chunk for v in k)).fetchall()
        found = {(row[0], row[1]): row for row in rows}
        for key in chunk:
            _remember_round(c, key, found.get(key))


def _remember_round(c: "_Cache", key: tuple, row) -> None:
    """A round as the table holds it before this transaction (row None: no such round)."""
    c.stored[key] = None if row is None else (row[4], row[10])
    c.statuses[key] = None if row is None else row[4]
    c.rounds[key] = None if row is None else _round(row)


def _chunks(keys: list):
    for i in range(0, len(keys), PREFETCH_CHUNK):
        yield tuple(keys[i:i + PREFETCH_CHUNK])


def _activity(row) -> Activity:
    return Activity(row[0], row[1], row[2], row[3], Decimal(row[4]), row[5], row[6])


def save_activity(tx, a) -> None:
    c = _cache(tx)
    c.activities[a.activity_id] = c.saved[a.activity_id] = a


def save_round(tx, r) -> None:
    c = _cache(tx)
    key = (r.user_id, r.round_id)
    if key not in c.statuses:
        row = c.stored[key] = tx.execute(_SEL_STATUS, key).fetchone()
        c.statuses[key] = row and row[0]
    tx.count_state(KIND, c.statuses[key], r.status)
    c.statuses[key] = r.status
    c.rounds[key] = c.dirty[key] = r


class _Cache:
    """One transaction's activities and rounds: as read or saved (what the ledger judges by), and what it
    saved (written once, just before the commit)."""
    __slots__ = ("activities", "saved", "rounds", "dirty", "statuses", "stored")

    def __init__(self):
        self.activities: dict = {}  # activity_id -> Activity as last read or saved, None: no such activity
        self.saved: dict = {}  # the activities saved in this transaction, not yet written
        self.rounds: dict = {}  # (user_id, round_id) -> Round as last read or saved, None: no such round
        self.dirty: dict = {}  # the rounds saved in this transaction, not yet written
        self.statuses: dict = {}  # status as this transaction last saw it (None: no row): counted once per change
        self.stored: dict = {}  # (status, started_at) of the row in the table when first read, None: no row


def _cache(tx) -> _Cache:
    c = tx.scratch.get("casino.rows")
    if c is None:
        c = tx.scratch["casino.rows"] = _Cache()
        tx.before_commit(_write)
    return c


def _write(tx) -> None:
    c = tx.scratch.pop("casino.rows")
    if c.saved:
        tx.executemany(_UP_ACTIVITY, [(a.activity_id, a.user_id, a.round_id, a.kind, str(a.amount), a.digest,
                                       a.rollback_digest) for a in c.saved.values()])
    rows, moved = [], []
    for key, r in c.dirty.items():
        started = iso(r.started_at)
        rows.append((r.user_id, r.round_id, r.game_id, r.currency, r.status, str(r.bet_total), str(r.win_total),
                     str(r.rollback_total), r.events, r.bets, started, iso(r.ended_at), iso(r.last_event_at)))
        stored = c.stored.get(key)
        if stored is not None and stored[1] != started:
            moved.append((started, r.user_id, r.round_id))
    if rows:
        tx.executemany(_UP_ROUND, rows)
    if moved:
        tx.executemany(_UP_STARTED, moved)


# -- reading (views, readiness) -----------------------------------------------------------------------

def _where(user_id=None, round_id=None, status=None) -> tuple[str, list]:
    where, args = [], []
    for col, val in (("user_id", user_id), ("round_id", round_id)):
        if val:
            where.append(f"{col} = ?")
            args.append(val)
    if status in ("open", "closed"):  # a literal, so the planner may take the partial index of the open rounds
        where.append(f"status = '{status}'")
    elif status:
        where.append("status = ?")
        args.append(status)
    return (" WHERE " + " AND ".join(where)) if where else "", args


def rounds(store, *, user_id=None, round_id=None, status=None, limit=None, offset=0) -> list:
    cond, args = _where(user_id, round_id, status)
    page = f" LIMIT {int(limit)} OFFSET {int(offset)}" if limit is not None else ""
    return [_round(r) for r in store.read(
        f"SELECT {ROUND_COLUMNS} FROM rounds{cond} ORDER BY started_at, user_id, round_id{page}", args)]


def count_rounds(store, *, user_id=None) -> int:
    cond, args = _where(user_id)
    return store.read(f"SELECT COUNT(*) FROM rounds{cond}", args)[0][0]


def rounds_in_order(store, *, user_id=None) -> Iterator:
    """Rounds by user, game and start, read ROUND_CHUNK at a time: a reader that stops early (a page of
    sessions) reads only what it needs."""
    cond, args = _where(user_id)
    offset = 0
    while True:
        rows = store.read(f"SELECT {ROUND_COLUMNS} FROM rounds{cond} ORDER BY user_id, game_id, started_at, "
                          f"round_id LIMIT {ROUND_CHUNK} OFFSET {offset}", args)
        for r in rows:
            yield _round(r)
        if len(rows) < ROUND_CHUNK:
            return
        offset += len(rows)
