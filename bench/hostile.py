"""What hostile bodies cost: judging (parse, schema, rules, ledger, SQLite commit) one of each, and what the
body checks add to a valid event. Runs on older ftsim too (then it shows what a body used to cost or raise).

    PYTHONPATH=. python bench/hostile.py [--runs N]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson  # noqa: E402

from simulator.core.envelope import Envelope  # noqa: E402
from simulator.runtime import Runtime  # noqa: E402
from simulator.settings import load_settings  # noqa: E402
from tests.conftest import casino_event  # noqa: E402


def nested(levels: int) -> dict:
    inner: dict = {}
    for _ in range(levels - 1):
        inner = {"a": inner}
    return inner


def with_amount(text: str) -> bytes:
    return json.dumps(casino_event()).replace('"amount": 20.0', '"amount": ' + text, 1).encode()


def bodies() -> dict[str, bytes]:
    many = casino_event()
    many.update({f"x{i}": 1 for i in range(100_000)})
    objects = orjson.dumps(casino_event(user_id="1234567890123456", meta={"a": [{"k": i} for i in range(60_000)]}))
    return {
        "valid event": json.dumps(casino_event()).encode(),
        "[ x10000 ] x10000": b"[" * 10000 + b"]" * 10000,
        "field nested 300 deep": json.dumps(casino_event(meta=nested(300))).encode(),
        "100,000 unknown keys": orjson.dumps(many),
        "100,000-item array field": orjson.dumps(casino_event(game_id=[1] * 100_000)),
        "amount 1e400": with_amount("1e400"),
        "amount with 100,000 digits": with_amount("1" * 100_000),
        "amount 2^64+1": with_amount(str(2 ** 64 + 1)),
        "duplicate key": with_amount("20.0, \"amount\": 25.0"),
        # the stdlib's slow path, made to run on a 700 KB-1 MB body: by a 16-digit string, by repeated keys,
        # by a number no double holds in the last of 60,000 objects
        "60k objects + 16-digit id": objects,
        "60k objects, each a dup key": objects.replace(b'{"k":', b'{"k":1,"k":'),
        "60k objects, last 1e999": objects.replace(b'{"k":59999', b'{"k":1e999'),
    }


def judge_ms(runtime: Runtime, raw: bytes, runs: int) -> str:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        try:
            runtime.intake.judge([Envelope("rabbit", raw, "CASINO")])
        except Exception as exc:  # the old code raised on some of these: that is the figure
            return f"raised {type(exc).__name__}"
        times.append((time.perf_counter() - t) * 1000)
    return f"{statistics.median(times):9.2f} ms"


def hot_path_us() -> str:
    try:
        from simulator.contract.parse import parse
    except ImportError:
        from simulator.intake import parse_body as parse
    raw = json.dumps(casino_event()).encode()
    n = 100_000
    base = min(timeit.repeat(lambda: orjson.loads(raw), number=n, repeat=5)) / n * 1e6
    full = min(timeit.repeat(lambda: parse(raw), number=n, repeat=5)) / n * 1e6
    return f"orjson.loads {base:.2f} us, parse {full:.2f} us: the checks add {full - base:.2f} us ({len(raw)} B)"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runtime = Runtime(load_settings(None, env={}, db=str(Path(tmp) / "bench.db"), port=0))
        try:
            for name, raw in bodies().items():
                print(f"{name:28s} {len(raw):>9,d} B  {judge_ms(runtime, raw, args.runs)}")
        finally:
            runtime.close()
    print("valid event body checks:", hot_path_us())


if __name__ == "__main__":
    main()
