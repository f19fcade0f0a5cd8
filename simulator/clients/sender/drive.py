"""Feeding a channel: at a steady rate or as fast as it takes them, with progress on a stream.

Items are pulled from their iterable only when it is time to send them, so a generator that stamps
timestamps as it yields (a scenario) stamps them at send time, not when the run started.
"""
from __future__ import annotations

import threading
import time
from typing import Iterable, TextIO

from simulator.clients.sender.base import Outgoing, Stats


def deliver(channel, items: Iterable[Outgoing], *, rate: float | None = None, count: int | None = None,
            progress: TextIO | None = None, label: str = "") -> Stats:
    """Send items (at most `count`) through channel, `rate` per second or unpaced; close it; its Stats."""
    stats: Stats = channel.stats
    reporter = Progress(stats, count, progress, label or channel.name) if progress is not None else None
    it = iter(items)
    start = time.monotonic()
    n = 0
    try:
        while count is None or n < count:
            if rate:
                delay = start + n / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            item = next(it, None)
            if item is None:
                break
            channel.submit(item)
            n += 1
            stats.sent = n
    finally:
        channel.close()
        if reporter:
            reporter.stop()
    return stats


class Progress:
    """A line every second: sent, answered, rate, refusals; rewritten in place on a terminal."""

    def __init__(self, stats: Stats, total: int | None, stream: TextIO, label: str, every: float = 1.0):
        self.stats, self.total, self.stream, self.label, self.every = stats, total, stream, label, every
        self.tty = getattr(stream, "isatty", lambda: False)()
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ftsim-progress", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._print(final=False)

    def _print(self, final: bool) -> None:
        s = self.stats.snapshot()
        elapsed = max(time.monotonic() - self.started, 1e-9)
        of = f"/{self.total}" if self.total else ""
        line = (f"{self.label}: sent {s['sent']}{of}, delivered {s['delivered']}, rejected {s['rejected']}, "
                f"failed {s['failed']}, retries {s['retries']}  {s['sent'] / elapsed:,.0f} msg/s  {elapsed:.1f} s")
        end = "\n" if final or not self.tty else ""
        print(("\r" if self.tty else "") + line, end=end, file=self.stream, flush=True)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._print(final=True)


