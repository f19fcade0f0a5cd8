"""The example operator (examples/operator/app.py) in a subprocess, as the README's walkthrough runs it."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "examples" / "operator" / "app.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def start_operator():
    procs = []

    def start(*args: str) -> str:
        port = free_port()
        proc = subprocess.Popen([sys.executable, str(APP), "--port", str(port), *args],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):  # up to about 10 s for Flask to import and bind
            if proc.poll() is not None:
                raise RuntimeError(f"example operator exited with {proc.returncode}")
            try:
                urllib.request.urlopen(url + "/_stats", timeout=1).read()
                return url
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("example operator did not start")
    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def operator_url(start_operator):
    """A well-behaved example operator behind an X-Api-Key."""
    return start_operator("--api-key", "op-key-123")
