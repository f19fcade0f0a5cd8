"""End-to-end latencies in fixed log-spaced bins: p50/p99 over any number of pairs in constant memory."""
from __future__ import annotations

from bisect import bisect_left

STEP = 1.05  # each bin 5 % wider than the last: a quantile is known within 5 %
EDGES = [0.1 * STEP ** i for i in range(330)]  # 0.1 ms .. about 10 minutes


class Histogram:
    __slots__ = ("counts", "total", "over")

    def __init__(self):
        self.counts = [0] * (len(EDGES) + 1)
        self.total = 0
        self.over = 0

    def add(self, ms: float, budget_ms: float) -> None:
        self.counts[bisect_left(EDGES, ms)] += 1
        self.total += 1
        self.over += ms > budget_ms

    def quantile(self, q: float) -> float | None:
        if not self.total:
            return None
        want, seen = q * self.total, 0
        for i, n in enumerate(self.counts):
            seen += n
            if seen >= want and n:
                return round(EDGES[min(i, len(EDGES) - 1)], 3)
        return round(EDGES[-1], 3)
