"""`ftsim serve --workers N`: several HTTP processes around one ledger, killed for real.

Every sender here does what the spec asks of an operator's platform: it sends each event until it gets an
answer (a 200, or a 400 it will not retry), so a worker killed mid-request costs a retry, never an event.
What the store holds at the end is read from the file by a process of its own.
"""
from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
import urllib.error
import urllib.request

import pytest

from tests.brokers import free_port, wait_for
from tests.conftest import Client, casino_event
from tests.upstream.test_pairing import start as phoenix_start


def send_until_answered(url_of, event: dict, stop: threading.Event) -> int:
    """POST one event until the server answers it; url_of() gives the server's address now."""
    body = json.dumps(event).encode()
    while not stop.is_set():
        req = urllib.request.Request(url_of() + "/v1/integration/casino", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status
        except urllib.error.HTTPError as err:
            if err.code < 500:
                return err.code
        except OSError:  # refused, reset, or cut off mid-answer (URLError is one): the sender retries
            pass
        time.sleep(0.05)
    return 0


class Senders:
    """`threads` senders sharing a list of events, each sent until answered."""

    def __init__(self, url_of, events: list[dict], threads: int = 8):
        self.events, self.answers = events, [0] * len(events)
        self.stop = threading.Event()
        self._next = iter(range(len(events)))
        self._lock = threading.Lock()
        self.done = 0
        self._threads = [threading.Thread(target=self._run, args=(url_of,), daemon=True) for _ in range(threads)]
        for t in self._threads:
            t.start()

    def _run(self, url_of):
        while True:
            with self._lock:
                i = next(self._next, None)
            if i is None:
                return
            self.answers[i] = send_until_answered(url_of, self.events[i], self.stop)
            with self._lock:
                self.done += 1

    def join(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.1, deadline - time.monotonic()))
        self.stop.set()
        assert not any(t.is_alive() for t in self._threads), "senders still waiting for answers"


def kept(db) -> dict:
    """What the file holds: accepted first deliveries per activity_id, and how many retries were recognised."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        firsts = conn.execute("SELECT activity_id, COUNT(*) FROM messages WHERE valid = 1 AND duplicate = 0 "
                              "GROUP BY activity_id").fetchall()
        retries = conn.execute("SELECT COUNT(*) FROM messages WHERE duplicate = 1 AND valid = 1").fetchone()[0]
        refused = conn.execute("SELECT COUNT(*) FROM messages WHERE valid = 0").fetchone()[0]
    finally:
        conn.close()
    return {"ids": {a for a, _ in firsts}, "twice": [a for a, n in firsts if n > 1], "retries": retries,
            "refused": refused}


def feed(n: int, users: int = 40) -> list[dict]:
    return [casino_event(user_id=f"u{i % users}") for i in range(n)]


def test_two_workers_share_one_ledger(ftsim_process, tmp_path):
    """A retry that reaches the other worker is still a retry, and one summary counts both workers' messages."""
    server = ftsim_process("--db", str(tmp_path / "w.db"), "--workers", "2", "--severity", "latency.budget=off")
    assert len(server.workers()) == 2
    events = feed(400)
    senders = Senders(lambda: server.url, events + events[:50])  # 50 sent twice, over fresh connections
    senders.join()
    assert set(senders.answers) == {200}
    summary = server.summary()
    assert (summary["received"], summary["valid"], summary["duplicates"]) == (450, 450, 50)
    found = kept(tmp_path / "w.db")
    assert found["ids"] == {e["activity_id"] for e in events} and not found["twice"] and found["retries"] == 50
    assert server.terminate() == 0
    assert not server.workers()


def test_a_killed_worker_loses_nothing_and_counts_nothing_twice(ftsim_process, tmp_path):
    db = tmp_path / "kill-one.db"
    server = ftsim_process("--db", str(db), "--workers", "2", "--severity", "latency.budget=off")
    events = feed(3000)
    senders = Senders(lambda: server.url, events)
    wait_for(lambda: senders.done >= 500, 60, what="the load to be under way")
    victim = server.kill_a_worker()
    wait_for(lambda: len(server.workers()) == 2 and victim not in server.workers(), 30,
             what="the supervisor to start a new worker")
    senders.join()
    assert set(senders.answers) == {200}
    found = kept(db)
    assert found["ids"] == {e["activity_id"] for e in events}  # every 200 is in the file
    assert not found["twice"]  # a request the dead worker had stored came back as a retry, counted once
    summary = server.summary()
    assert summary["valid"] - summary["duplicates"] == len(events)
    assert server.terminate() == 0


def test_the_whole_group_killed_and_restarted_loses_nothing(ftsim_process, tmp_path):
    db, port = tmp_path / "kill-all.db", free_port()
    args = ("--db", str(db), "--workers", "2", "--port", str(port), "--severity", "latency.budget=off")
    first = ftsim_process(*args)
    events = feed(3000)
    senders = Senders(lambda: f"http://127.0.0.1:{port}", events)
    wait_for(lambda: senders.done >= 500, 60, what="the load to be under way")
    first.kill_group()
    answered_before = senders.done
    second = ftsim_process(*args)
    senders.join()
    assert answered_before < len(events)  # killed mid-load
    assert set(senders.answers) == {200}
    found = kept(db)
    assert found["ids"] == {e["activity_id"] for e in events} and not found["twice"]
    assert second.terminate() == 0


