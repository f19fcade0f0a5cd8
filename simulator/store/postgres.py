"""PostgreSQL: for several ftsim instances sharing one ledger (a Kafka consumer group, say).

A transaction-scoped advisory lock serialises judges across processes the way the intake lock does
inside one, so two instances never both count the same retry or both open the same round.

Durability: `full` sets `synchronous_commit = on` for ftsim's writer session (whatever the server's
default), so a commit has reached the server's disk before intake returns; `normal` sets it `off`, which
may lose the last commits if the database server crashes, never corrupts. The server's own `fsync` is
reported in health() since no session can turn it back on.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager

from simulator.store.sql import SQLStore


LEDGER_LOCK = 0x667473696D  # "ftsim": one advisory lock id for every instance on the database
SYNCHRONOUS_COMMIT = {"full": "on", "normal": "off"}


class PostgresStore(SQLStore):
    ph = "%s"
    types = {"serial": "BIGSERIAL PRIMARY KEY", "blob": "BYTEA", "real": "DOUBLE PRECISION", "without_rowid": ""}

    def __init__(self, url: str, durability: str = "full", tables=()):
        import psycopg

        if durability not in SYNCHRONOUS_COMMIT:
            raise ValueError(f"durability: expected full or normal, got {durability!r}")
        self._psycopg = psycopg
        self.errors = (psycopg.Error,)
        self.url = url
        self.durability = durability
        self._read_lock = threading.Lock()
        super().__init__(tables)
        self._reader = self._connect()
        self._reader.autocommit = True
        self._server = {name: self._reader.execute(f"SHOW {name}").fetchone()[0]
                        for name in ("synchronous_commit", "fsync")}  # the reader's session is set alike

    def _connect(self):
        conn = self._psycopg.connect(self.url)
        conn.execute(f"SET synchronous_commit = {SYNCHRONOUS_COMMIT[self.durability]}")
        conn.commit()  # a SET inside a transaction that is rolled back would be undone
        return conn

    def health(self) -> dict:
        return {"ok": True, "error": None, "kind": "postgresql", "durability": self.durability, **self._server}

    def _ddl(self):
        # Several instances may start at once: create the tables under the same lock judges take.
        return [f"SELECT pg_advisory_xact_lock({LEDGER_LOCK})"] + super()._ddl()

    def _begin(self, conn):
        conn.execute(f"SELECT pg_advisory_xact_lock({LEDGER_LOCK})")

    def _begin_counting(self, conn):
        # A refused request touches only its own counter row, which an upsert adds to atomically: it need
        # not queue behind judges for the ledger's lock (a flood of 401s would slow intake down).
        pass

    def _returning_id(self):
        return " RETURNING id"

    def _inserted_id(self, cur):
        return cur.fetchone()[0]

    def _message_ids(self, cur):
        # From the table's own sequence, so other instances' ids never collide; a few first (most batches
        # from one REST request are small), then a group commit's worth. Unused ones are gaps, as on rollback.
        size = 8
        while True:
            cur.execute("SELECT nextval(pg_get_serial_sequence('messages', 'id')) FROM generate_series(1, %s)",
                        (size,))
            yield from [row[0] for row in cur.fetchall()]
            size = 256

    @contextmanager
    def _reading(self):
        with self._read_lock:
            yield self._reader

    def close(self):
        with self._write_lock:
            self._writer.close()
        self._reader.close()
