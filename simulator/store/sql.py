"""The store in SQL, written once for SQLite and PostgreSQL; dialects differ only in the hooks at the top.

Every message is kept with its raw bytes and verdict; activities and rounds are the ledger's state, so
a restarted ftsim (or a second one sharing the database) judges retries and rounds as if it never stopped.
"""
from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from decimal import Decimal
from typing import Iterator

from simulator.core.envelope import Verdict
from simulator.core.errors import StoreError
from simulator.types.casino.ledger import Activity, Round
from simulator.core.timefmt import from_iso, iso
from simulator.core.violations import Violation
from simulator.store.base import MessageRecord
from simulator.store.calls import OperatorCalls

# The schema for every dialect; `types` fills in what differs (see each dialect's TYPES).
DDL = """
CREATE TABLE IF NOT EXISTS messages (
  id {serial}, channel TEXT NOT NULL, received_at TEXT NOT NULL, marker TEXT, raw {blob} NOT NULL,
  source TEXT, event TEXT, activity_id TEXT, user_id TEXT, round_id TEXT, valid INTEGER NOT NULL,
  duplicate INTEGER NOT NULL, violations TEXT NOT NULL, latency_ms {real}, delivery_key TEXT);
CREATE INDEX IF NOT EXISTS messages_channel ON messages (channel);
CREATE INDEX IF NOT EXISTS messages_user ON messages (user_id);
CREATE INDEX IF NOT EXISTS messages_valid ON messages (valid);
CREATE INDEX IF NOT EXISTS messages_latency ON messages (latency_ms);
CREATE INDEX IF NOT EXISTS messages_delivery ON messages (delivery_key) WHERE delivery_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS violations (
  message_id BIGINT NOT NULL, rule TEXT NOT NULL, severity TEXT NOT NULL, path TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS violations_rule ON violations (rule, message_id);
CREATE TABLE IF NOT EXISTS activities (
  activity_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, round_id TEXT, kind TEXT NOT NULL, amount TEXT NOT NULL,
  digest TEXT NOT NULL, rollback_digest TEXT){without_rowid};
CREATE TABLE IF NOT EXISTS rounds (
  user_id TEXT NOT NULL, round_id TEXT NOT NULL, game_id TEXT, currency TEXT, status TEXT NOT NULL,
  bet_total TEXT NOT NULL, win_total TEXT NOT NULL, rollback_total TEXT NOT NULL, events INTEGER NOT NULL,
  bets INTEGER NOT NULL, started_at TEXT NOT NULL, ended_at TEXT, last_event_at TEXT NOT NULL,
  PRIMARY KEY (user_id, round_id)){without_rowid};
CREATE INDEX IF NOT EXISTS rounds_status ON rounds (status);
CREATE TABLE IF NOT EXISTS entities (
  kind TEXT NOT NULL, key TEXT NOT NULL, user_id TEXT, status TEXT, at TEXT, doc TEXT NOT NULL,
  PRIMARY KEY (kind, key)){without_rowid};
CREATE INDEX IF NOT EXISTS entities_user ON entities (kind, user_id);
CREATE INDEX IF NOT EXISTS entities_status ON entities (kind, status);
CREATE TABLE IF NOT EXISTS rejections (
  id {serial}, channel TEXT NOT NULL, received_at TEXT NOT NULL, rule TEXT NOT NULL, detail TEXT);
"""


ROUND_COLUMNS = ("user_id, round_id, game_id, currency, status, bet_total, win_total, rollback_total, "
                 "events, bets, started_at, ended_at, last_event_at")


def _round(row) -> Round:
    return Round(row[0], row[1], row[2], row[3], row[4], Decimal(row[5]), Decimal(row[6]), Decimal(row[7]),
                 row[8], row[9], from_iso(row[10]), from_iso(row[11]), from_iso(row[12]))


