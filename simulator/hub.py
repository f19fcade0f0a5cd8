"""The supervisor of `ftsim serve --workers N` and its HTTP workers, over one Unix socket a worker.

The workers take HTTP and judge the part of each message that needs no history (parse, schema, stateless
rules, wording) in parallel; they send the envelope with that part to the supervisor, whose one intake
judges the rest against the ledger (duplicates, rounds, players, payments), together with the broker
listeners' batches, in as few transactions as the load allows: every worker's requests that wait at once
share one commit. The supervisor also holds what must be one memory: the upstream pairing and the operator
calls (fed by that one intake, so they see every channel's events) and the listeners' states.

A connection carries many requests at once: each worker thread sends (kind, id, ...) and waits for its own
id; the supervisor answers in any order. A slow call (the pipeline's pages, the operator's wait) runs on a
thread of its own, so it never holds up the judgements behind it.
"""
from __future__ import annotations

import itertools
import logging
import os
import pickle
import secrets
import shutil
import tempfile
import threading
from multiprocessing.connection import Client, Listener

from simulator.core.errors import StoreError

log = logging.getLogger("ftsim")

# target -> the names a worker may use on it (methods, or attributes read as they are)
SERVED = {"pipeline": {"register", "inputs", "summary", "clear", "active"},
          "operator": {"summary", "readiness", "wait_idle"},
          "runtime": {"channel_states"}}
GROUP_MAX = 256  # the most waiting messages one transaction takes (as Intake.group_max)


class Hub:
    """The supervisor's side: a reader thread per worker connection, one judge thread for all of them."""

    def __init__(self, runtime):
        self.runtime = runtime
        self.dir = tempfile.mkdtemp(prefix="ftsim-hub-")
        self.address = os.path.join(self.dir, "hub.sock")
        self.authkey = secrets.token_bytes(32)
        self._listener = Listener(self.address, "AF_UNIX", authkey=self.authkey)
        self._closed = False
        self.ready: set[int] = set()  # pids of the workers that have loaded their app
        self.changed = threading.Condition()
        self._waiting: list = []  # (envelope, stateless, answer) for the judge thread
        self._work = threading.Condition()
        threading.Thread(target=self._accept, name="ftsim-hub", daemon=True).start()
        threading.Thread(target=self._judge, name="ftsim-hub-judge", daemon=True).start()

    def for_workers(self) -> dict:
        """What a worker needs to reach the hub (handed over in the spec file, readable by this user only)."""
        return {"address": self.address, "authkey": self.authkey.hex()}

    def wait_ready(self, n: int, timeout: float) -> bool:
        """Until n workers have said hello (respawned ones count once more), or timeout."""
        with self.changed:
            return self.changed.wait_for(lambda: len(self.ready) >= n, timeout)

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn = self._listener.accept()
            except Exception:  # closed (OSError), or a client that failed or left the handshake
                continue
            threading.Thread(target=self._serve, args=(conn,), name="ftsim-hub-conn", daemon=True).start()

    def _serve(self, conn) -> None:
        lock = threading.Lock()

        def answer(rid, ok, result):
            with lock:
                try:
                    conn.send((rid, ok, result))
                except (pickle.PicklingError, TypeError, AttributeError):  # an exception that cannot travel
                    conn.send((rid, False, RuntimeError(f"{type(result).__name__}: {result}")))
                except (OSError, ValueError):  # the worker is gone (killed mid-request): its sender retries
                    pass

        with conn:
            while True:
                try:
                    kind, rid, *rest = conn.recv()
                except (EOFError, OSError):
                    return
                if kind == "judge":
                    envelope, stateless = rest
                    with self._work:
                        self._waiting.append((envelope, stateless, answer, rid))
                        self._work.notify()
                else:
                    threading.Thread(target=self._answer_call, args=(answer, rid, *rest), daemon=True).start()

    def _judge(self) -> None:
        intake = self.runtime.intake
        while True:
            with self._work:
                self._work.wait_for(lambda: self._waiting or self._closed)
                if self._closed:
                    return
                batch = self._waiting[:GROUP_MAX]
                del self._waiting[:GROUP_MAX]
            try:
                results = intake.judge_each([e for e, *_ in batch], [intake.restore(e, s) for e, s, *_ in batch])
            except Exception as exc:  # judge_each answers per message; this is a bug around it
                log.exception("hub: a batch of %d could not be judged", len(batch))
                results = [(None, StoreError(f"ftsim could not judge this message ({type(exc).__name__})"))] * len(
                    batch)
            for (_, _, answer, rid), (verdict, error) in zip(batch, results):
                answer(rid, error is None, verdict if error is None else error)

    def _answer_call(self, answer, rid, target, name, args, kwargs) -> None:
        try:
            result = self._call(target, name, args, kwargs)
        except Exception as exc:  # the worker raises it again (a ValueError becomes its 400)
            if not isinstance(exc, ValueError):
                log.exception("hub: %s.%s failed", target, name)
            answer(rid, False, exc)
        else:
            answer(rid, True, result)

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
        value = getattr(obj, name)
        return value(*args, **kwargs) if callable(value) else value

    def close(self) -> None:
        self._closed = True
        with self._work:
            self._work.notify_all()
        self._listener.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class _Reply:
    __slots__ = ("done", "ok", "result")

    def __init__(self):
        self.done = threading.Lock()
        self.done.acquire()  # released once, by the reader thread
        self.ok, self.result = False, None


