"""Ordinary user errors end in one `ftsim: ...` line and exit 2, never a traceback; a closed pipe ends quietly.

Each test runs the real command (`python -m simulator ...`) in a child process against the real RabbitMQ
on 127.0.0.1:5672 and the real PostgreSQL on 127.0.0.1:5432.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.brokers import ROOT, free_port, port_open

PASSWORD = "pw-never-shown"


def ftsim(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simulator", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def assert_one_line(proc: subprocess.CompletedProcess, *words: str) -> str:
    """Exit 2, no traceback, and a last stderr line `ftsim: ...` holding every one of `words`."""
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert PASSWORD not in proc.stderr + proc.stdout
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("ftsim: "), proc.stderr
    for word in words:
        assert word in last, last
    return last


# -- RabbitMQ: a refused login, nothing listening ---------------------------------------------------------

def bad_rabbit(kind: str) -> tuple[str, list[str]]:
    """(an AMQP URL that fails, the words the message must hold)."""
    if kind == "wrong password":
        return (f"amqp://guest:{PASSWORD}@127.0.0.1:5672/%2F",
                ["ftsim: rabbit: authentication refused at amqp://guest:***@127.0.0.1:5672/%2F", "ACCESS_REFUSED"])
    port = free_port()
    return (f"amqp://guest:{PASSWORD}@127.0.0.1:{port}/%2F",
            [f"ftsim: rabbit: cannot reach amqp://guest:***@127.0.0.1:{port}/%2F", "Connection refused"])


@pytest.mark.parametrize("kind", ["wrong password", "unreachable port"])
def test_send_via_rabbit_that_refuses_exits_2_with_one_line(rabbit_url, kind):
    target, words = bad_rabbit(kind)
    proc = ftsim("send", "--scenario", "steady", "--count", "10", "--via", "rabbit", "--target", target)
    assert_one_line(proc, *words)


@pytest.mark.parametrize("kind", ["wrong password", "unreachable port"])
def test_scenario_run_via_rabbit_that_refuses_exits_2_with_one_line(rabbit_url, server, kind):
    target, words = bad_rabbit(kind)
    proc = ftsim("scenario", "run", "faulty", "--via", "rabbit", "--target", target, "--ftsim", server.url)
    assert_one_line(proc, *words)


# -- a database that cannot be opened ----------------------------------------------------------------------

@pytest.mark.parametrize("command", ["verify", "report"])
def test_a_database_that_cannot_be_opened_exits_2_with_one_line(command):
    if not port_open(5432):
        pytest.fail("PostgreSQL is not listening on 127.0.0.1:5432: run scripts/test-prerequisites")
    proc = ftsim(command, "--db", f"postgresql://postgres:{PASSWORD}@127.0.0.1:5432/nosuchdb")
    assert_one_line(proc, "ftsim: --db: cannot open the PostgreSQL database", 'database "nosuchdb" does not exist')


@pytest.mark.parametrize("db, words", [
    ("postgresql://postgres@127.0.0.1:5432/ftsim_no_such_database", "cannot open the PostgreSQL database"),
    ("{tmp}/junk.db", "file is not a database"),
    ("{tmp}/no/such/dir/x.db", "unable to open database file"),
], ids=["postgres", "not sqlite", "no directory"])
def test_serve_on_a_database_it_cannot_open_exits_2_with_one_line(tmp_path, db, words):
    """The driver's error came out of `ftsim serve` as a traceback."""
    (tmp_path / "junk.db").write_text("not a database")
    assert_one_line(ftsim("serve", "--port", "0", "--db", db.format(tmp=tmp_path)), "ftsim: --db: cannot open", words)


# -- a reader that stops reading ----------------------------------------------------------------------

def assert_quiet_end(returncode: int, stderr: bytes) -> None:
    assert b"Traceback" not in stderr and b"BrokenPipeError" not in stderr, stderr.decode()
    assert returncode == 141  # 128 + SIGPIPE, as `yes | head -1` ends


@pytest.mark.parametrize("argv", [["rules"], ["types"], ["scenario", "list"]])
def test_a_pipe_closed_before_the_output_ends_quietly(argv):
    """`ftsim rules | true`: the reading end is closed before ftsim writes, so every write fails."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable, "-m", "simulator", *argv], cwd=ROOT, stdout=write_end,
                              stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(write_end)
    assert_quiet_end(proc.returncode, proc.stderr)


def test_a_pipe_closed_after_one_line_ends_quietly():
    """`ftsim scenario show steady --count 1000 | head -1`: far more than a pipe holds, so ftsim is still
    writing when the reader goes."""
    proc = subprocess.Popen([sys.executable, "-m", "simulator", "scenario", "show", "steady", "--count", "1000"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout.readline().startswith(b"{")
        proc.stdout.close()
        stderr = proc.stderr.read()
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    assert_quiet_end(proc.returncode, stderr)

