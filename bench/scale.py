"""What readers cost as the table grows: summary, live page, report and /api/messages at 100,000 and
1,000,000 stored messages, and what keeping the counters costs intake.

    python bench/scale.py                       # 100,000 messages (about a minute on 2 cores)
    python bench/scale.py --million             # + 1,000,000 (several minutes; the fill dominates)
    python bench/scale.py --before HEAD~1       # + intake msg/s of another commit, for the counters' cost

The fill goes through the store's own write path (`store.batch()` and `tx.add_message` and casino's `tables.save_round`,
5,000 messages a transaction), not through intake: a realistic mix of valid, invalid, warned and retried
messages with latencies, a round per four messages, spread over an hour of receipt times. Readers are then
timed over real HTTP against an in-process `Server` on that file, median of --repeat requests each.
Intake cost: `Intake.judge` over --ingest casino events in batches of 256 on a fresh SQLite file, in a
subprocess per code version (this tree, and `--before REF` exported with git archive). Nothing is asserted.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2030, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
PAYLOAD = {"activity_id": "", "amount": 20.0, "wager_amount": 20.0, "bonus_wager_amount": 0,
           "locked_wager_amount": 0, "balance_before": 194.03, "balance_after": 174.03, "currency": "EUR",
           "exchange_rate": 1, "game_id": "10911", "game_name": "Dead or Alive", "game_type": "Slots",
           "is_round_end": False, "origin": "sub.example.com", "round_id": "", "status": "Approved",
           "timestamp": "", "type": "Bet", "user_id": "", "vendor_id": "1", "vendor_name": "Netent",
           "meta": {"key1": "value1"}}


def fill(store, n: int, start: int = 0, chunk: int = 5000) -> float:
    """n messages through the store's write path; returns messages per second of the fill."""
    from simulator.types.casino import tables
    from simulator.types.casino.tables import Round
    from simulator.store import MessageRecord
    from simulator.core.violations import Violation

    began = time.perf_counter()
    for lo in range(start, start + n, chunk):
        with store.batch() as tx:
            for i in range(lo, min(start + n, lo + chunk)):
                at = T0 + timedelta(microseconds=3_600_000_000 * i // 1_000_000)
                violations = []
                if i % 10 == 0:
                    violations.append(Violation("schema.required", "/currency", "currency: required", "error"))
                if i % 20 == 3:
                    violations.append(Violation("payload.unknown_field", "/extra", "extra: unknown", "warning"))
                if i % 33 == 5:
                    violations.append(Violation("activity.retry", "/activity_id", "a retry", "info"))
                valid = i % 10 != 0
                user, rnd = f"u{i % 2000}", f"r{i // 4}"
                payload = {**PAYLOAD, "activity_id": f"a{i if i % 10 else i // 100}", "round_id": rnd,
                           "user_id": user, "timestamp": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
                tx.add_message(MessageRecord("rest" if i % 3 else "kafka", at, "CASINO", json.dumps(payload).encode(),
                                             "bench", "casino", payload["activity_id"], user, {"round_id": rnd}, valid, i % 33 == 5,
                                             violations, float(i % 400) * 0.37, None))
                if i % 4 == 3:
                    tables.save_round(tx, Round(user, rnd, f"g{i % 7}", "EUR", "closed" if i % 40 else "open",
                                        Decimal("20"), Decimal("5"), Decimal("0"), 4, 2, at, at, at))
    return n / (time.perf_counter() - began)


def timed(url: str, repeat: int) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(repeat):
        began = time.perf_counter()
        with urllib.request.urlopen(url, timeout=600) as resp:
            size = len(resp.read())
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times), size


READERS = [("summary", "/api/summary"), ("live page /", "/"), ("sections", "/live/sections"),
           ("report json", "/api/report"), ("report html", "/api/report?format=html"),
           ("report ?channel=", "/api/report?channel=kafka"), ("messages 100", "/api/messages?limit=100"),
           ("messages 10000", "/api/messages?limit=10000"), ("messages ?rule=", "/api/messages?rule=schema.required"),
           ("sessions 1000", "/api/sessions?limit=1000")]


def readers(db: str, repeat: int) -> dict:
    from simulator.serve import Server
    from simulator.settings import load_settings

    server = Server(load_settings(None, env={}, db=db, port=0)).start()
    try:
        return {name: timed(server.url + path, repeat) for name, path in READERS}
    finally:
        server.stop()


def ingest(n: int) -> float:
    """Intake msg/s over n casino events (bets, a win closing each round, a few invalid), batches of 256."""
    from simulator.core.envelope import Envelope
    from simulator.runtime import Runtime
    from simulator.settings import load_settings

    with tempfile.TemporaryDirectory() as tmp:
        rt = Runtime(load_settings(None, env={}, db=os.path.join(tmp, "ingest.db"), port=0,
                                   severity=["latency.budget=off"]))
        try:
            now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            envs = []
            for i in range(n):
                p = {**PAYLOAD, "activity_id": f"i{i}", "round_id": f"r{i // 2}", "user_id": f"u{i % 500}",
                     "timestamp": now, "type": "Win" if i % 2 else "Bet", "is_round_end": bool(i % 2)}
                if i % 25 == 0:
                    del p["currency"]
                envs.append(Envelope("rest", json.dumps(p).encode(), "CASINO"))
            began = time.perf_counter()
            for lo in range(0, n, 256):
                rt.intake.judge(envs[lo:lo + 256])
            return n / (time.perf_counter() - began)
        finally:
            rt.close()


def ingest_in(code: Path, n: int) -> float:
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--ingest-only", str(n)],
                         env={**os.environ, "PYTHONPATH": str(code)}, cwd=code, capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--million", action="store_true", help="also measure at 1,000,000 messages")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--ingest", type=int, default=20_000, help="events judged for the intake figure")
    ap.add_argument("--before", help="a git ref whose intake msg/s to print next to this tree's")
    ap.add_argument("--ingest-only", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.ingest_only:
        print(f"{ingest(args.ingest_only):.1f}")
        return
    sys.path.insert(0, str(ROOT))
    from simulator.contract.registry import load_registry
    from simulator.store import open_store

    sizes = [100_000, 1_000_000] if args.million else [100_000]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "scale.db")
        have = 0
        for size in sizes:
            store = open_store(db, tables=load_registry().tables())
            rate = fill(store, size - have, start=have)
            store.close()
            have = size
            print(f"filled {size:,} messages ({rate:,.0f} msg/s through the store's write path; "
                  f"file {os.path.getsize(db) / 2**20:,.0f} MiB)", flush=True)
            results[size] = readers(db, args.repeat)
    print()
    print(f"{'reader':<18}" + "".join(f"{f'{s:,} msgs':>22}" for s in sizes))
    for name, _ in READERS:
        cells = "".join(f"{results[s][name][0]:>10.1f} ms {results[s][name][1] / 1024:>6,.0f} KiB" for s in sizes)
        print(f"{name:<18}{cells}")
    print()
    if not args.before:
        now = ingest_in(ROOT, args.ingest)
        print(f"intake, this tree: {now:,.0f} msg/s ({args.ingest:,} events, batches of 256, SQLite file)")
        return
    with tempfile.TemporaryDirectory() as old:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.before], capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", old], input=archive, check=True)
        runs = {"now": [], "then": []}
        for _ in range(2):  # alternating, best of two: the machine is shared
            runs["now"].append(ingest_in(ROOT, args.ingest))
            runs["then"].append(ingest_in(Path(old), args.ingest))
    now, then = max(runs["now"]), max(runs["then"])
    print(f"intake ({args.ingest:,} events, batches of 256, SQLite file, best of two): this tree {now:,.0f} msg/s, "
          f"{args.before} {then:,.0f} msg/s; the counters cost {100 * (1 - now / then):.0f}%")


if __name__ == "__main__":
    main()
