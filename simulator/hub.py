"""What `ftsim serve --workers N` keeps in one process's memory, served to the HTTP workers over a Unix socket.

The ledger is the store: every worker judges against it under the store's own lock (store/sqlite.py's
gate, PostgreSQL's advisory lock), so duplicates, rounds and players need nothing from here. What is left
lives in memory and must be one: the upstream pairing (a driver registers its inputs with whichever
worker answers; the FT events reach all of them), the operator calls the feed triggers, and the broker
listeners' states. The supervisor holds those, beside the listeners, and answers the workers' calls.

A worker sends its committed batches to the pairing only while a driver has announced a run: a byte in a
shared file says so, read for every batch at the cost of a memory read. The hub sets it before it answers
the `register` that announced the run, so no batch committed after the driver's first answer is missed.
"""
from __future__ import annotations

import logging
import mmap
import os
import secrets
import shutil
import tempfile
import threading
from multiprocessing.connection import Client, Listener

log = logging.getLogger("ftsim")

# target -> the names a worker may use on it (methods, or attributes read as they are)
SERVED = {"pipeline": {"register", "inputs", "summary", "clear", "watch"},
          "operator": {"on_verdicts", "summary", "readiness", "wait_idle"},
          "runtime": {"channel_states"}}


class Hub:
    """The supervisor's side: one thread per worker connection, calling into the supervisor's Runtime."""

    def __init__(self, runtime):
        self.runtime = runtime
        self.dir = tempfile.mkdtemp(prefix="ftsim-hub-")
        self.address = os.path.join(self.dir, "hub.sock")
        self.authkey = secrets.token_bytes(32)
        self.flag_path = os.path.join(self.dir, "pairing")
        with open(self.flag_path, "wb") as f:
            f.write(b"\0")
        self._flag_fd = os.open(self.flag_path, os.O_RDWR)
        self._flag = mmap.mmap(self._flag_fd, 1)
        self._listener = Listener(self.address, "AF_UNIX", authkey=self.authkey)
        self._closed = False
        self.ready: set[int] = set()  # pids of the workers that have loaded their app
        self.changed = threading.Condition()
        threading.Thread(target=self._accept, name="ftsim-hub", daemon=True).start()

    def wait_ready(self, n: int, timeout: float) -> bool:
        """Until n workers have said hello (respawned ones count once more), or timeout."""
        with self.changed:
            return self.changed.wait_for(lambda: len(self.ready) >= n, timeout)

    def for_workers(self) -> dict:
        """What a worker needs to reach the hub (handed over in its environment)."""
        return {"address": self.address, "authkey": self.authkey.hex(), "flag": self.flag_path}

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn = self._listener.accept()
            except OSError:  # closed, or a client that failed the handshake
                continue
            threading.Thread(target=self._serve, args=(conn,), name="ftsim-hub-conn", daemon=True).start()

    def _serve(self, conn) -> None:
        with conn:
            while True:
                try:
                    target, name, args, kwargs = conn.recv()
                except (EOFError, OSError):
                    return
                try:
                    reply = (True, self._call(target, name, args, kwargs))
                except Exception as exc:  # the worker raises it again (a ValueError becomes its 400)
                    if not isinstance(exc, ValueError):
                        log.exception("hub: %s.%s failed", target, name)
                    reply = (False, exc)
                try:
                    conn.send(reply)
                except (OSError, ValueError):
                    return

    def _call(self, target: str, name: str, args: tuple, kwargs: dict):
        if target == "hub" and name == "hello":
            with self.changed:
                self.ready.add(args[0])
                self.changed.notify_all()
            return None
        if name not in SERVED.get(target, ()):
            raise ValueError(f"hub: {target}.{name} is not served to workers")
        obj = self.runtime if target == "runtime" else getattr(self.runtime, target)
        if obj is None:
            raise ValueError(f"hub: no {target} in this ftsim")
        result = getattr(obj, name)(*args, **kwargs)
        if target == "pipeline" and name in ("register", "clear"):
            self._flag[0] = 1 if self.runtime.pipeline.active else 0
        return result

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        self._flag.close()
        os.close(self._flag_fd)
        shutil.rmtree(self.dir, ignore_errors=True)


class HubClient:
    """A worker's side: one connection, shared by the worker's threads (calls are rare and short)."""

    def __init__(self, address: str, authkey: str, flag: str):
        self.address, self.authkey = address, bytes.fromhex(authkey)
        self._lock = threading.Lock()
        self._conn = None
        fd = os.open(flag, os.O_RDONLY)
        try:
            self._flag = mmap.mmap(fd, 1, prot=mmap.PROT_READ)
        finally:
            os.close(fd)

    @property
    def pairing_wanted(self) -> bool:
        return self._flag[0] == 1

    def call(self, target: str, name: str, *args, **kwargs):
        with self._lock:
            if self._conn is None:
                self._conn = Client(self.address, "AF_UNIX", authkey=self.authkey)
            try:
                self._conn.send((target, name, args, kwargs))
                ok, result = self._conn.recv()
            except (EOFError, OSError):
                self._conn = None
                raise
        if not ok:
            raise result
        return result


class RemotePairing:
    """runtime.pipeline in a worker: the supervisor's pairing."""

    def __init__(self, hub: HubClient):
        self.hub = hub

    @property
    def active(self) -> bool:
        return self.hub.pairing_wanted

    def watch(self, envelopes, verdicts) -> None:
        if self.hub.pairing_wanted:
            self.hub.call("pipeline", "watch", envelopes, verdicts)

    def register(self, items):
        return self.hub.call("pipeline", "register", items)

    def inputs(self, **kwargs):
        return self.hub.call("pipeline", "inputs", **kwargs)

    def summary(self):
        return self.hub.call("pipeline", "summary")

    def clear(self):
        return self.hub.call("pipeline", "clear")


class RemoteOperator:
    """runtime.operator in a worker: the supervisor's operator checks, fed this worker's verdicts."""

    def __init__(self, hub: HubClient):
        self.hub = hub

    def on_verdicts(self, verdicts) -> None:
        self.hub.call("operator", "on_verdicts", verdicts)

    def summary(self):
        return self.hub.call("operator", "summary")

    def readiness(self, summary=None):
        return self.hub.call("operator", "readiness", summary)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        return self.hub.call("operator", "wait_idle", timeout)

    def close(self) -> None:
        pass