class SQLStore(OperatorCalls):
    """Dialect hooks: `ph` (placeholder), `types` (for DDL), `_connect()`, `_begin(conn)`, `_committed()`,
    `_returning_id()`, `_inserted_id(cur)`, `_reading()`, `health()`."""

    ph = "?"
    errors: tuple = ()
    types: dict = {}

    def __init__(self):
        self._write_lock = threading.RLock()
        self._writer = self._connect()
        with self._write_lock:
            cur = self._writer.cursor()
            for statement in self._ddl():
                cur.execute(statement)
            self._writer.commit()

    def _ddl(self) -> list[str]:
        return [s.strip() for s in DDL.format(**self.types).split(";") if s.strip()] + self._calls_ddl()

    def _q(self, sql: str) -> str:
        return sql if self.ph == "?" else sql.replace("?", self.ph)

    # -- writing -------------------------------------------------------------------------------

    @contextmanager
    def batch(self):
        with self._write_lock:
            conn = self._writer
            try:
                self._begin(conn)
                tx = _Tx(self, conn.cursor())
                yield tx
                conn.commit()
            except self.errors as exc:
                self._rollback(conn)
                raise StoreError(f"store: {exc}") from exc
            except BaseException:
                self._rollback(conn)
                raise
            self._committed()

    def _committed(self):
        """Raise StoreError if what was just committed may not be kept after all (the dialect knows)."""

    def _rollback(self, conn):
        try:
            conn.rollback()
        except self.errors:
            pass

    def add_rejection(self, channel, received_at, rule, detail):
        with self._write_lock:
            try:
                self._writer.execute(self._q("INSERT INTO rejections (channel, received_at, rule, detail) "
                                             "VALUES (?, ?, ?, ?)"), (channel, iso(received_at), rule, detail))
                self._writer.commit()
            except self.errors as exc:
                self._rollback(self._writer)
                raise StoreError(f"store: {exc}") from exc
            self._committed()

    def clear(self):
        with self.batch() as tx:
            for table in ("violations", "messages", "activities", "rounds", "entities", "rejections",
                          "operator_calls", "operator_call_rules"):
                tx._cur.execute(f"DELETE FROM {table}")

    # -- reading -------------------------------------------------------------------------------

    def _rows(self, sql, args=()):
        with self._reading() as conn:
            cur = conn.cursor()
            cur.execute(self._q(sql), args)
            return cur.fetchall()

    def messages(self, *, channel=None, valid=None, rule=None, user_id=None, limit=100, offset=0,
                 newest_first=False):
        cond, args = self._where(channel=channel, rule=rule, user_id=user_id, valid=valid)
        total = self._rows(f"SELECT COUNT(*) FROM messages m{cond}", args)[0][0]
        order = "DESC" if newest_first else "ASC"
        rows = self._rows(
            f"SELECT m.id, m.channel, m.received_at, m.activity_id, m.user_id, m.round_id, m.valid, "
            f"m.violations, m.raw, m.source, m.duplicate, m.latency_ms, m.marker FROM messages m{cond} "
            f"ORDER BY m.id {order} LIMIT ? OFFSET ?", (*args, int(limit), int(offset)))
        return [_message(r) for r in rows], total

    def rounds(self, *, user_id=None, round_id=None, status=None, limit=None, offset=0):
        where, args = [], []
        for col, val in (("user_id", user_id), ("round_id", round_id), ("status", status)):
            if val:
                where.append(f"{col} = ?")
                args.append(val)
        cond = (" WHERE " + " AND ".join(where)) if where else ""
        page = f" LIMIT {int(limit)} OFFSET {int(offset)}" if limit is not None else ""
        return [_round(r) for r in self._rows(
            f"SELECT {ROUND_COLUMNS} FROM rounds{cond} ORDER BY started_at, user_id, round_id{page}", args)]

    def rounds_in_order(self, *, user_id=None) -> Iterator[Round]:
        cond, args = (" WHERE user_id = ?", (user_id,)) if user_id else ("", ())
        for r in self._rows(f"SELECT {ROUND_COLUMNS} FROM rounds{cond} ORDER BY user_id, game_id, started_at",
                            args):
            yield _round(r)

    def counts(self) -> dict:
        received, valid, dups = self._rows(
            "SELECT COUNT(*), COALESCE(SUM(valid), 0), COALESCE(SUM(duplicate), 0) FROM messages")[0]
        by_channel = {}
        for channel, n, ok in self._rows("SELECT channel, COUNT(*), SUM(valid) FROM messages GROUP BY channel"):
            by_channel[channel] = {"received": n, "valid": int(ok or 0), "invalid": n - int(ok or 0)}
        by_rule = {}
        for rule, severity, n in self._rows(
                "SELECT rule, severity, COUNT(DISTINCT message_id) FROM violations GROUP BY rule, severity"):
            entry = by_rule.setdefault(rule, {"messages": 0, "severity": severity})
            entry["messages"] += n
        rounds = {"open": 0, "closed": 0}
        for status, n in self._rows("SELECT status, COUNT(*) FROM rounds GROUP BY status"):
            rounds[status] = n
        rejected = {rule: n for rule, n in self._rows("SELECT rule, COUNT(*) FROM rejections GROUP BY rule")}
        return {"received": received, "valid": int(valid), "invalid": received - int(valid),
                "duplicates": int(dups), "by_channel": by_channel, "by_rule": by_rule, "rounds": rounds,
                "rejected": rejected}

    def latency_quantiles(self, qs):
        n = self._rows("SELECT COUNT(*) FROM messages WHERE latency_ms IS NOT NULL")[0][0]
        out = []
        for q in qs:
            if n == 0:
                out.append(None)
                continue
            k = min(n - 1, max(0, int(round(q * (n - 1)))))
            out.append(self._rows("SELECT latency_ms FROM messages WHERE latency_ms IS NOT NULL "
                                  "ORDER BY latency_ms LIMIT 1 OFFSET ?", (k,))[0][0])
        return out

    def timeline(self, bucket_seconds: int = 60) -> list[dict]:
        """Messages and invalid messages per time bucket of receipt (UTC, bucket start as ISO text)."""
        width = {1: 19, 60: 16, 3600: 13}.get(bucket_seconds, 16)
        rows = self._rows(f"SELECT SUBSTR(received_at, 1, {width}) AS b, COUNT(*), "
                          f"COUNT(*) - SUM(valid) FROM messages GROUP BY b ORDER BY b")
        return [{"at": b, "received": n, "invalid": int(bad or 0)} for b, n, bad in rows]

    # -- reports: what readiness, `ftsim report` and the live page read ------

    def _where(self, channel=None, rule=None, user_id=None, valid=None) -> tuple[str, list]:
        """A WHERE clause over messages `m` for the query API's and the reports' filters."""
        where, args = [], []
        if channel:
            where.append("m.channel = ?")
            args.append(channel)
        if valid is not None:
            where.append("m.valid = ?")
            args.append(1 if valid else 0)
        if user_id:
            where.append("m.user_id = ?")
            args.append(user_id)
        if rule:
            where.append("m.id IN (SELECT message_id FROM violations WHERE rule = ?)")
            args.append(rule)
        return (" WHERE " + " AND ".join(where)) if where else "", args

    def rule_counts(self, *, channel=None, user_id=None) -> list[tuple[str, str, int]]:
        """(rule, severity, messages) for every rule and severity a stored message was judged with."""
        cond, args = self._where(channel=channel, user_id=user_id)
        if not cond:
            return [tuple(r) for r in self._rows(
                "SELECT rule, severity, COUNT(DISTINCT message_id) FROM violations GROUP BY rule, severity "
                "ORDER BY rule, severity")]
        return [tuple(r) for r in self._rows(
            f"SELECT v.rule, v.severity, COUNT(DISTINCT v.message_id) FROM violations v "
            f"JOIN messages m ON m.id = v.message_id{cond} GROUP BY v.rule, v.severity ORDER BY v.rule, v.severity",
            args)]

    def rejection_counts(self) -> list[tuple[str, str, int]]:
        """(channel, rule, requests) for what was refused before intake (401, 413, 415); "api" is the query API."""
        return [tuple(r) for r in self._rows(
            "SELECT channel, rule, COUNT(*) FROM rejections GROUP BY channel, rule ORDER BY channel, rule")]

    def refused_activities(self, limit: int = 5) -> tuple[int, list[dict]]:
        """Activity ids none of whose deliveries was valid: how many, and the first few with their last message."""
        refused = ("SELECT activity_id, COUNT(*) AS deliveries, MIN(id) AS first_id, MAX(id) AS last_id "
                   "FROM messages WHERE activity_id IS NOT NULL GROUP BY activity_id HAVING SUM(valid) = 0")
        total = self._rows(f"SELECT COUNT(*) FROM ({refused}) r")[0][0]
        rows = self._rows(
            f"SELECT r.activity_id, r.deliveries, m.id, m.channel, m.user_id, m.received_at, m.violations "
            f"FROM ({refused}) r JOIN messages m ON m.id = r.last_id ORDER BY r.first_id LIMIT ?", (int(limit),))
        return total, [{"activity_id": r[0], "deliveries": r[1], "last_message_id": r[2], "channel": r[3],
                        "user_id": r[4], "last_received_at": r[5], "violations": json.loads(r[6])} for r in rows]

    def received_span(self, *, channel=None, rule=None, user_id=None) -> tuple[str | None, str | None]:
        """The first and last receipt time (ISO text) of the messages the filters select."""
        cond, args = self._where(channel, rule, user_id)
        first, last = self._rows(f"SELECT MIN(m.received_at), MAX(m.received_at) FROM messages m{cond}", args)[0]
        return first, last

    def activity_timeline(self, width: int, *, channel=None, rule=None, user_id=None) -> list[dict]:
        """Per time bucket (the first `width` characters of the ISO receipt time): received, invalid, and
        valid messages with a warning."""
        cond, args = self._where(channel, rule, user_id)
        bucket = f"SUBSTR(m.received_at, 1, {int(width)})"
        rows = self._rows(f"SELECT {bucket} AS b, COUNT(*), COUNT(*) - SUM(m.valid) FROM messages m{cond} "
                          f"GROUP BY b ORDER BY b", args)
        # One pass over the warnings joined to their messages (a correlated EXISTS has no index to use).
        warned = dict(self._rows(
            f"SELECT {bucket} AS b, COUNT(DISTINCT m.id) FROM violations v JOIN messages m ON m.id = v.message_id"
            f"{cond + ' AND' if cond else ' WHERE'} v.severity = 'warning' AND m.valid = 1 GROUP BY b", args))
        return [{"at": b, "received": n, "invalid": int(bad or 0), "warned": int(warned.get(b, 0))}
                for b, n, bad in rows]

    def latency_histogram(self, edges, *, channel=None, rule=None, user_id=None) -> list[int]:
        """Message counts per latency bin: (-inf, e0], (e0, e1], ..., (e_last, +inf), in milliseconds."""
        cond, args = self._where(channel, rule, user_id)
        cond = (cond + " AND " if cond else " WHERE ") + "m.latency_ms IS NOT NULL"
        case = " ".join(f"WHEN m.latency_ms <= {float(e)!r} THEN {i}" for i, e in enumerate(edges))
        counts = [0] * (len(edges) + 1)
        for b, n in self._rows(f"SELECT CASE {case} ELSE {len(edges)} END AS b, COUNT(*) FROM messages m{cond} "
                               f"GROUP BY b", args):
            counts[int(b)] = n
        return counts

    def flagged_messages(self, *, channel=None, rule=None, user_id=None, limit=10) -> list[dict]:
        """The newest messages with an error or a warning, newest first, in the shape `messages` gives."""
        cond, args = self._where(channel, rule, user_id)
        cond = (cond + " AND " if cond else " WHERE ") + (
            "m.id IN (SELECT message_id FROM violations WHERE severity IN ('error', 'warning'))")
        rows = self._rows(
            f"SELECT m.id, m.channel, m.received_at, m.activity_id, m.user_id, m.round_id, m.valid, "
            f"m.violations, m.raw, m.source, m.duplicate, m.latency_ms, m.marker FROM messages m{cond} "
            f"ORDER BY m.id DESC LIMIT ?", (*args, int(limit)))
        return [_message(r) for r in rows]

    def entities(self, kind: str, *, user_id=None, status=None, limit=100, offset=0) -> list[dict]:
        """State documents of one kind, oldest key first: what the player view and the types' views read."""
        where, args = ["kind = ?"], [kind]
        for col, val in (("user_id", user_id), ("status", status)):
            if val is not None:
                where.append(f"{col} = ?")
                args.append(val)
        rows = self._rows(f"SELECT key, user_id, status, at, doc FROM entities WHERE {' AND '.join(where)} "
                          f"ORDER BY key LIMIT ? OFFSET ?", (*args, int(limit), int(offset)))
        return [{"key": r[0], "user_id": r[1], "status": r[2], "at": r[3], **json.loads(r[4])} for r in rows]

    def entity_counts(self, kind: str) -> dict[str | None, int]:
        """How many documents of one kind per status."""
        return {status: n for status, n in self._rows(
            "SELECT status, COUNT(*) FROM entities WHERE kind = ? GROUP BY status", (kind,))}

    def change_marker(self) -> str:
        """Cheap text that changes whenever a message or a rejection is stored or the store is cleared."""
        (last, n), = self._rows("SELECT MAX(id), COUNT(*) FROM messages")
        (rejected,), = self._rows("SELECT COUNT(*) FROM rejections")
        (calls,), = self._rows("SELECT MAX(id) FROM operator_calls")  # the operator's answers show too
        return f"{last or 0}.{n}.{rejected}" + (f".{calls}" if calls else "")


