"""SQLite: the embedded default. WAL lets the query API read while intake writes.

Durability: with `full` (the default) every commit is fsynced before intake returns, so what a transport
acknowledges survives a power loss; `normal` skips that sync (WAL keeps the file consistent, but the last
commits before a power loss or OS crash may be gone) for load tests that accept the risk. The fsync of
`full` is ftsim's own, after the commit and outside the ledger's lock (store/walsync.py).

The file is watched: after every commit its path must still name the file ftsim opened. Deleted, moved
away or replaced, the commit went to a file nobody will read again, so the batch raises StoreError
(nothing acknowledged) and so does every batch after it until an operator restarts ftsim: the ledger
that judged retries and rounds is gone, and quietly starting a new one would judge the next messages
against nothing.
"""
from __future__ import annotations

import fcntl
import itertools
import os
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from urllib.parse import quote

from simulator.core.errors import StoreError
from simulator.store.checkpoint import SAFETY_PAGES, Checkpointer
from simulator.store.sql import SQLStore
from simulator.store.walsync import WalSync

SYNCHRONOUS = {"full": "FULL", "normal": "NORMAL"}


class SQLiteStore(SQLStore):
    errors = (sqlite3.Error,)
    types = {"serial": "INTEGER PRIMARY KEY", "blob": "BLOB", "real": "REAL", "without_rowid": " WITHOUT ROWID"}

    def __init__(self, path: str, durability: str = "full", tables=()):
        if durability not in SYNCHRONOUS:
            raise ValueError(f"durability: expected full or normal, got {durability!r}")
        self.path = path
        self.durability = durability
        self._memory = path == ":memory:" or path.startswith("file::memory:")
        self._local = threading.local()
        self.failure: str | None = None  # set once the file is found gone or replaced; never cleared
        self._identity: dict[str, tuple[int, int]] = {}
        if not self._memory and not os.path.exists(path) and os.path.exists(path + "-wal"):
            # SQLite would replay that WAL's pages onto the new, empty file: a corrupt database.
            raise StoreError(f"store: {path} is missing but {path}-wal, left from the database that was there, "
                             f"is not; move {path}-wal away (or delete it) and start again")
        self._checkpointer = None
        self._gate = None
        self._wal: WalSync | None = None
        super().__init__(tables)  # the tables are made under SQLite's own lock; every batch after under the gate
        if not self._memory:
            # Writers of several processes (two ftsim on one file; the workers of `--workers N`, which store
            # refused requests and clear, beside their supervisor) queue on this lock, which wakes the next one
            # the moment it is free; SQLite's own busy handler sleeps 1-100 ms between tries.
            self._gate = os.open(path + "-lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            self._writer.execute(f"PRAGMA wal_autocheckpoint = {SAFETY_PAGES}")
            self._checkpointer = Checkpointer(lambda: self._connect(create=False))
            # The WAL holds commits not yet checkpointed: deleting it loses them as surely as the file.
            self._identity = {path: self._stat(path)}
            if os.path.exists(path + "-wal"):  # it is, in WAL mode, from the first read on
                self._identity[path + "-wal"] = self._stat(path + "-wal")
            if durability == "full":  # the writer's commits leave the fsync to _wal, outside the ledger's lock
                self._wal = WalSync(path + "-wal")
                self._writer.execute("PRAGMA synchronous = NORMAL")

    def _connect(self, create: bool = True):
        target, uri = self.path, False
        if not create and not self._memory:  # a reader must not make an empty file where one vanished
            target, uri = f"file:{quote(os.path.abspath(self.path))}?mode=rw", True
        conn = sqlite3.connect(target, timeout=30, check_same_thread=False, isolation_level=None, uri=uri)
        conn.execute("PRAGMA busy_timeout = 30000")
        if not self._memory:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {SYNCHRONOUS[self.durability]}")
        conn.execute("PRAGMA temp_store = MEMORY")
        return conn

    def _begin(self, conn):
        if self.failure:
            raise StoreError(self.failure)
        if self._gate is not None:
            fcntl.flock(self._gate, fcntl.LOCK_EX)  # blocks without the GIL
        conn.execute("BEGIN IMMEDIATE")

    def _end(self):
        if self._gate is not None:
            fcntl.flock(self._gate, fcntl.LOCK_UN)

    def _committed(self):
        if self.failure:
            raise StoreError(self.failure)
        # One stat per file per batch (about 2 us each): cheap next to the commit it guards.
        for path, seen in self._identity.items():
            try:
                now = self._stat(path)
            except FileNotFoundError:
                self._fail(f"the database file {path} was deleted or moved away while ftsim ran", path)
            except OSError as exc:
                self._fail(f"the database file {path} cannot be read ({exc.strerror or exc})", path)
            else:
                if now != seen:
                    self._fail(f"the database file {path} was replaced by another file while ftsim ran", path)
        if self._checkpointer is not None:
            self._checkpointer.committed()

    def _written(self):
        return None if self._wal is None else self._wal.committed()

    def disk_idle(self) -> None:
        if self._wal is not None:
            self._wal.idle()

    def sync(self, ticket) -> None:
        if ticket is None:
            return
        try:
            self._wal.wait(ticket)
        except StoreError:  # the WAL may have lost pages: no batch is acknowledged until a restart
            self.failure = self.failure or self._wal.failure
            raise

    def _fail(self, what: str, path: str):
        if path == self.path:
            what += self._set_wal_aside()
        self.failure = (f"store: {what}; the batch was not acknowledged, and nothing more will be until "
                        f"ftsim is restarted")
        raise StoreError(self.failure)

    def _set_wal_aside(self) -> str:
        """Our WAL belongs to the file that went: left at its name, a restart would replay it onto the
        new or replacement file and corrupt it. Renamed, it is kept for whoever wants those commits."""
        wal = self.path + "-wal"
        try:
            if self._stat(wal) != self._identity.get(wal):
                return ""
            aside = f"{wal}.vanished-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}"
            os.rename(wal, aside)
        except OSError:
            return ""
        return f" (its WAL was moved to {aside})"

    @staticmethod
    def _stat(path: str) -> tuple[int, int]:
        st = os.stat(path)
        return st.st_dev, st.st_ino

    def health(self) -> dict:
        return {"ok": self.failure is None, "error": self.failure, "kind": "sqlite",
                "durability": "memory" if self._memory else self.durability}

    def _returning_id(self):
        return ""

    def _inserted_id(self, cur):
        return cur.lastrowid

    def _message_ids(self, cur):
        # The writer holds the file (BEGIN IMMEDIATE under the flock gate): no one else takes an id meanwhile.
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM messages")
        return itertools.count(cur.fetchone()[0] + 1)

    @contextmanager
    def _reading(self):
        conn = None if self._memory or self.failure else getattr(self._local, "conn", None)
        if conn is None and not self._memory and not self.failure:
            try:
                conn = self._local.conn = self._connect(create=False)
            except sqlite3.Error:
                conn = None  # the file is gone: read what the writer still holds
        if conn is None:  # one connection holds the whole database: share it under the write lock
            with self._write_lock:
                yield self._writer
            return
        yield conn

    def close(self):
        if self._checkpointer is not None:
            self._checkpointer.close()
        if self._wal is not None:
            self._wal.close()
        with self._write_lock:
            self._writer.close()
            if self._gate is not None:
                os.close(self._gate)
                self._gate = None
