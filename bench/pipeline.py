"""The pipeline pairing against ftsim's intake: does pairing keep up, and does its memory stay flat?

    python bench/pipeline.py              # 100,000 inputs; about a minute on 2 cores
    python bench/pipeline.py --inputs 20000

Three figures, printed, nothing asserted:
  rate     Phoenix start inputs registered and their CASINO Bet paired, per second, in batches of 500 as
           the REST endpoint and a broker listener hand them over; next to it intake's own rate (judge and
           store casino events in batches of 500, SQLite, durability normal), and the ratio.
  memory   Python heap (tracemalloc) after 25 % of the inputs and after all of them, while pairs complete;
           the judged inputs kept for the API (keep) and the ids remembered are bounded, so it should be flat.
  expiry   inputs whose FT events never come, the clock moving 1 ms per input: the pending set stays near
           grace / 1 ms, bounded by max_pending, and each expired input is counted missing.
"""
from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator.contract.catalog import catalog_of  # noqa: E402
from simulator.contract.registry import load_registry  # noqa: E402
from simulator.core.envelope import Envelope, Verdict  # noqa: E402
from simulator.core.timefmt import iso  # noqa: E402
from simulator.core.violations import Severities  # noqa: E402
from simulator.upstream.mapping import load_mapping  # noqa: E402
from simulator.upstream.pairing import Pairing  # noqa: E402

BATCH = 500


def inputs_and_events(n: int, offset: int = 0):
    now = iso(datetime.now(timezone.utc))
    items, envs = [], []
    for i in range(offset, offset + n):
        user, game = f"u{i % 1000}", f"g{i}"
        body = {"type": "start", "session": {"id": "s", "playerId": user, "gameId": "Mines", "currency": "EUR"},
                "game": {"id": game, "status": "in_progress", "payout": 0, "profit": 0, "bet": 1.5, "round": 1},
                "data": {"bet": 1.5, "allBetAmount": 1.5}, "time": 0}
        items.append({"id": f"start:{game}", "source": "phoenix", "kind": "start", "sent_at": now, "body": body,
                      "answer": {"result": True}})
        event = {"activity_id": f"bet-{game}", "amount": 1.5, "currency": "EUR", "exchange_rate": 1,
                 "game_id": "Mines", "game_name": "Mines", "is_round_end": False, "origin": "o", "round_id": game,
                 "status": "Approved", "timestamp": now, "type": "Bet", "user_id": user, "vendor_id": "v"}
        envs.append(Envelope("rest", json.dumps(event).encode(), "CASINO"))
    return items, envs


def pairing(**kw) -> Pairing:
    severities = Severities({r.id: r.severity for r in catalog_of(load_registry()).values()})
    return Pairing([load_mapping("phoenix"), load_mapping("evenbet")], severities, **kw)


def bench_rate(n: int, trace: bool) -> tuple[float, list]:
    """trace: measure the heap (tracemalloc slows everything down, so the rate is taken in a run without)."""
    p = pairing()
    p.register([])
    heap, elapsed, done = [], 0.0, 0
    if trace:
        tracemalloc.start()
    while done < n:
        items, envs = inputs_and_events(min(BATCH, n - done), done)
        verdicts = [Verdict(done + k, True, []) for k in range(len(envs))]
        started = time.perf_counter()
        p.register(items)
        p.watch(envs, verdicts)
        elapsed += time.perf_counter() - started
        done += len(items)
        if trace and done in (n // 4, n):
            gc.collect()
            heap.append((done, tracemalloc.get_traced_memory()[0]))
    tracemalloc.stop()
    s = p.summary()
    assert s["paired"] == n and s["problems"] == 0 and s["pending"] == 0, s
    return n / elapsed, heap


def bench_intake(n: int) -> float:
    from simulator.runtime import Runtime
    from simulator.settings import load_settings

    with tempfile.TemporaryDirectory() as tmp:
        rt = Runtime(load_settings(None, env={}, db=f"{tmp}/bench.db", durability="normal",
                                   severity=["latency.budget=off"]))
        try:
            _, envs = inputs_and_events(n)
            started = time.perf_counter()
            for k in range(0, n, BATCH):
                rt.intake.judge(envs[k:k + BATCH])
            return n / (time.perf_counter() - started)
        finally:
            rt.close()


def bench_expiry(n: int, max_pending: int) -> dict:
    clock = {"now": 0.0}
    p = pairing(grace=5.0, max_pending=max_pending, clock=lambda: clock["now"])
    p.register([])
    most = 0
    for k in range(0, n, BATCH):
        items, _ = inputs_and_events(min(BATCH, n - k), k)
        for item in items:
            clock["now"] += 0.001
            p.register([item])
        most = max(most, p.summary()["pending"])
    clock["now"] += 10
    s = p.summary()
    return {"most_pending": most, "missing": s["missing"], "overflow": s["by_rule"].get("pipeline.overflow", {}),
            "pending_after": s["pending"]}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--inputs", type=int, default=100_000)
    ap.add_argument("--intake", type=int, default=10_000, help="casino events for intake's reference rate")
    args = ap.parse_args()
    rate, _ = bench_rate(args.inputs, trace=False)
    _, heap = bench_rate(args.inputs, trace=True)
    intake = bench_intake(args.intake)
    print(f"pairing: {rate:,.0f} inputs/s registered and paired ({args.inputs:,} inputs, batches of {BATCH})")
    print(f"intake:  {intake:,.0f} messages/s judged and stored (SQLite, durability normal, batches of {BATCH})")
    print(f"ratio:   pairing / intake = {rate / intake:.1f}x (above 1: the pairing is not the bottleneck)")
    (n1, m1), (n2, m2) = heap
    print(f"memory:  heap {m1 / 1e6:.1f} MB after {n1:,} inputs, {m2 / 1e6:.1f} MB after {n2:,}: "
          f"ratio {m2 / m1:.2f} for {n2 / n1:.0f}x the inputs")
    for cap in (100_000, 2_000):
        e = bench_expiry(args.inputs, cap)
        print(f"expiry:  max_pending {cap:,}, grace 5 s, 1 ms per input, no FT event ever: at most "
              f"{e['most_pending']:,} pending, {e['missing']:,} missing, overflow {e['overflow']}, "
              f"{e['pending_after']} left after the grace")
    return 0


if __name__ == "__main__":
    sys.exit(main())
