"""The example adapters and the drivers as real processes, for the pipeline tests."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


class Adapter:
    def __init__(self, script: str, args: list[str], log: Path):
        self.log = open(log, "ab")
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "examples" / script), *args], cwd=ROOT,
                                     stdout=subprocess.PIPE, stderr=self.log)
        self.banner = self.proc.stdout.readline().decode()
        if not self.banner:
            self.stop()
            pytest.fail(f"{script} did not start; see {log}")

    def url(self) -> str:
        return re.search(r"(http://\S+)", self.banner).group(1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc.stdout.close()
        self.log.close()


@pytest.fixture
def adapter(tmp_path):
    started: list[Adapter] = []

    def start(script: str, *args: str) -> Adapter:
        started.append(Adapter(script, list(args), tmp_path / f"{script}.{len(started)}.log"))
        return started[-1]
    yield start
    for a in started:
        a.stop()


def drive(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    """`python -m simulator upstream ARGS`, as CI would run it."""
    return subprocess.run([sys.executable, "-m", "simulator", "upstream", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)
