"""`ftsim serve`: the HTTP server and the broker listeners in one process, stopped cleanly on a signal."""
from __future__ import annotations

import ctypes
import ipaddress
import logging
import os
import signal
import threading
import time
from typing import Callable

from simulator.core.errors import ConfigError
from simulator.transports.rest.server import make_http_server
from simulator.transports.rest.app import create_app
from simulator.runtime import Runtime
from simulator.settings import Settings, basic_auth_problem

log = logging.getLogger("ftsim")
MMAP_THRESHOLD = 128 * 1024  # bytes: glibc's own starting value, kept fixed (see give_back_big_blocks)
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number (glibc's malloc.h)


def give_back_big_blocks() -> None:
    """Have glibc return a freed block of over 128 KiB to the system at once, in this process and the HTTP
    workers it starts. By default glibc raises that threshold each time it frees such a block (up to 32 MiB),
    after which big blocks come from its per-thread heaps and stay with the process: 3 s after 400 senders
    of 1 MB bodies (bench/attack.py --large 400 --workers 2) the group kept 819 MiB, with the threshold fixed
    326-327 MiB (judging a quarter fewer of those bodies meanwhile). An FT event's allocations are far below
    it, so the usual message pays nothing."""
    if "MALLOC_MMAP_THRESHOLD_" in os.environ:  # the user's own setting, which glibc read at start
        return
    os.environ["MALLOC_MMAP_THRESHOLD_"] = str(MMAP_THRESHOLD)  # read by the processes started later
    try:
        ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    except (OSError, AttributeError):  # not glibc: its allocator has its own ways
        pass


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings) -> None:
    if settings.basic_auth is not None and (problem := basic_auth_problem(settings.basic_auth)):
        raise ConfigError(problem)  # Settings made in code skip load_settings' checks
    if not settings.has_auth and not settings.insecure and not is_loopback(settings.host):
        raise ConfigError(f"refusing to serve {settings.host} without credentials: set --api-key or "
                          f"--basic-auth, or pass --insecure to accept anyone who can reach it")


class Server:
    """Everything `ftsim serve` runs; tests start one in-process on a free port."""

    def __init__(self, settings: Settings, runtime: Runtime | None = None):
        check_exposure(settings)
        self.settings = settings
        self.runtime = runtime or Runtime(settings)
        self.app = create_app(self.runtime)
        self.http = make_http_server(self.app, settings)
        self.port = self.http.server_port
        self.listeners = []
        self._threads: list[threading.Thread] = []
        self._stopped = threading.Event()

    @property
    def url(self) -> str:
        host = self.settings.host if ":" not in self.settings.host else f"[{self.settings.host}]"
        return f"http://{host}:{self.port}"

    def start(self) -> "Server":
        from simulator.transports import build_listeners

        self.listeners = build_listeners(self.settings, self.runtime)
        for listener in self.listeners:
            self._spawn(listener.run, f"ftsim-{listener.name}")
        self._spawn(self.http.serve_forever, "ftsim-http")
        log.info("ftsim serving %s (profile %s, db %s)", self.url, self.settings.profile, self.settings.db)
        return self

    def _spawn(self, target: Callable, name: str) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    def stop(self) -> None:
        """Stop taking messages, let listeners finish and commit what they hold, then close the store."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        for listener in self.listeners:
            listener.stop()
        self.http.shutdown()
        for t in self._threads:
            t.join(timeout=15)
        self.http.server_close()
        self.runtime.close()

    def wait(self, until_idle: float | None = None) -> None:
        """Block until SIGTERM/SIGINT, or until no message arrived for until_idle seconds."""
        done = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: done.set())
        started = time.monotonic()
        while not done.wait(0.2):
            if until_idle is not None:
                last = self.runtime.last_message_at or started
                if time.monotonic() - last >= until_idle:
                    break

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
