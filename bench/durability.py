"""What `--durability full` costs against `normal`: intake msg/s on a SQLite file, by batch size.

Batches of 1 are a lone REST sender (one commit, so one fsync, per message); 256 is REST's group commit
at its largest, 500 a broker batch (`--batch-max`). Each run judges fresh valid casino events into a new
file in a temporary directory on the same filesystem as the working directory (fsync cost depends on
the disk, so run it where ftsim's database would live). Also prints what the vanished-file check adds
per batch (two os.stat calls).

    python bench/durability.py [--messages 20000] [--single 2000] [--dir .]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simulator.core.envelope import Envelope  # noqa: E402
from simulator.runtime import Runtime  # noqa: E402
from simulator.settings import load_settings  # noqa: E402


def events(n: int, tag: str) -> list[bytes]:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    out = []
    for i in range(n):
        out.append(json.dumps({
            "activity_id": f"{tag}-{i}", "amount": 20, "wager_amount": 20, "bonus_wager_amount": 0,
            "locked_wager_amount": 0, "currency": "EUR", "exchange_rate": 1, "game_id": "10911",
            "game_name": "Dead or Alive", "is_round_end": i % 2 == 1, "origin": "www.brand.com",
            "round_id": f"{tag}-r{i // 2}", "status": "Approved", "timestamp": now,
            "type": "Bet" if i % 2 == 0 else "Win", "user_id": str(52530 + i % 50), "vendor_id": "1"}).encode())
    return out


def rate(durability: str, batch: int, n: int, where: str) -> float:
    with tempfile.TemporaryDirectory(dir=where) as tmp:
        settings = load_settings(None, env={}, db=os.path.join(tmp, "bench.db"), durability=durability,
                                 severity=["latency.budget=off"])
        runtime = Runtime(settings)
        try:
            bodies = events(n, f"{durability}{batch}")
            envelopes = [Envelope("rest", b, "CASINO") for b in bodies]
            started = time.perf_counter()
            for i in range(0, n, batch):
                runtime.intake.judge(envelopes[i:i + batch])
            elapsed = time.perf_counter() - started
            assert runtime.store.counts()["valid"] == n
        finally:
            runtime.close()
    return n / elapsed


def stat_cost(where: str, n: int = 100_000) -> float:
    """Microseconds for the two os.stat calls made after each commit."""
    with tempfile.TemporaryDirectory(dir=where) as tmp:
        paths = [os.path.join(tmp, "a.db"), os.path.join(tmp, "a.db-wal")]
        for p in paths:
            Path(p).touch()
        started = time.perf_counter()
        for _ in range(n):
            for p in paths:
                os.stat(p)
        return (time.perf_counter() - started) / n * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000, help="messages per batched run (20000)")
    parser.add_argument("--single", type=int, default=2_000, help="messages for the batch-of-1 run (2000)")
    parser.add_argument("--dir", default=".", help="where the database files go (default: here)")
    args = parser.parse_args()
    print(f"intake msg/s on a SQLite file in {os.path.abspath(args.dir)}")
    print(f"{'batch':>5}  {'full':>8}  {'normal':>8}  full/normal")
    for batch in (1, 256, 500):
        n = args.single if batch == 1 else args.messages
        full, normal = rate("full", batch, n, args.dir), rate("normal", batch, n, args.dir)
        print(f"{batch:>5}  {full:>8,.0f}  {normal:>8,.0f}  {full / normal:.2f}", flush=True)
    print(f"vanished-file check: {stat_cost(args.dir):.1f} us per batch (two os.stat)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
