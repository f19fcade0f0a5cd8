"""What every broker listener shares: the reconnect loop, the stop flag, and judging a batch safely.

A listener's broker-specific part is `consume()`: connect, take messages, hand each batch to `judge`, and
acknowledge only what `judge` says was committed. Anything that goes wrong with the broker surfaces as an
exception out of `consume()`; the loop here turns it into the channel's state, waits with backoff, and
connects again, so a broker outage never ends the listener and never loses a message.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

from simulator.core.errors import ConfigError, StoreError

log = logging.getLogger("ftsim")

BATCH_WAIT = 0.05  # seconds a listener may hold a partial batch while more messages keep arriving
STATE_EVERY = 1.0  # seconds between refreshes of slow-to-learn state (queue depth, Kafka lag)


class Backoff:
    """Exponential with jitter, so a fleet of ftsim instances does not hammer a broker that just came back."""

    def __init__(self, base: float = 0.25, cap: float = 5.0):
        self.base, self.cap = base, cap
        self.attempt = 0

    def next(self) -> float:
        delay = min(self.cap, self.base * 2 ** self.attempt)
        self.attempt += 1
        return random.uniform(delay / 2, delay)

    def reset(self) -> None:
        self.attempt = 0


class Listener:
    """The loop around a broker session. Subclasses set `name` and implement `consume()`."""

    name = ""

    def __init__(self, settings, runtime):
        if settings.batch_max < 1:
            raise ConfigError(f"batch_max: expected 1 or more, got {settings.batch_max}")
        self.settings = settings
        self.runtime = runtime
        self.state = runtime.channel(self.name)
        self.backoff = Backoff()
        self.store_backoff = Backoff(base=0.1, cap=5.0)
        self._stopping = threading.Event()
        self._syncer: ThreadPoolExecutor | None = None  # waits for the disk while the next batch is judged

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def run(self) -> None:
        """Consume until stopped; a broker that goes away is waited for, however long it takes."""
        while not self.stopping:
            try:
                self.consume()
            except Exception as exc:  # the thread must outlive any broker trouble; the state shows it
                self.state.connected = False
                self.state.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                if self.stopping:
                    break
                delay = self.backoff.next()
                log.warning("%s: %s; connecting again in %.1f s", self.name, self.state.error, delay)
                self._stopping.wait(delay)
        self.state.connected = False
        if self._syncer is not None:
            self._syncer.shutdown(wait=True)

    def stop(self) -> None:
        """Ask `run` to finish the batch in hand, acknowledge it and close; it returns soon after."""
        self._stopping.set()

    def consume(self) -> None:
        raise NotImplementedError

    def connected(self) -> None:
        """The broker session is up: say so, and start the next outage's backoff from the beginning."""
        self.state.connected = True
        self.state.error = None
        self.backoff.reset()

    def judge(self, envelopes: list):
        """The verdicts once committed and on disk, or None when the store failed: then nothing may be
        acknowledged."""
        committed = self._commit(envelopes)
        return None if committed is None else self._durable(*committed)

    def submit(self, envelopes: list) -> Future:
        """`judge` for a listener that acknowledges later: the batch is judged and committed now, and the
        Future gives its verdicts once they are on disk (None: not kept). The wait for the disk runs on a
        thread of the listener's own, so the broker's thread reads and judges the next batch meanwhile."""
        committed = self._commit(envelopes)
        if committed is None or committed[1] is None:  # refused, or durable at commit (PostgreSQL, normal)
            done: Future = Future()
            done.set_result(None if committed is None else self._kept(committed[0]))
            return done
        if self._syncer is None:
            self._syncer = ThreadPoolExecutor(1, f"ftsim-{self.name}-sync")
        return self._syncer.submit(self._durable, *committed)

    def _commit(self, envelopes: list):
        try:
            return self.runtime.intake.commit(envelopes)
        except Exception as exc:
            return self._refused(exc, len(envelopes))

    def _durable(self, verdicts, ticket):
        try:
            self.runtime.store.sync(ticket)
        except Exception as exc:
            return self._refused(exc, len(verdicts))
        return self._kept(verdicts)

    def _refused(self, exc: Exception, n: int) -> None:
        if isinstance(exc, StoreError):
            self.state.error = str(exc)
            log.error("%s: %s; %d messages left for the broker to deliver again", self.name, exc, n)
        else:  # intake gives a message it cannot judge a verdict; this is storing gone wrong
            self.state.error = f"store: {type(exc).__name__} (a bug in ftsim, see the log)"
            log.error("%s: storing a batch of %d failed; left for the broker to deliver again after a pause",
                      self.name, n, exc_info=exc)
        return None

    def _kept(self, verdicts):
        self.store_backoff.reset()
        self.state.consumed += len(verdicts)
        again = sum(1 for v in verdicts if v.redelivered)
        if again:
            self.state.extra["redelivered"] = self.state.extra.get("redelivered", 0) + again
        if self.state.error and self.state.error.startswith("store:"):
            self.state.error = None
        return verdicts

    def pause_after_store_failure(self) -> None:
        self._stopping.wait(self.store_backoff.next())


class Every:
    """True at most once per period: for work worth doing now and then inside a hot loop."""

    def __init__(self, period: float):
        self.period = period
        self._next = 0.0

    def due(self) -> bool:
        now = time.monotonic()
        if now < self._next:
            return False
        self._next = now + self.period
        return True
