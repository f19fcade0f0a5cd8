"""What a scenario costs its sender: planning, rendering and the oracle's verdict per message, casino-only
(steady, faulty) against whole journeys across every type (full-journey, full-journey-faulty). A load tool
(Locust's Feed) pays this for every message it sends, so a journey must not make the client the bottleneck.

    PYTHONPATH=. python bench/scenarios.py [--count N] [--runs N]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simulator.clients.scenario import load_scenario  # noqa: E402
from simulator.clients.scenario.expect import Oracle  # noqa: E402
from simulator.clients.scenario.render import Renderer  # noqa: E402
from simulator.clients.scenario.stream import plan  # noqa: E402


def rate(name: str, count: int) -> float:
    """Messages per second through plan -> render -> expect, as Feed.next does them."""
    sc = load_scenario(name)
    renderer, oracle = Renderer("kafka"), Oracle("kafka", keep_departed=4 * sc.players + 16)
    started = time.perf_counter()
    for p in islice(plan(sc, "bench"), count):
        renderer.outgoing(p)
        oracle.expect(p)
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    names = ("steady", "faulty", "full-journey", "full-journey-faulty")
    rates = {n: statistics.median(rate(n, args.count) for _ in range(args.runs)) for n in names}
    base = rates["steady"]
    print(f"plan + render + expect, {args.count} messages, median of {args.runs} runs")
    for n, r in rates.items():
        print(f"  {n:<22} {r:>10,.0f} msg/s   {r / base:5.2f}x steady")


if __name__ == "__main__":
    main()
