"""SQLite's WAL checkpoints on a thread of their own, so that intake's commits do not wait for them.

With its default auto-checkpoint, SQLite copies the WAL back into the database file inside the commit that
passes 1,000 pages: about a tenth of intake's CPU a message (bench/intake_cpu.py --stages), spent while the
write lock is held and the next batch waits. Here the writer's auto-checkpoint is raised to a safety net
(`SAFETY_PAGES`: if this thread falls behind or dies, the writer checkpoints as before), and after commits
this thread runs a PASSIVE checkpoint on its own connection. sqlite3 releases the GIL while it works, so
the copy runs on another core. A checkpoint moves only committed pages, so what was committed stays committed
whatever happens to this thread or the process.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
import time

SAFETY_PAGES = 20_000  # about 80 MiB of WAL: the writer's own checkpoint, only if this thread does not keep up
EVERY = 0.05  # seconds between checkpoints at most: a checkpoint of a few pages costs more than it saves

log = logging.getLogger("ftsim")


class Checkpointer:
    def __init__(self, connect):
        """connect(): a new connection to the database (the store's own, without creating a file)."""
        self._connect = connect
        self._wake = threading.Event()
        self._stopping = False
        self.checkpoints = 0
        self._thread = threading.Thread(target=self._run, name="ftsim-sqlite-checkpoint", daemon=True)
        self._thread.start()

    def committed(self) -> None:
        """Called after each commit: pages are waiting in the WAL."""
        self._wake.set()

    def close(self) -> None:
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        try:
            conn = self._connect()
        except sqlite3.Error as exc:  # the writer's own auto-checkpoint (SAFETY_PAGES) still keeps the WAL bounded
            log.warning("store: the WAL checkpoint thread could not open the database (%s)", exc)
            return
        try:
            while True:
                self._wake.wait()
                if self._stopping:
                    return
                self._wake.clear()
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.checkpoints += 1
                except sqlite3.Error as exc:  # busy or gone: the next commit wakes us again
                    log.debug("store: WAL checkpoint skipped (%s)", exc)
                if self._stopping:
                    return
                time.sleep(EVERY)
        finally:
            conn.close()
