"""The supervisor of `ftsim serve --workers N` and its HTTP workers, over one Unix socket.

The workers take HTTP and judge the part of each message that needs no history (parse, schema, stateless
rules, wording) in parallel; they send the envelope with that part to the supervisor, whose one intake
judges the rest against the ledger (duplicates, rounds, players, payments), together with the broker
listeners' batches, in as few transactions as the load allows: every worker's requests that wait at once
share one commit. The supervisor also holds what must be one memory: the upstream pairing and the operator
calls (fed by that one intake, so they see every channel's events) and the listeners' states.

Each worker thread has a connection of its own: it sends ("judge" or "call", ...) and reads its answer
(ok, result) before it sends again, so answers need no ids. The supervisor's judge thread reads every
connection itself, so no thread wakes another to hand a message over; it commits and goes on to the next
batch, and a thread of its own answers each committed batch once the disk has it (`store.sync`). A slow
call (the pipeline's pages, the operator's wait) runs on a thread of its own, so it never holds up the
judgements behind it.
"""
from __future__ import annotations

import errno
import logging
import os
import pickle
import queue
import secrets
import selectors
import shutil
import socket
import tempfile
import threading
import time
import weakref
from multiprocessing.connection import Client, Listener

from simulator.core.errors import StoreError

log = logging.getLogger("ftsim")

# target -> the names a worker may use on it (methods, or attributes read as they are)
SERVED = {"pipeline": {"register", "inputs", "summary", "clear", "active"},
          "operator": {"summary", "readiness", "wait_idle"},
          "runtime": {"channel_states"}}
ACCEPT_BACKOFF = 0.05  # seconds the hub waits before accepting again when the process is out of files
GROUP_MAX = 256  # the most waiting messages one transaction takes (as Intake.group_max)


def _send(conn, obj) -> None:
    """Connection.send pickles through multiprocessing's ForkingPickler, which can carry file descriptors
    and costs twice plain pickle's time (an answer 10 -> 5 us, a request 25 -> 12); nothing here carries one."""
    conn.send_bytes(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))


def _recv(conn):
    return pickle.loads(conn.recv_bytes())


def _answer(conn, ok: bool, result) -> None:
    """The answer to the one request in flight on a worker thread's connection (it sends its next only after
    reading this one, so answers need no ids and never two writers at once)."""
    try:
        _send(conn, (ok, result))
    except (pickle.PicklingError, TypeError, AttributeError):  # an exception that cannot travel
        _send(conn, (False, RuntimeError(f"{type(result).__name__}: {result}")))
    except (OSError, ValueError):  # the worker is gone (killed mid-request): its sender retries
        pass


