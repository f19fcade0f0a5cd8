"""`ftsim serve --workers N`: a supervisor, N HTTP worker processes on granian's public interface, one ledger.

granian's `Granian(..., workers=N)` starts the workers (spawned, never forked from a process that runs
threads), each listening on the port with SO_REUSEPORT, and starts again one that dies. A worker takes
HTTP and judges what needs no history; the supervisor's one intake judges the rest against the ledger for
every worker and for the broker listeners, which run here (one consumer per queue keeps each sender's
order, which the round rules depend on), over simulator/hub.py. The supervisor is its group's process
group leader when started as one: SIGKILL of the group takes every process; SIGKILL of the supervisor
alone takes the workers with it (their parent-death signal); SIGKILL of a worker costs only the requests
it held, which their senders retry.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
import time

from simulator.core.errors import ConfigError
from simulator.hub import Hub
from simulator.runtime import Runtime
from simulator.settings import Settings
from simulator.transports.rest.server import BACKLOG, HEADER_TIMEOUT, STOP_TIMEOUT, connection_cap, listen
from simulator.worker import HUB_ENV, write_spec

log = logging.getLogger("ftsim")

RESPAWN_AFTER = 0.5  # seconds before a dead worker is started again
# granian's own lines go to stderr, beside ftsim's (stdout carries the one line that says where ftsim listens);
# errors only: its warning about 64 threads is advice for apps that hold the GIL while they wait, not for one
# whose threads wait for a group commit
GRANIAN_LOG = {"handlers": {
    "console": {"formatter": "generic", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
    "access": {"formatter": "access", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"}}}
READY_TIMEOUT = 60.0  # seconds the workers have to load their app before the supervisor says it listens


def available() -> str | None:
    """Why granian's public multi-process interface cannot run here, or None when it can."""
    try:
        from granian import Granian  # noqa: F401
    except ImportError as exc:
        return f"granian is not importable ({exc})"
    return None


class Group:
    """The supervisor's object; `run()` blocks until SIGTERM/SIGINT (or --until-idle), then stops the workers."""

    def __init__(self, settings: Settings, workers: int, checklist=None, log_level: int = logging.WARNING):
        from simulator.serve import check_exposure

        check_exposure(settings)
        if (why := available()) is not None:
            raise ConfigError(f"--workers {workers}: {why}; serve with --workers 1")
        self.settings = settings
        self.workers = workers
        self.port = _free_port(settings.host, settings.port)
        self.runtime = Runtime(settings)
        self.hub = Hub(self.runtime)
        write_spec(self.hub.dir, settings=settings, hub=self.hub.for_workers(), checklist=checklist,
                   supervisor=os.getpid(), log_level=log_level)
        self.listeners = []
        self._threads: list[threading.Thread] = []
        self._granian = None

    @property
    def url(self) -> str:
        host = self.settings.host if ":" not in self.settings.host else f"[{self.settings.host}]"
        return f"http://{host}:{self.port}"

    def run(self, until_idle: float | None = None, ready=None) -> None:
        """ready(): called once every worker has loaded its app and the port takes connections (the CLI prints
        its line then)."""
        from simulator.transports import build_listeners

        multiprocessing.set_start_method("spawn", force=True)  # the supervisor runs threads: never fork it
        os.environ[HUB_ENV] = self.hub.dir
        self._granian = granian_server("simulator.worker:app", self.settings.host, self.port, self.workers,
                                       self.settings.threads, respawn_failed_workers=True,
                                       respawn_interval=RESPAWN_AFTER, workers_kill_timeout=int(STOP_TIMEOUT))
        self.listeners = build_listeners(self.settings, self.runtime)
        for listener in self.listeners:
            t = threading.Thread(target=listener.run, name=f"ftsim-{listener.name}", daemon=True)
            t.start()
            self._threads.append(t)
        listening = threading.Event()
        if until_idle is not None:
            threading.Thread(target=self._stop_when_idle, args=(until_idle, listening), name="ftsim-idle",
                             daemon=True).start()
        threading.Thread(target=self._announce, args=(ready, listening), name="ftsim-ready", daemon=True).start()
        try:
            self._granian.serve()
        except SystemExit as exc:  # granian exits 1 when a worker died on its way (it was respawned)
            if exc.code not in (0, 1, None):
                raise

    def _announce(self, ready, listening: threading.Event) -> None:
        """ready() once every worker has loaded its app and the port takes connections; then `listening`."""
        if not self.hub.wait_ready(self.workers, READY_TIMEOUT):
            log.warning("ftsim: %d of %d workers started within %ss", len(self.hub.ready), self.workers,
                        READY_TIMEOUT)
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            try:
                socket.create_connection((_loopback(self.settings.host), self.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.02)
        if ready is not None:
            ready()
        listening.set()

    def _stop_when_idle(self, idle: float, listening: threading.Event) -> None:
        """SIGTERM once no message arrived for `idle` seconds, counted from when the group listens: the
        workers' start (seconds on a slow machine) is not idle time, or a short --until-idle ended the run
        before a sender could reach it."""
        listening.wait()
        started = time.monotonic()
        while True:
            time.sleep(0.2)
            last = max(self.runtime.last_message_at or started, started)  # a broker's batch may come first
            if time.monotonic() - last >= idle:  # every channel's last batch
                os.kill(os.getpid(), signal.SIGTERM)  # granian's own handler stops the workers
                return

    def stop_listeners(self) -> None:
        """After run(): the workers are gone; let the listeners commit what they hold."""
        for listener in self.listeners:
            listener.stop()
        for t in self._threads:
            t.join(timeout=15)

    def close(self) -> None:
        self.hub.close()
        self.runtime.close()


def granian_server(target: str, host: str, port: int, workers: int, threads: int, **more):
    """granian's public multi-process server for the WSGI app factory `target` ("module:function"), as ftsim
    serves: HTTP/1.1, headers within HEADER_TIMEOUT, `threads` Python threads and CONNECTION_CAP connections
    a worker; bench/raw_rest.py measures the ceiling of exactly this."""
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    threads = max(1, int(threads or 16))
    return Granian(target, factory=True, address=host, port=port, interface=Interfaces.WSGI, workers=workers,
                   http=HTTPModes.http1, websockets=False, blocking_threads=threads, backlog=BACKLOG,
                   backpressure=connection_cap(threads, workers),
                   http1_settings=HTTP1Settings(header_read_timeout=int(HEADER_TIMEOUT * 1000), keep_alive=True),
                   log_level=LogLevels.error, log_dictconfig=GRANIAN_LOG, **more)


def _loopback(host: str) -> str:
    """Where the supervisor itself reaches the workers: a wildcard address is reached on loopback."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)


def _free_port(host: str, port: int) -> int:
    """The port the workers will share: a busy one fails here, as it does for one process (granian's own
    sockets set SO_REUSEPORT and would share it silently with another server); 0 picks a free one."""
    with listen(host, port) as sock:
        return sock.getsockname()[1]
