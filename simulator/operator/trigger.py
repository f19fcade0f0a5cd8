"""Calls triggered by the feed, as the CRM makes them, off the intake path.

Intake hands every committed batch to `on_verdicts`, which only puts (message id, type) on a bounded queue
and returns: a slow or dead operator can never slow intake or lose a message. Worker threads take jobs,
read the event back from the store, wait their turn under the rate limit and call the operator; a recorder
thread writes the judged calls in batches. A full queue drops the job and counts every call it would have
made: dropped work is reported (summary, page, reports, log), never silent.
"""
from __future__ import annotations

import logging
import queue
import threading
import time

from simulator.operator.client import Call, OperatorClient
from simulator.operator.crosscheck import CURRENCY_EVENTS, cross_check

log = logging.getLogger("ftsim.operator")

# The CRM looks the user up "when certain events are received, for example Registration, User Update".
PLAN = {"user_create_v2": ("userdetails", "userconsents", "userblocks"), "user_update_v2": ("userdetails",),
        "user_consents_v2": ("userconsents",), "user_block_v2": ("userblocks",)}


class RateLimit:
    """At most `rate` calls a second over all workers, evenly spaced (0: no limit)."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def wait(self, stopping: threading.Event) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            at = max(now, self._next)
            self._next = at + self.interval
        if at > now:
            stopping.wait(at - now)


class Recorder:
    """Writes calls in batches, so a busy operator costs intake a few short commits a second, not one each."""

    def __init__(self, store, every: float = 0.25):
        self.store, self.every = store, every
        self._pending: list[dict] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._written = threading.Condition(self._lock)
        self._flushing = threading.Lock()  # one flush at a time: a flush returns only once what it saw is stored
        self.failed = 0  # calls the store refused (kept in the log)
        self._thread = threading.Thread(target=self._loop, name="ftsim-operator-recorder", daemon=True)
        self._thread.start()

    def add(self, call: Call) -> None:
        with self._lock:
            self._pending.append(call.as_dict())

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self.flush()
        self.flush()

    def flush(self) -> None:
        """Store what is pending; when the background flush is writing, wait for it to finish first."""
        with self._flushing:
            self._flush()

    def _flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        if batch:
            try:
                self.store.add_operator_calls(batch)
            except Exception:  # the store is down: the calls are in the log, intake goes on
                self.failed += len(batch)
                log.exception("operator: could not store %d calls: %s", len(batch),
                              "; ".join(f"{c['method']} {c['path']} {c['status']}" for c in batch[:5]))
        with self._lock:
            self._written.notify_all()

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


class Trigger:
    def __init__(self, client: OperatorClient, store, *, queue_size=1000, workers=4, rate=20.0):
        self.client, self.store = client, store
        self.jobs: queue.Queue = queue.Queue(queue_size)
        self.limit = RateLimit(rate)
        self.recorder = Recorder(store)
        self.dropped_messages = self.dropped_calls = self.abandoned = 0
        self.in_flight = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._workers = [threading.Thread(target=self._work, name=f"ftsim-operator-{i}", daemon=True)
                         for i in range(workers)]
        for t in self._workers:
            t.start()

    def on_verdicts(self, verdicts) -> None:
        """Intake's subscriber: called under intake's lock, so it only queues."""
        for v in verdicts:
            plan = PLAN.get(v.event)
            if plan is None or not v.valid or v.duplicate or v.redelivered or v.id is None:
                continue  # the CRM acts on accepted events once; a retry or a refused event calls nothing
            try:
                self.jobs.put_nowait((v.id, v.event))
            except queue.Full:
                with self._lock:
                    self.dropped_messages += 1
                    self.dropped_calls += len(plan)
                    n = self.dropped_messages
                if n == 1 or n % 1000 == 0:
                    log.warning("operator: queue full (%d waiting): %d events dropped so far without their calls "
                                "(see the summary's operator.dropped)", self.jobs.maxsize, n)

    def _work(self) -> None:
        while True:
            job = self.jobs.get()
            try:
                if job is None:
                    return
                if self._stopping.is_set():
                    with self._lock:
                        self.abandoned += len(PLAN[job[1]])
                    continue
                with self._lock:
                    self.in_flight += 1
                try:
                    self._run(*job)
                finally:
                    with self._lock:
                        self.in_flight -= 1
            except Exception:  # a bug here must not end the worker: the next event still gets its calls
                log.exception("operator: a triggered call failed inside ftsim")
            finally:
                self.jobs.task_done()

    def _run(self, message_id: int, event: str) -> None:
        payload = self.store.message_payload(message_id) or {}
        user_id = payload.get("user_id")
        user_id = str(user_id) if isinstance(user_id, (str, int)) and not isinstance(user_id, bool) else None
        if not user_id:
            return
        for name in PLAN[event]:
            self.limit.wait(self._stopping)
            if self._stopping.is_set():
                with self._lock:
                    self.abandoned += 1
                continue
            call = self.client.call(name, user_id, message_id=message_id)
            if call.valid and call.parsed is not None:
                currencies = (self.store.user_fields(user_id, CURRENCY_EVENTS, "currency")
                              if name == "userdetails" else set())
                more = cross_check(name, call.parsed, payload, currencies)
                call.violations += self.client.severities.stamp(more)
            self.recorder.add(call)

    def idle(self) -> bool:
        with self._lock:
            busy = self.in_flight
        return self.jobs.unfinished_tasks == 0 and busy == 0 and self.recorder.pending == 0

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Until every queued job is called and recorded (tests, --until-idle); False if it took longer."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.idle():
                self.recorder.flush()
                return True
            time.sleep(0.02)
        return False

    def stats(self) -> dict:
        with self._lock:
            return {"queued": self.jobs.qsize(), "in_flight": self.in_flight, "queue_size": self.jobs.maxsize,
                    "dropped": {"events": self.dropped_messages, "calls": self.dropped_calls},
                    "abandoned": self.abandoned, "unstored": self.recorder.failed}

    def stop(self) -> None:
        """Finish the calls in flight, count the queued ones as abandoned, store every call made."""
        self._stopping.set()
        for _ in self._workers:  # the workers skip what is queued (counting it), so room comes quickly
            while any(t.is_alive() for t in self._workers):
                try:
                    self.jobs.put(None, timeout=0.5)
                    break
                except queue.Full:
                    continue
        for t in self._workers:
            t.join(timeout=self.client.timeout + 5)
        self.recorder.stop()
