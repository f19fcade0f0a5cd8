"""SQLite: the embedded default. WAL lets the query API read while intake writes."""
from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager

from .sql import SQLStore

DDL = """
CREATE TABLE IF NOT EXISTS messages (
  id INTEGER PRIMARY KEY, channel TEXT NOT NULL, received_at TEXT NOT NULL, marker TEXT, raw BLOB NOT NULL,
  source TEXT, event TEXT, activity_id TEXT, user_id TEXT, round_id TEXT, valid INTEGER NOT NULL,
  duplicate INTEGER NOT NULL, violations TEXT NOT NULL, latency_ms REAL, delivery_key TEXT);
CREATE INDEX IF NOT EXISTS messages_channel ON messages (channel);
CREATE INDEX IF NOT EXISTS messages_user ON messages (user_id);
CREATE INDEX IF NOT EXISTS messages_valid ON messages (valid);
CREATE INDEX IF NOT EXISTS messages_latency ON messages (latency_ms);
CREATE INDEX IF NOT EXISTS messages_delivery ON messages (delivery_key) WHERE delivery_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS violations (
  message_id INTEGER NOT NULL, rule TEXT NOT NULL, severity TEXT NOT NULL, path TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS violations_rule ON violations (rule, message_id);
CREATE TABLE IF NOT EXISTS activities (
  activity_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, round_id TEXT, kind TEXT NOT NULL, amount TEXT NOT NULL,
  digest TEXT NOT NULL, rollback_digest TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rounds (
  user_id TEXT NOT NULL, round_id TEXT NOT NULL, game_id TEXT, currency TEXT, status TEXT NOT NULL,
  bet_total TEXT NOT NULL, win_total TEXT NOT NULL, rollback_total TEXT NOT NULL, events INTEGER NOT NULL,
  bets INTEGER NOT NULL, started_at TEXT NOT NULL, ended_at TEXT, last_event_at TEXT NOT NULL,
  PRIMARY KEY (user_id, round_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rounds_status ON rounds (status);
CREATE TABLE IF NOT EXISTS rejections (
  id INTEGER PRIMARY KEY, channel TEXT NOT NULL, received_at TEXT NOT NULL, rule TEXT NOT NULL, detail TEXT);
"""


class SQLiteStore(SQLStore):
    errors = (sqlite3.Error,)

    def __init__(self, path: str):
        self.path = path
        self._memory = path == ":memory:" or path.startswith("file::memory:")
        self._local = threading.local()
        super().__init__()

    def _connect(self):
        conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 30000")
        if not self._memory:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA temp_store = MEMORY")
        return conn

    def _ddl(self):
        return [s.strip() for s in DDL.split(";") if s.strip()]

    def _begin(self, conn):
        conn.execute("BEGIN IMMEDIATE")

    def _returning_id(self):
        return ""

    def _inserted_id(self, cur):
        return cur.lastrowid

    @contextmanager
    def _reading(self):
        if self._memory:  # one connection holds the whole database: share it under the write lock
            with self._write_lock:
                yield self._writer
            return
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        yield conn

    def close(self):
        with self._write_lock:
            self._writer.close()