class _Tx:
    def __init__(self, store: SQLStore, cur):
        self._s = store
        self._cur = cur
        q = store._q
        self._sel_activity = q("SELECT activity_id, user_id, round_id, kind, amount, digest, rollback_digest "
                               "FROM activities WHERE activity_id = ?")
        self._sel_round = q(f"SELECT {ROUND_COLUMNS} FROM rounds WHERE user_id = ? AND round_id = ?")
        self._up_activity = q(
            "INSERT INTO activities (activity_id, user_id, round_id, kind, amount, digest, rollback_digest) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (activity_id) DO UPDATE SET "
            "rollback_digest = excluded.rollback_digest")
        self._up_round = q(
            f"INSERT INTO rounds ({ROUND_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (user_id, round_id) DO UPDATE SET status = excluded.status, "
            "bet_total = excluded.bet_total, win_total = excluded.win_total, "
            "rollback_total = excluded.rollback_total, events = excluded.events, bets = excluded.bets, "
            "started_at = excluded.started_at, ended_at = excluded.ended_at, "
            "last_event_at = excluded.last_event_at")
        self._ins_message = q(
            "INSERT INTO messages (channel, received_at, marker, raw, source, event, activity_id, user_id, "
            "round_id, valid, duplicate, violations, latency_ms, delivery_key) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            + store._returning_id())
        self._sel_delivery = q("SELECT id, valid, violations, duplicate, event FROM messages "
                               "WHERE delivery_key = ? ORDER BY id LIMIT 1")
        self._ins_violation = q("INSERT INTO violations (message_id, rule, severity, path) VALUES (?, ?, ?, ?)")
        self._sel_entity = q("SELECT doc FROM entities WHERE kind = ? AND key = ?")
        self._up_entity = q(
            "INSERT INTO entities (kind, key, user_id, status, at, doc) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (kind, key) DO UPDATE SET user_id = excluded.user_id, status = excluded.status, "
            "at = excluded.at, doc = excluded.doc")

    def get(self, kind: str, key: str) -> dict | None:
        """An event type's state document (a payment, a user, a bonus), or None."""
        self._cur.execute(self._sel_entity, (kind, key))
        row = self._cur.fetchone()
        return None if row is None else json.loads(row[0])

    def put(self, kind: str, key: str, doc: dict, *, user_id=None, status=None, at=None) -> None:
        self._cur.execute(self._up_entity, (kind, key, user_id, status, at,
                                            json.dumps(doc, ensure_ascii=False, separators=(",", ":"))))

    def activity(self, activity_id):
        self._cur.execute(self._sel_activity, (activity_id,))
        row = self._cur.fetchone()
        return None if row is None else Activity(row[0], row[1], row[2], row[3], Decimal(row[4]), row[5], row[6])

    def round(self, user_id, round_id):
        self._cur.execute(self._sel_round, (user_id, round_id))
        row = self._cur.fetchone()
        return None if row is None else _round(row)

    def delivery(self, delivery_key):
        self._cur.execute(self._sel_delivery, (delivery_key,))
        row = self._cur.fetchone()
        if row is None:
            return None
        return Verdict(row[0], bool(row[1]), violations_of_json(row[2]), bool(row[3]), row[4], redelivered=True)

    def save_activity(self, a: Activity):
        self._cur.execute(self._up_activity, (a.activity_id, a.user_id, a.round_id, a.kind, str(a.amount),
                                              a.digest, a.rollback_digest))

    def save_round(self, r: Round):
        self._cur.execute(self._up_round, (r.user_id, r.round_id, r.game_id, r.currency, r.status,
                                           str(r.bet_total), str(r.win_total), str(r.rollback_total),
                                           r.events, r.bets, iso(r.started_at), iso(r.ended_at),
                                           iso(r.last_event_at)))

    def add_message(self, m: MessageRecord) -> int:
        vjson = json.dumps([v.as_dict() for v in m.violations], ensure_ascii=False) if m.violations else "[]"
        self._cur.execute(self._ins_message, (
            m.channel, iso(m.received_at), m.marker, m.raw, m.source, m.event, m.activity_id, m.user_id,
            m.round_id, 1 if m.valid else 0, 1 if m.duplicate else 0, vjson, m.latency_ms, m.delivery_key))
        message_id = self._s._inserted_id(self._cur)
        if m.violations:
            self._cur.executemany(self._ins_violation,
                                  [(message_id, v.rule, v.severity, v.path) for v in m.violations])
        return message_id


def _message(r) -> dict:
    raw = bytes(r[8])
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):  # a body nested too deep for the stdlib is shown as text
        payload = None
    out = {"id": r[0], "channel": r[1], "received_at": r[2], "activity_id": r[3], "user_id": r[4],
           "round_id": r[5], "valid": bool(r[6]), "violations": json.loads(r[7]), "payload": payload,
           "source": r[9], "duplicate": bool(r[10]), "latency_ms": r[11], "marker": r[12]}
    if payload is None:
        out["raw"] = raw.decode("utf-8", errors="replace")
    return out


def violations_of_json(text: str) -> list[Violation]:
    return [Violation(**v) for v in json.loads(text)]