def test_killing_the_supervisor_takes_its_workers_with_it(ftsim_process, tmp_path):
    server = ftsim_process("--db", str(tmp_path / "orphans.db"), "--workers", "2")
    workers = server.workers()
    assert len(workers) == 2
    server.kill()  # waits until the workers are gone too (their parent-death signal)
    assert not server.workers()


def test_a_busy_port_refuses_a_second_group(ftsim_process, tmp_path):
    import subprocess
    import sys

    from tests.brokers import ROOT

    server = ftsim_process("--db", str(tmp_path / "busy.db"), "--workers", "2")
    port = server.url.rsplit(":", 1)[1]
    second = subprocess.run([sys.executable, "-m", "simulator", "serve", "--port", port, "--workers", "2",
                             "--db", str(tmp_path / "other.db")], cwd=ROOT, capture_output=True, timeout=60)
    assert second.returncode != 0
    assert b"in use" in second.stderr.lower()


def test_the_pairing_sees_the_events_every_worker_judged(ftsim_process, tmp_path):
    """A driver registers with one worker; the platform's FT events reach the others (fresh connections
    spread across both workers' sockets); the one pairing in the supervisor pairs them all."""
    server = ftsim_process("--db", str(tmp_path / "pairing.db"), "--workers", "2", "--pipeline-grace", "30")
    client = Client(server.url)
    rounds = [f"r{i}" for i in range(20)]
    status, answer = client.request("POST", "/api/pipeline/inputs", {"inputs": [phoenix_start(r) for r in rounds]})
    assert (status, answer) == (200, {"accepted": 20, "retried": 0})
    for r in rounds:
        event = casino_event(user_id="p1", round_id=r, amount=1.5, type="Bet", wager_amount=None,
                             bonus_wager_amount=None, locked_wager_amount=None)
        assert client.post_event(event)[0] == 200
    summary = client.get("/api/summary")[1]["pipeline"]
    assert (summary["inputs"], summary["paired"], summary["pending"]) == (20, 20, 0)
    assert client.get("/api/pipeline?verdict=problem")[1]["total"] == 0
    assert client.request("POST", "/api/pipeline/inputs", {"inputs": [{"id": "x"}]})[0] == 400  # its ValueError


@pytest.mark.parametrize("workers", ["1", "2"])
def test_until_idle_ends_the_run_with_its_reports(ftsim_process, tmp_path, workers):
    report = tmp_path / "report.json"
    server = ftsim_process("--db", str(tmp_path / "idle.db"), "--workers", workers, "--until-idle", "1.5",
                           "--report-json", str(report))
    client = Client(server.url)
    assert client.post_event(casino_event())[0] == 200
    code = server.proc.wait(timeout=60)
    doc = json.loads(report.read_text())
    assert doc["summary"]["received"] == 1
    assert code == (0 if doc["checklist"]["passed"] else 1)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_until_idle_counts_from_when_ftsim_listens_not_from_its_start(ftsim_process, tmp_path, workers):
    """Workers take longer than 0.2 s to load their app on any machine: counted from the supervisor's start,
    the idle time ran out before the group listened, and the run ended with its NOT READY line first
    (the fixture fails on that line)."""
    report = tmp_path / "report.json"
    server = ftsim_process("--db", str(tmp_path / "short.db"), "--workers", workers, "--until-idle", "0.2",
                           "--report-json", str(report))
    code = server.proc.wait(timeout=60)
    doc = json.loads(report.read_text())
    assert (doc["summary"]["received"], code) == (0, 0 if doc["checklist"]["passed"] else 1)


def test_hostile_bodies_get_their_verdicts_through_the_hub_and_block_nothing(ftsim_process, tmp_path):
    """What a worker judges alone (parse errors, a body nested past the depth limit, bytes that are not
    UTF-8) still reaches the supervisor's one intake, is stored with its rule, and the next message is fine."""
    server = ftsim_process("--db", str(tmp_path / "hostile.db"), "--workers", "2")
    client = Client(server.url)
    deep = b"[" * 100_000 + b"]" * 100_000
    for body in (b"{not json", deep, b'{"a": "\xff"}'):
        status, answer = client.request("POST", "/v1/integration/casino", body)
        assert status == 400 and [v["rule"] for v in answer["violations"]] == ["json.parse"], answer
    assert client.post_event(casino_event())[0] == 200
    summary = client.get("/api/summary")[1]
    assert (summary["received"], summary["valid"], summary["invalid"]) == (4, 1, 3)


def test_a_vanished_database_file_gets_503_from_every_worker(ftsim_process, tmp_path):
    """The supervisor's commit notices the file is gone; the worker answers what the supervisor raised."""
    db = tmp_path / "gone.db"
    server = ftsim_process("--db", str(db), "--workers", "2")
    client = Client(server.url)
    assert client.post_event(casino_event())[0] == 200
    db.unlink()
    for _ in range(4):  # fresh connections: both workers answer
        status, answer = client.post_event(casino_event())
        assert status == 503 and "not kept" in answer["message"]


