"""`--durability full` on SQLite: the WAL's fsync taken out of the commit and shared by every commit waiting.

With `synchronous=FULL` SQLite fsyncs the WAL inside each commit, while the writer holds the ledger: under
REST load the group's judge thread spent 46% of its time in commits, against 19% at `normal` (py-spy,
`ftsim serve --workers 2`), so the next batch waited for the disk. Here the writer commits at
`synchronous=NORMAL` (the WAL stays consistent; a power loss may undo commits not yet synced) and a
commit's callers wait in `wait(ticket)` for an fsync of the WAL that began after their commit wrote its
frames, outside every lock. The ledger goes on judging the next batch meanwhile, and one fsync covers every
commit made before it began. Nothing is acknowledged before its fsync returned, so `full` keeps its
promise: an acknowledged message survives a power loss (if the disk honours flushes).

An fsync that fails may have lost pages a retry would then report as written (the "fsyncgate" lesson), so
a failure is for good: every waiter, now and later, gets StoreError, as when the file vanishes.
"""
from __future__ import annotations

import os
import threading

from simulator.core.errors import StoreError


class WalSync:
    def __init__(self, wal_path: str):
        self._path = wal_path
        self._fd: int | None = None
        self._cond = threading.Condition(threading.Lock())
        self._committed = 0  # commits whose frames are written (in the page cache)
        self._synced = 0  # commits known to be on disk
        self._syncing = False
        self.failure: str | None = None
        try:  # now, so that the file synced is the one the store checked at open (its identity)
            self._open()
        except OSError:
            pass  # not there yet: opened at the first sync

    def _open(self) -> int:
        if self._fd is None:
            self._fd = os.open(self._path, os.O_RDONLY | os.O_CLOEXEC)
        return self._fd

    def committed(self) -> int:
        """Called after a commit returned: the ticket its callers wait on."""
        with self._cond:
            self._committed += 1
            return self._committed

    def idle(self) -> None:
        """Return once no fsync is under way. A commit made during one waits for the next fsync anyway, so
        a writer that waits here first commits everything that arrived meanwhile in one transaction."""
        with self._cond:
            while self._syncing:
                self._cond.wait()

    def wait(self, ticket: int) -> None:
        """Return once commit `ticket` is on disk; the first waiter to find no fsync running runs one for
        everyone (blocking without the GIL), the others wait for it or for the next."""
        with self._cond:
            while self._synced < ticket and self.failure is None:
                if self._syncing:
                    self._cond.wait()
                    continue
                self._syncing, target = True, self._committed
                self._cond.release()
                try:
                    error = self._fsync()
                finally:
                    self._cond.acquire()
                    self._syncing = False
                    self._cond.notify_all()
                if error is not None:
                    self.failure = error
                else:
                    self._synced = max(self._synced, target)
            if self.failure is not None and self._synced < ticket:
                raise StoreError(self.failure)

    def _fsync(self) -> str | None:
        try:
            os.fdatasync(self._open())
        except OSError as exc:
            return (f"store: the WAL {self._path} could not be flushed to disk ({exc.strerror or exc}); the "
                    f"batch was not acknowledged, and nothing more will be until ftsim is restarted")
        return None

    def close(self) -> None:
        """After the fsync under way, if any: closed under it, its descriptor's number could name another file
        by the time the fsync runs. A commit not synced by then is refused, never taken as kept."""
        with self._cond:
            while self._syncing:
                self._cond.wait()
            if self.failure is None:
                self.failure = f"store: closed before the WAL {self._path} was flushed; send it again"
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