class Hub:
    """The supervisor's side: one thread that accepts, and one judge thread that reads every connection itself
    and judges what they brought in one transaction. Reading in the judge thread is what makes the hand-over
    cheap: no thread wakes another for a message (measured: the supervisor's context switches a REST message
    went 3.1 -> 1.0 when a reader thread per connection stopped queueing each message for the judge)."""

    def __init__(self, runtime):
        self.runtime = runtime
        self.dir = tempfile.mkdtemp(prefix="ftsim-hub-")
        self.address = os.path.join(self.dir, "hub.sock")
        self.authkey = secrets.token_bytes(32)
        self._listener = Listener(self.address, "AF_UNIX", authkey=self.authkey)
        self._closed = False
        self.ready: set[int] = set()  # pids of the workers that have loaded their app
        self.changed = threading.Condition()
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()  # the accept thread's knock: a new connection to watch
        self._wake_r.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._new: list = []  # connections accepted, not yet watched
        self._new_lock = threading.Lock()
        threading.Thread(target=self._accept, name="ftsim-hub", daemon=True).start()
        # committed batches whose answers wait for the disk (store.sync); the judge thread goes on meanwhile
        self._unsynced: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._judge, name="ftsim-hub-judge", daemon=True).start()
        threading.Thread(target=self._answer_synced, name="ftsim-hub-answer", daemon=True).start()

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
            except OSError as exc:  # closed, out of files, or a client that left the handshake
                if exc.errno in (errno.EMFILE, errno.ENFILE):  # the connection waits in the backlog meanwhile,
                    time.sleep(ACCEPT_BACKOFF)  # and accept would fail again at once
                continue
            except Exception:  # a client that failed the handshake
                continue
            with self._new_lock:
                self._new.append(conn)
            self._knock()

    def _knock(self) -> None:
        try:
            self._wake_w.send(b"x")
        except OSError:  # closed, or a full pipe of knocks already waiting: either way the judge wakes
            pass

    def _judge(self) -> None:
        while not self._closed:
            batch = self._collect()
            if batch and not self._closed:  # read with close()'s knock: left unjudged, its connection closed
                self._judge_batch(batch)
        for key in list(self._selector.get_map().values()):
            if key.data is not None:
                key.data.close()
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    def _collect(self) -> list:
        """One message from each connection that has one (a worker thread sends its next only after its
        answer): (connection, envelope, stateless) to judge; calls go to threads of their own."""
        batch = []
        for key, _ in self._selector.select():
            conn = key.data
            if conn is None:  # a knock: new connections to watch, or close()
                try:
                    while self._wake_r.recv(4096):
                        pass
                except OSError:
                    pass
                with self._new_lock:
                    new, self._new = self._new, []
                for c in new:
                    self._selector.register(c, selectors.EVENT_READ, c)
                continue
            try:
                kind, *rest = _recv(conn)
                if len(rest) != {"judge": 2, "call": 4}[kind]:
                    raise ValueError(f"a {kind!r} request with {len(rest)} parts")
            except Exception as exc:  # the worker thread (or its process) is gone, or sent what cannot be read
                if not isinstance(exc, (EOFError, OSError)):
                    log.exception("hub: a worker sent what could not be read; its connection is closed")
                self._selector.unregister(conn)
                conn.close()  # the worker thread gets StoreError: nothing kept, send it again
                continue
            if kind == "judge":
                batch.append((conn, *rest))
            else:
                threading.Thread(target=self._answer_call, args=(conn, *rest), daemon=True).start()
        return batch

    def _judge_batch(self, batch: list) -> None:
        intake = self.runtime.intake
        for i in range(0, len(batch), GROUP_MAX):
            part = batch[i:i + GROUP_MAX]
            try:
                results, ticket = intake.judge_each([e for _, e, _ in part],
                                                    [intake.restore(e, s) for _, e, s in part])
            except Exception as exc:  # judge_each answers per message; this is a bug around it
                log.exception("hub: a batch of %d could not be judged", len(part))
                results, ticket = [(None, StoreError(f"ftsim could not judge this message ({type(exc).__name__})"))
                                   ] * len(part), None
            if ticket is not None:
                self._unsynced.put((part, results, ticket))
            else:  # durable already (PostgreSQL, --durability normal): no hand-over to another thread
                self._answer_all(part, results, None)

    def _answer_synced(self) -> None:
        """Answer each committed batch once the disk has it: one store.sync for every batch waiting (up to the
        newest one's ticket), so no worker hears 200 for what a power loss could undo."""
        while True:
            waiting = [self._unsynced.get()]
            while not self._unsynced.empty():
                waiting.append(self._unsynced.get())
            batches = [w for w in waiting if w is not None]
            failure = None
            try:
                if batches:
                    self.runtime.store.sync(max(ticket for _, _, ticket in batches))
            except StoreError as exc:  # committed, but perhaps not kept: acknowledge none of it
                failure = exc
            for part, results, _ in batches:
                self._answer_all(part, results, failure)
            if len(batches) < len(waiting):  # close()
                return

    @staticmethod
    def _answer_all(part, results, failure) -> None:
        for (conn, _, _), (verdict, error) in zip(part, results):
            error = error or failure
            _answer(conn, error is None, verdict if error is None else error)

    def _answer_call(self, conn, target, name, args, kwargs) -> None:
        try:
            result = self._call(target, name, args, kwargs)
        except Exception as exc:  # the worker raises it again (a ValueError becomes its 400)
            if not isinstance(exc, ValueError):
                log.exception("hub: %s.%s failed", target, name)
            _answer(conn, False, exc)
        else:
            _answer(conn, True, result)

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
        """Stop judging and close every connection: a worker's waiting thread learns nothing was kept."""
        if self._closed:
            return
        self._closed = True
        self._knock()
        self._unsynced.put(None)
        self._listener.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class HubClient:
    """A worker's side: a connection per thread, which sends its request and reads its own answer; no
    thread of the worker waits for another to hand it over."""

    def __init__(self, address: str, authkey: str):
        self._address, self._authkey = address, bytes.fromhex(authkey)
        self._local = threading.local()
        # every live thread's connection, for close(); weakly, so that a thread's ends with it (granian lets
        # idle threads go), which the hub sees as the connection's end
        self._opened: weakref.WeakSet = weakref.WeakSet()
        self._opened_lock = threading.Lock()
        self._connection()  # a hub that cannot be reached fails the worker's start, not its first request

    def _connection(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = Client(self._address, "AF_UNIX", authkey=self._authkey)
            with self._opened_lock:
                self._opened.add(conn)
        return conn

    def _drop(self) -> None:
        conn, self._local.conn = getattr(self._local, "conn", None), None
        if conn is not None:
            conn.close()

    def _ask(self, *message):
        try:
            conn = self._connection()
            _send(conn, message)
        except (OSError, EOFError, ValueError) as exc:  # no connection, or one that broke: a new one next time
            self._drop()
            raise StoreError(f"store: the supervisor's hub is unreachable ({exc}); this message was not kept") from exc
        try:
            ok, result = _recv(conn)
        except (EOFError, OSError) as exc:
            self._drop()
            raise StoreError(f"store: the supervisor's hub closed ({type(exc).__name__}) before answering; "
                             f"send it again") from exc
        if not ok:
            raise result
        return result

    def call(self, target: str, name: str, *args, **kwargs):
        return self._ask("call", target, name, args, kwargs)

    def judge(self, envelope, stateless):
        """The supervisor's verdict, once it is committed; raises what judging raised (StoreError: nothing kept)."""
        return self._ask("judge", envelope, stateless)

    def close(self) -> None:
        with self._opened_lock:
            opened, self._opened = list(self._opened), weakref.WeakSet()
        for conn in opened:
            conn.close()


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
