"""Concurrent callers sharing one call over everything they queued (group commit, flat combining).

Intake's group commit: N REST threads that each commit their own message pay N fsyncs; N threads that
queue and let one of them commit for all pay one. No thread of its own does the calling: the first caller
leads, calls for everything queued, wakes each caller with its own result, repeats until its own item is
done, then hands the lead to the oldest caller still queued. While a call is under way (SQLite waits
without the GIL), the callers behind it get on with their own work and queue, so batches grow with the load.

`hold`, if given, runs before the leader takes what is queued: intake's wait for the fsync under way. A
commit made during it would wait for the next fsync anyway, so what arrives meanwhile is committed with
it, in one transaction. `ftsim serve --workers 1` on one CPU under 16 REST connections, at `--durability
full`: without the hold each caller committed on its own and queued for the disk instead (batches of 1.07
messages), with it batches of 9.5 (33 at 64 connections); in three runs alternating with the code before,
2,157-2,200 -> 3,078-3,648 msg/s and 437-444 -> 258-303 us of CPU a message.

Kept apart from intake so that it can be tested on its own. Measured and not used: a worker's threads
sharing one request to the supervisor's hub (fewer reads and answers there) made the supervisor's batches
smaller (7.3 -> 5.1 messages) and REST 11% slower, because a worker's queued threads then left only after
the answer to the request before theirs, where on connections of their own they were already on the wire.
"""
from __future__ import annotations

import threading
from typing import Callable, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class _Waiter:
    """A caller waiting for its result, or for its turn to lead."""
    __slots__ = ("item", "result", "error", "done", "wake")

    def __init__(self, item):
        self.item, self.result, self.error, self.done = item, None, None, False
        self.wake = threading.Lock()
        self.wake.acquire()  # released once: when its item is done, or when it is made leader


class Combiner(Generic[T, R]):
    """`submit(item)` returns the item's result from `call(items)`, made by whichever caller leads.

    call(items) returns [(result, None) or (None, the exception to raise in that item's caller)], one per
    item, in order. If it raises (a bug: errors that are an item's own belong in its pair), the leader raises
    it and the batch's other callers get a RuntimeError, so that none of them waits for ever."""

    def __init__(self, call: Callable[[list[T]], list[tuple[R | None, BaseException | None]]], most: int,
                 hold: Callable[[], None] | None = None):
        self._call = call
        self._hold = hold
        self.most = most
        self._queue: list[_Waiter] = []  # callers whose item no call has taken yet
        self._lock = threading.Lock()
        self._leading = False  # one caller is calling for everyone

    @property
    def waiting(self) -> int:
        """Callers whose item no call has taken yet."""
        return len(self._queue)

    def submit(self, item: T) -> R:
        me = _Waiter(item)
        with self._lock:
            self._queue.append(me)
            lead = not self._leading
            self._leading = True
        if not lead:
            me.wake.acquire()  # done by a leader, or made leader
        if not me.done:
            try:
                while not me.done:
                    if self._hold is not None:
                        self._hold()
                    with self._lock:
                        batch = self._queue[:self.most]
                        del self._queue[:self.most]
                    self._run(batch, me)
            finally:
                with self._lock:
                    successor = self._queue[0] if self._queue else None
                    self._leading = successor is not None
                if successor is not None:
                    successor.wake.release()
        if me.error is not None:
            raise me.error
        return me.result

    def _run(self, batch: list[_Waiter], leader: _Waiter) -> None:
        results = [(None, RuntimeError("the call for this item's batch raised before it answered"))] * len(batch)
        try:
            got = self._call([w.item for w in batch])
            if len(got) != len(batch):
                raise RuntimeError(f"{len(got)} results for {len(batch)} items")
            results = got
        finally:
            for w, (result, error) in zip(batch, results):
                w.result, w.error, w.done = result, error, True
                if w is not leader:
                    w.wake.release()
