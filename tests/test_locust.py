"""The locustfile: each user class runs headless for a few seconds against a real ftsim with zero Locust
failures (a REST failure is a verdict other than the scenario expects), alone and in distributed mode."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Client

ROOT = Path(__file__).resolve().parents[1]
LOCUST = [sys.executable, "-m", "locust", "-f", str(ROOT / "locustfile.py")]


def stats_of(prefix: Path) -> dict[str, tuple[int, int]]:
    """(requests, failures) per request type, from Locust's --json-file output (written once, at the end)."""
    out: dict[str, tuple[int, int]] = {}
    for entry in json.loads(Path(f"{prefix}.json").read_text()):
        req, fail = out.get(entry["method"], (0, 0))
        out[entry["method"]] = (req + entry["num_requests"], fail + entry["num_failures"])
    return out


def run_headless(prefix: Path, users: list[str], *options: str, extra_cmd=()) -> subprocess.CompletedProcess:
    cmd = [*LOCUST, "--headless", "-u", str(len(users)), "-r", str(len(users)), "-t", "3s", "--json-file", str(prefix),
           "--stop-timeout", "5", "--scenario", "faulty", "--user-rate", "150", *options, *extra_cmd, *users]
    return subprocess.run(cmd, capture_output=True, timeout=90, cwd=ROOT)


@pytest.mark.broker
def test_every_user_class_runs_headless_against_ftsim_with_no_failures(start_server, rabbit_url, rabbit_queue,
                                                                       kafka_bootstrap, kafka_topic, tmp_path):
    server = start_server(rabbit=rabbit_url, rabbit_queue=rabbit_queue, kafka=kafka_bootstrap,
                          kafka_topic=kafka_topic, kafka_group=f"g-{kafka_topic}")
    done = run_headless(tmp_path / "all", ["RestUser", "RabbitUser", "KafkaUser"], "--host", server.url,
                        "--rabbit-url", rabbit_url, "--rabbit-queue", rabbit_queue,
                        "--kafka-bootstrap", kafka_bootstrap, "--kafka-topic", kafka_topic)
    stats = stats_of(tmp_path / "all")
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    assert set(stats) == {"POST", "RABBIT", "KAFKA"}
    for kind, (requests, failures) in stats.items():  # how many fit in 3 s is the machine's; none may fail
        assert requests > 0 and failures == 0, (kind, requests, failures)
    stored = Client(server.url).get("/api/summary")[1]["by_channel"]["rest"]["received"]
    assert 0 <= stored - stats["POST"][0] <= 1  # at most the one request in flight when Locust stopped


def test_a_target_that_accepts_what_should_be_refused_fails_those_messages(tmp_path):
    port = free_port()  # bench/raw_rest.py answers {"valid": true, "violations": []} to everything
    target = subprocess.Popen([sys.executable, str(ROOT / "bench" / "raw_rest.py"), str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT)
    try:
        target.stdout.readline()  # "raw REST on PORT": listening
        done = run_headless(tmp_path / "lax", ["RestUser"], "--host", f"http://127.0.0.1:{port}")
    finally:
        target.terminate()
        target.wait(timeout=10)
    requests, failures = stats_of(tmp_path / "lax")["POST"]
    assert done.returncode == 1 and 0 < failures < requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_distributed_mode_a_master_and_a_worker_following_the_targets_severities(start_server, tmp_path):
    server = start_server(severity=["round.win_without_bet=error"])  # the users read it from /api/rules
    port = free_port()
    worker = subprocess.Popen([*LOCUST, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    try:
        done = run_headless(tmp_path / "dist", ["RestUser"], "--host", server.url,
                            extra_cmd=("--master", "--expect-workers", "1", "--master-bind-port", str(port)))
    finally:
        worker.wait(timeout=30)
    requests, failures = stats_of(tmp_path / "dist")["POST"]
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    assert requests > 0 and failures == 0  # how many fit in 3 s is the machine's; none may fail