class HubClient:
    """A worker's side: one connection for all its threads, each waiting for the answer with its id."""

    def __init__(self, address: str, authkey: str):
        self._conn = Client(address, "AF_UNIX", authkey=bytes.fromhex(authkey))
        self._send = threading.Lock()
        self._ids = itertools.count()
        self._pending: dict[int, _Reply] = {}
        self._gone: str | None = None
        threading.Thread(target=self._read, name="ftsim-hub-reader", daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                rid, ok, result = self._conn.recv()
            except (EOFError, OSError) as exc:
                self._gone = f"the supervisor's hub closed ({type(exc).__name__})"
                for reply in list(self._pending.values()):
                    reply.result = StoreError(f"store: {self._gone} before answering; send it again")
                    reply.done.release()
                return
            reply = self._pending.pop(rid, None)
            if reply is not None:
                reply.ok, reply.result = ok, result
                reply.done.release()

    def _ask(self, *message):
        if self._gone:
            raise StoreError(f"store: {self._gone}; this message was not kept")
        rid, reply = next(self._ids), _Reply()
        self._pending[rid] = reply
        if self._gone:  # the reader left after the check above: it may not have seen this request
            self._pending.pop(rid, None)
            raise StoreError(f"store: {self._gone}; this message was not kept")
        try:
            with self._send:
                self._conn.send((message[0], rid, *message[1:]))
        except (OSError, ValueError) as exc:
            self._pending.pop(rid, None)
            raise StoreError(f"store: the supervisor's hub is unreachable ({exc}); this message was not kept") from exc
        reply.done.acquire()
        if not reply.ok:
            raise reply.result
        return reply.result

    def call(self, target: str, name: str, *args, **kwargs):
        return self._ask("call", target, name, args, kwargs)

    def judge(self, envelope, stateless):
        """The supervisor's verdict, once it is committed; raises what judging raised (StoreError: nothing kept)."""
        return self._ask("judge", envelope, stateless)


class RemoteIntake:
    """runtime.intake in a worker: the stateless part here, the rest by the supervisor's one intake."""

    def __init__(self, local, hub: HubClient):
        self.local, self.hub = local, hub

    def one(self, envelope):
        return self.hub.judge(envelope, self.local.stateless_portable(envelope))


class RemotePairing:
    """runtime.pipeline in a worker: the supervisor's pairing, which the supervisor's intake feeds."""

    def __init__(self, hub: HubClient):
        self.hub = hub

    @property
    def active(self) -> bool:
        return self.hub.call("pipeline", "active")

    def register(self, items):
        return self.hub.call("pipeline", "register", items)

    def inputs(self, **kwargs):
        return self.hub.call("pipeline", "inputs", **kwargs)

    def summary(self):
        return self.hub.call("pipeline", "summary")

    def clear(self):
        return self.hub.call("pipeline", "clear")


class RemoteOperator:
    """runtime.operator in a worker: the supervisor's operator checks (its intake triggers the calls)."""

    def __init__(self, hub: HubClient):
        self.hub = hub

    def summary(self):
        return self.hub.call("operator", "summary")

    def readiness(self, summary=None):
        return self.hub.call("operator", "readiness", summary)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        return self.hub.call("operator", "wait_idle", timeout)

    def close(self) -> None:
        pass
