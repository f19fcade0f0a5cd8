"""PostgreSQL: for several ftsim instances sharing one ledger (a Kafka consumer group, say).

A transaction-scoped advisory lock serialises judges across processes the way the intake lock does
inside one, so two instances never both count the same retry or both open the same round.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager

from .sql import SQLStore

DDL = """
CREATE TABLE IF NOT EXISTS messages (
  id BIGSERIAL PRIMARY KEY, channel TEXT NOT NULL, received_at TEXT NOT NULL, marker TEXT, raw BYTEA NOT NULL,
  source TEXT, event TEXT, activity_id TEXT, user_id TEXT, round_id TEXT, valid INTEGER NOT NULL,
  duplicate INTEGER NOT NULL, violations TEXT NOT NULL, latency_ms DOUBLE PRECISION, delivery_key TEXT);
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
  digest TEXT NOT NULL, rollback_digest TEXT);
CREATE TABLE IF NOT EXISTS rounds (
  user_id TEXT NOT NULL, round_id TEXT NOT NULL, game_id TEXT, currency TEXT, status TEXT NOT NULL,
  bet_total TEXT NOT NULL, win_total TEXT NOT NULL, rollback_total TEXT NOT NULL, events INTEGER NOT NULL,
  bets INTEGER NOT NULL, started_at TEXT NOT NULL, ended_at TEXT, last_event_at TEXT NOT NULL,
  PRIMARY KEY (user_id, round_id));
CREATE INDEX IF NOT EXISTS rounds_status ON rounds (status);
CREATE TABLE IF NOT EXISTS rejections (
  id BIGSERIAL PRIMARY KEY, channel TEXT NOT NULL, received_at TEXT NOT NULL, rule TEXT NOT NULL, detail TEXT);
"""

LEDGER_LOCK = 0x667473696D  # "ftsim": one advisory lock id for every instance on the database


class PostgresStore(SQLStore):
    ph = "%s"

    def __init__(self, url: str):
        import psycopg

        self._psycopg = psycopg
        self.errors = (psycopg.Error,)
        self.url = url
        self._read_lock = threading.Lock()
        super().__init__()
        self._reader = self._connect()
        self._reader.autocommit = True

    def _connect(self):
        return self._psycopg.connect(self.url)

    def _ddl(self):
        # Several instances may start at once: create the tables under the same lock judges take.
        return [f"SELECT pg_advisory_xact_lock({LEDGER_LOCK})"] + [s.strip() for s in DDL.split(";") if s.strip()]

    def _begin(self, conn):
        conn.execute(f"SELECT pg_advisory_xact_lock({LEDGER_LOCK})")

    def _returning_id(self):
        return " RETURNING id"

    def _inserted_id(self, cur):
        return cur.fetchone()[0]

    @contextmanager
    def _reading(self):
        with self._read_lock:
            yield self._reader

    def close(self):
        with self._write_lock:
            self._writer.close()
        self._reader.close()
