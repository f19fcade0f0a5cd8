"""Where intake's time goes, per message: cProfile over `Intake.judge` on casino events, grouped by what
the code does (parse, schema, rules and dispatch, the counters, SQLite and its commit), for this tree and,
with --before REF, for that commit's tree in a subprocess of its own (the same events, the same venv).

    python bench/profile_intake.py [--messages 20000] [--batch 256] [--durability full|normal] [--before 440da1b[,REF...]] [--runs 3]

The figures are CPU microseconds per message as cProfile sees them (its overhead inflates Python-heavy
groups, so compare the columns, not the totals against bench/run.py). Nothing is asserted.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (group, substrings of "file:function"); the first match wins, so the specific ones come first.
GROUPS = [
    ("sqlite commit (fsync)", ("method 'commit' of 'sqlite3",)),
    ("sqlite statements", ("sqlite3.Cursor", "sqlite3.Connection", "method 'execute", "method 'executemany")),
    ("counters (store/tally)", ("store/tally.py",)),
    ("store, Python side", ("store/",)),
    ("parse + pre-checks", ("contract/parse.py", "orjson", "json/decoder", "json/__init__", "envelope")),
    ("schema (jsonschema-rs)", ("jsonschema_rs", "contract/validate.py", "contract/formats.py")),
    ("registry dispatch", ("contract/registry.py", "contract/plugin.py")),
    ("type rules and state", ("types/", "rules.py", "ledger.py")),
    ("violations, severities", ("violations.py", "catalog.py")),
    ("time parsing", ("timefmt.py", "_strptime", "datetime")),
    ("intake", ("intake.py",)),
]


def events(n: int) -> list[bytes]:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return [json.dumps({
        "activity_id": f"p-{i}", "amount": 20, "wager_amount": 20, "bonus_wager_amount": 0,
        "locked_wager_amount": 0, "currency": "EUR", "exchange_rate": 1, "game_id": "10911",
        "game_name": "Dead or Alive", "is_round_end": i % 2 == 1, "origin": "www.brand.com",
        "round_id": f"r{i // 2}", "status": "Approved", "timestamp": now,
        "type": "Bet" if i % 2 == 0 else "Win", "user_id": str(52530 + i % 50), "vendor_id": "1"}).encode()
        for i in range(n)]


def measure(n: int, batch: int, durability: str, plain: bool = False) -> dict:
    """Runs in the tree on PYTHONPATH; module paths differ between versions, hence the fallbacks."""
    from simulator.runtime import Runtime
    from simulator.settings import load_settings

    try:
        from simulator.core.envelope import Envelope
    except ImportError:
        from simulator.envelope import Envelope
    with tempfile.TemporaryDirectory(dir=ROOT) as tmp:
        kw = dict(db=os.path.join(tmp, "p.db"), severity=["latency.budget=off"])
        try:
            settings = load_settings(None, env={}, durability=durability, **kw)
        except (TypeError, KeyError):  # before --durability existed (it committed as `normal` does)
            settings = load_settings(None, env={}, **kw)
        rt = Runtime(settings)
        try:
            envs = [Envelope("rest", b, "CASINO") for b in events(n)]
            rt.intake.judge(envs[:batch])  # warm-up: imports, first statements
            envs = envs[batch:]
            prof = cProfile.Profile()
            wall = time.perf_counter()
            cpu = time.process_time()
            if not plain:
                prof.enable()
            for lo in range(0, len(envs), batch):
                rt.intake.judge(envs[lo:lo + batch])
            if not plain:
                prof.disable()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        finally:
            rt.close()
    groups = {name: 0.0 for name, _ in GROUPS}
    groups["other"] = 0.0
    m = len(envs)
    if plain:
        return {"messages": m, "wall_rate": m / wall, "cpu_us": cpu / m * 1e6}
    for (file, _, func), (_, _, tottime, _, _) in pstats.Stats(prof).stats.items():
        key = f"{file}:{func}"
        for name, needles in GROUPS:
            if any(s in key for s in needles):
                groups[name] += tottime
                break
        else:
            groups["other"] += tottime
    return {"messages": m, "us": {k: v / m * 1e6 for k, v in groups.items()}, "wall_rate": m / wall,
            "cpu_us": cpu / m * 1e6}


def run_in(code: Path, args, plain: bool = False) -> dict:
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--only", "--messages", str(args.messages),
                          "--batch", str(args.batch), "--durability", args.durability]
                         + (["--plain"] if plain else []),
                         env={**os.environ, "PYTHONPATH": str(code)}, cwd=code, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"profile in {code} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--durability", default="full", choices=("full", "normal"))
    ap.add_argument("--before", help="git refs (comma-separated) to profile the same way")
    ap.add_argument("--runs", type=int, default=3, help="unprofiled runs per tree, alternating, median (3)")
    ap.add_argument("--only", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--plain", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.only:
        print(json.dumps(measure(args.messages, args.batch, args.durability, args.plain)))
        return
    refs = [r for r in (args.before or "").split(",") if r]
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"now": ROOT}
        for ref in refs:
            trees[ref] = Path(tmp) / ref.replace("/", "_")
            trees[ref].mkdir()
            data = subprocess.run(["git", "-C", str(ROOT), "archive", ref], capture_output=True,
                                  check=True).stdout
            subprocess.run(["tar", "-x", "-C", str(trees[ref])], input=data, check=True)
        cols = {name: run_in(tree, args) for name, tree in trees.items()}
        plain = {name: [] for name in trees}
        for _ in range(args.runs):
            for name, tree in trees.items():
                plain[name].append(run_in(tree, args, plain=True))
    print(f"intake, casino, batches of {args.batch}, --durability {args.durability} "
          f"(a ref from before --durability commits as normal); "
          f"cProfile tottime in us per message")
    print(f"{'group':<26}" + "".join(f"{c:>12}" for c in cols))
    for name in [g for g, _ in GROUPS] + ["other"]:
        print(f"{name:<26}" + "".join(f"{c['us'][name]:>12.1f}" for c in cols.values()))
    print(f"{'total (profiled)':<26}" + "".join(f"{sum(c['us'].values()):>12.1f}" for c in cols.values()))
    print(f"{'CPU us/msg (process)':<26}" + "".join(f"{c['cpu_us']:>12.1f}" for c in cols.values()))
    print(f"{'msg/s under the profiler':<26}" + "".join(f"{c['wall_rate']:>12,.0f}" for c in cols.values()))
    print(f"{'msg/s, no profiler':<26}" + "".join(
        f"{statistics.median(r['wall_rate'] for r in runs):>12,.0f}" for runs in plain.values())
          + f"   (median of {args.runs}, alternating)")
    print(f"{'CPU us/msg, no profiler':<26}" + "".join(
        f"{statistics.median(r['cpu_us'] for r in runs):>12.1f}" for runs in plain.values()))
    base = statistics.median(r["wall_rate"] for r in plain["now"])
    for name, runs in plain.items():
        if name != "now":
            print(f"now / {name}: {base / statistics.median(r['wall_rate'] for r in runs):.2f}")


if __name__ == "__main__":
    main()
