"""What a slow operator costs intake: msg/s with no operator API against one that takes 2 s per answer.

The feed is registrations (each asks for three calls: userdetails, consents, blocks) and casino events, in
batches as a broker hands them over (`--batch`). With the 2 s operator the calls pile up in the queue, the
workers wait on the operator, and the queue overflows (counted as dropped, printed): intake must not notice.
The example operator runs in a subprocess (examples/operator/app.py --fault slow).

    python bench/operator_api.py [--messages 6000] [--batch 50] [--runs 7] [--delay 2]

Named operator_api.py, not operator.py: a script's folder comes first on sys.path, and a bench/operator.py
would stand in for the standard library's `operator` in every script in bench/.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulator.core.envelope import Envelope  # noqa: E402
from simulator.runtime import Runtime  # noqa: E402
from simulator.settings import load_settings  # noqa: E402


def feed(n: int, tag: str) -> list[Envelope]:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    out = []
    for i in range(n):
        if i % 3 == 0:
            body = {"user_id": f"{tag}-u{i}", "origin": "www.brand.com", "timestamp": now}
            out.append(Envelope("rabbit", json.dumps(body).encode(), "USER_CREATE_V2"))
        else:
            body = {"activity_id": f"{tag}-{i}", "amount": 20, "currency": "EUR", "exchange_rate": 1,
                    "game_id": "10911", "game_name": "Dead or Alive", "is_round_end": True, "origin": "www.brand.com",
                    "round_id": f"{tag}-r{i}", "status": "Approved", "timestamp": now, "type": "Bet",
                    "user_id": f"{tag}-u{i - i % 3}", "vendor_id": "1"}
            out.append(Envelope("rabbit", json.dumps(body).encode(), "CASINO"))
    return out


def rate(operator: str | None, n: int, batch: int, tag: str) -> tuple[float, dict | None]:
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        flags = {"operator_api": operator, "operator_api_key": "bench"} if operator else {}
        settings = load_settings(None, env={}, db=os.path.join(tmp, "bench.db"), severity=["latency.budget=off"],
                                 **flags)
        runtime = Runtime(settings)
        try:
            envelopes = feed(n, tag)
            started = time.perf_counter()
            for i in range(0, n, batch):
                runtime.intake.judge(envelopes[i:i + batch])
            elapsed = time.perf_counter() - started
        finally:
            runtime.close()  # the operator's workers finish their calls and count what was still queued
        return n / elapsed, (runtime.operator.trigger.stats() if runtime.operator else None)


def start_operator(delay: float) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, str(ROOT / "examples" / "operator" / "app.py"), "--port", str(port),
                             "--api-key", "bench", "--fault", "slow", "--delay", str(delay)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "/_stats", timeout=1).read()
            return proc, url
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the example operator did not start")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--messages", type=int, default=6000)
    p.add_argument("--batch", type=int, default=50)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--delay", type=float, default=2.0)
    args = p.parse_args()
    proc, url = start_operator(args.delay)
    try:
        plain, slow, last = [], [], None
        for run in range(args.runs):  # alternate, so a busy neighbour on the machine hits both alike
            plain.append(rate(None, args.messages, args.batch, f"p{run}")[0])
            r, last = rate(url, args.messages, args.batch, f"s{run}")
            slow.append(r)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    a, b = statistics.median(plain), statistics.median(slow)
    print(f"intake, {args.messages} messages (1 in 3 a registration) in batches of {args.batch}, "
          f"median of {args.runs} runs:")
    print(f"  no operator API            {a:10,.0f} msg/s   runs: {', '.join(f'{x:,.0f}' for x in plain)}")
    print(f"  operator answering in {args.delay:g} s {b:10,.0f} msg/s   runs: {', '.join(f'{x:,.0f}' for x in slow)}")
    print(f"  ratio slow/none            {b / a:10.3f}   (issue 10: within 10%, i.e. >= 0.90)")
    paired = statistics.median(s / p for s, p in zip(slow, plain))
    print(f"  median of paired ratios    {paired:10.3f}   (each slow run against the plain run just before it)")
    print(f"  ratio of the best runs     {max(slow) / max(plain):10.3f}   (less exposed to a busy neighbour)")
    if last:
        print(f"  last slow run: queue {last['queue_size']}, dropped {last['dropped']['events']} events "
              f"({last['dropped']['calls']} calls), abandoned at stop {last['abandoned']}")


if __name__ == "__main__":
    main()
