"""SQLite: the embedded default. WAL lets the query API read while intake writes."""
from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager

from simulator.store.sql import SQLStore


class SQLiteStore(SQLStore):
    errors = (sqlite3.Error,)
    types = {"serial": "INTEGER PRIMARY KEY", "blob": "BLOB", "real": "REAL", "without_rowid": " WITHOUT ROWID"}

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
