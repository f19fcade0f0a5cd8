"""`ftsim serve`: the HTTP server and the broker listeners in one process, stopped cleanly on a signal."""
from __future__ import annotations

import ipaddress
import logging
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