def test_without_granian_the_default_serves_in_one_process_and_a_number_asked_for_is_refused(monkeypatch, tmp_path,
                                                                                              capsys, caplog):
    """granian missing (monkeypatched: it is installed here): one worker per CPU, the default, falls back to
    the one-process server on werkzeug and says why; `--workers 2` asked for by number is refused, exit 2."""
    import sys

    from simulator import group
    from simulator.cli import main

    monkeypatch.setattr(group, "available", lambda: "granian is not importable (test)")
    monkeypatch.setitem(sys.modules, "granian", None)  # the one-process server falls back to werkzeug too
    code = main(["serve", "--port", "0", "--db", str(tmp_path / "one.db"), "--until-idle", "0.5",
                 "--report-json", str(tmp_path / "r.json")])
    assert "listening on" in capsys.readouterr().out
    assert "serving in one process: granian is not importable (test)" in caplog.text
    assert "HTTP server granian unavailable" in caplog.text  # and the one process took werkzeug
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["summary"]["received"] == 0 and code == (0 if doc["checklist"]["passed"] else 1)
    assert main(["serve", "--port", "0", "--db", str(tmp_path / "two.db"), "--workers", "2"]) == 2
    assert "granian is not importable (test); serve with --workers 1" in capsys.readouterr().err


def test_the_worker_count_is_a_setting_like_any_other(tmp_path):
    from simulator.core.errors import ConfigError
    from simulator.settings import load_settings

    assert load_settings(None, env={"FTSIM_WORKERS": "3"}).worker_count == 3
    assert load_settings(None, env={}).worker_count == len(os.sched_getaffinity(0))
    with pytest.raises(ConfigError, match="workers"):
        load_settings(None, env={}, workers=-1)


def test_idle_and_dripping_connections_lock_no_one_out_of_the_workers(ftsim_process, tmp_path):
    """granian's Rust side holds idle and slowloris connections without a Python thread, in every worker:
    300 idle sockets and 20 dripping header bytes, then a sender still gets its 200 at once."""
    server = ftsim_process("--db", str(tmp_path / "idle.db"), "--workers", "2")
    host, port = "127.0.0.1", int(server.url.rsplit(":", 1)[1])
    held = []
    try:
        for _ in range(300):
            held.append(socket.create_connection((host, port), timeout=5))
        for s in held[:20]:
            s.sendall(b"POST /v1/integration/casino HTTP/1.1\r\nHost: x\r\n")  # headers that never end
        for _ in range(10):
            assert Client(server.url).post_event(casino_event())[0] == 200
    finally:
        for s in held:
            s.close()
    assert server.summary()["received"] == 10


def _threads(pids) -> int:
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status") as f:
            total += next(int(line.split()[1]) for line in f if line.startswith("Threads:"))
    return total


def test_every_process_of_the_group_gives_big_freed_blocks_back(ftsim_process, tmp_path):
    """glibc's mmap threshold fixed in each worker the supervisor spawns (ftsim serve puts it in its own
    environment before they start; the supervisor itself calls mallopt, which leaves no trace outside), so
    memory a flood of large bodies took goes back."""
    want = os.environ.get("MALLOC_MMAP_THRESHOLD_", "131072")  # one the user set is left as it is
    server = ftsim_process("--db", str(tmp_path / "blocks.db"), "--workers", "2")
    workers = server.workers()
    assert len(workers) == 2
    for pid in workers:
        with open(f"/proc/{pid}/environ", "rb") as f:
            assert f"MALLOC_MMAP_THRESHOLD_={want}".encode() in f.read().split(b"\0"), pid


def test_stalled_bodies_lock_no_one_out_of_the_workers(ftsim_process, tmp_path):
    """200 bodies that stop half-way, their senders never going: in the group there is no 408 (granian's
    public runner cannot answer from another thread), so each holds a worker thread; there were 64 a worker
    before, and the kernel spreads the connections over both workers, so one of them had none left. Now
    threads start as bodies wait, and a sender still gets its 200 at once."""
    server = ftsim_process("--db", str(tmp_path / "stall.db"), "--workers", "2")
    host, port = "127.0.0.1", int(server.url.rsplit(":", 1)[1])
    assert Client(server.url).post_event(casino_event())[0] == 200
    before = _threads(server.workers())
    held = []
    try:
        for _ in range(200):
            s = socket.create_connection((host, port), timeout=5)
            s.sendall(b"POST /v1/integration/casino HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 500\r\n\r\n{\"activity_id\": \"half")
            held.append(s)
        # every stalled body on a thread of its own (a few of the pool's idle ones taken first)
        wait_for(lambda: _threads(server.workers()) >= before + 180, 30, what="the stalled bodies' threads")
        for _ in range(10):
            assert Client(server.url).post_event(casino_event())[0] == 200
    finally:
        for s in held:
            s.close()
    assert server.summary()["received"] == 11
