"""Intake's CPU per valid casino message, in this process, without any transport: the figure issue 12's
<= 30 us target is about, and where it goes.

    python bench/intake_cpu.py                  # 20,000 valid casino events, batches of 256, SQLite file
    python bench/intake_cpu.py --profile 25     # + the 25 most expensive functions (cProfile, cumulative)
    python bench/intake_cpu.py --stages         # + the stateless part alone, and each SQL statement's CPU

CPU is `time.process_time()` (all threads of this process; intake's own thread beside it) around
`Intake.judge` only: building the
envelopes is the transport's cost, not intake's. Each round is a Bet then a Win that closes it, users taking
turns (500 of them): every message is valid. Nothing is asserted; the machine is shared, so the best of --repeat runs
is printed.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scale import PAYLOAD  # noqa: E402  (bench/scale.py: the same casino event)


def envelopes(n: int, tag: str):
    from simulator.core.envelope import Envelope

    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    out = []
    for i in range(n):
        p = {**PAYLOAD, "activity_id": f"{tag}{i}", "round_id": f"{tag}r{i // 2}", "user_id": f"u{(i // 2) % 500}",
             "timestamp": now, "type": "Win" if i % 2 else "Bet", "is_round_end": bool(i % 2)}
        out.append(Envelope("rest", json.dumps(p).encode(), "CASINO", type_name="casino"))
    return out


def stateless(rt, envs) -> float:
    """CPU a message of what needs no history (parse, schema, shared and casino rules, severities)."""
    began = time.process_time()
    for e in envs:
        rt.intake.stateless(e)
    return (time.process_time() - began) / len(envs)


class _TimedCursor:
    """A cursor that adds each statement's CPU to a table (SQLite runs in this thread: process_time sees it)."""

    def __init__(self, cur, spent, calls):
        self._cur, self._spent, self._calls = cur, spent, calls

    def _timed(self, name, sql, args):
        began = time.process_time()
        getattr(self._cur, name)(sql, args)
        key = ("many " if name == "executemany" else "") + " ".join(sql.split()[:4])
        self._spent[key] = self._spent.get(key, 0.0) + time.process_time() - began
        self._calls[key] = self._calls.get(key, 0) + 1
        return self

    def execute(self, sql, args=()):
        return self._timed("execute", sql, args)

    def executemany(self, sql, args):
        return self._timed("executemany", sql, args)

    def __getattr__(self, name):
        return getattr(self._cur, name)


class _TimedConnection:
    def __init__(self, conn, spent, calls):
        self._conn, self._spent, self._calls = conn, spent, calls

    def cursor(self):
        return _TimedCursor(self._conn.cursor(), self._spent, self._calls)

    def commit(self):
        began = time.process_time()
        self._conn.commit()
        self._spent["COMMIT"] = self._spent.get("COMMIT", 0.0) + time.process_time() - began
        self._calls["COMMIT"] = self._calls.get("COMMIT", 0) + 1

    def __getattr__(self, name):
        return getattr(self._conn, name)


def stages(rt, n: int, batch: int) -> None:
    print(f"stateless part (parse, schema, rules, severities): {1e6 * stateless(rt, envelopes(n, 's-')):.1f} us "
          f"CPU a message")
    spent, calls = {}, {}
    plain = rt.store._writer
    rt.store._writer = _TimedConnection(plain, spent, calls)
    try:
        envs = envelopes(n, "st-")
        began = time.process_time()
        for lo in range(0, n, batch):
            rt.intake.judge(envs[lo:lo + batch])
        total = time.process_time() - began
    finally:
        rt.store._writer = plain
    sql = sum(spent.values())
    print(f"judge: {1e6 * total / n:.1f} us CPU a message, of which SQLite {1e6 * sql / n:.1f} us "
          f"({100 * sql / total:.0f}%) and Python {1e6 * (total - sql) / n:.1f} us (timing adds a little)")
    for key, cpu in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {1e6 * cpu / n:6.1f} us a message  {calls[key]:7,} calls  {key}")


def run(n: int, batch: int, repeat: int, profile: int, show_stages: bool = False) -> None:
    from simulator.runtime import Runtime
    from simulator.settings import load_settings

    with tempfile.TemporaryDirectory() as tmp:
        rt = Runtime(load_settings(None, env={}, db=os.path.join(tmp, "cpu.db"), port=0,
                                   severity=["latency.budget=off"]))
        try:
            rt.intake.judge(envelopes(512, "warm"))  # schemas compiled, statements prepared
            best = None
            for r in range(repeat):
                envs = envelopes(n, f"r{r}-")
                cpu, own, wall = time.process_time(), time.thread_time(), time.perf_counter()
                for lo in range(0, n, batch):
                    verdicts = rt.intake.judge(envs[lo:lo + batch])
                    assert all(v.valid for v in verdicts), [v.violations for v in verdicts if not v.valid][:1]
                cpu, own = time.process_time() - cpu, time.thread_time() - own
                wall = time.perf_counter() - wall
                print(f"run {r + 1}: {1e6 * cpu / n:6.1f} us CPU a message ({1e6 * own / n:5.1f} us in intake's "
                      f"thread, the rest SQLite's WAL checkpoints on their own), {1e6 * wall / n:6.1f} us wall "
                      f"({n / wall:,.0f} msg/s)", flush=True)
                best = cpu if best is None else min(best, cpu)
            print(f"intake CPU per valid casino message: {1e6 * best / n:.1f} us (best of {repeat}; target <= 30 us,"
                  f" ratio {30 / (1e6 * best / n):.2f} of target)")
            if show_stages:
                stages(rt, n, batch)
            if profile:
                envs = envelopes(n, "prof-")
                prof = cProfile.Profile()
                prof.enable()
                for lo in range(0, n, batch):
                    rt.intake.judge(envs[lo:lo + batch])
                prof.disable()
                st = pstats.Stats(prof)
                st.sort_stats("tottime").print_stats(profile)
                st.sort_stats("cumulative").print_stats(profile)
        finally:
            rt.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--profile", type=int, default=0, metavar="N")
    ap.add_argument("--stages", action="store_true")
    args = ap.parse_args()
    run(args.n, args.batch, args.repeat, args.profile, args.stages)


if __name__ == "__main__":
    main()
