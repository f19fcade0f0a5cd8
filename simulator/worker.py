"""One HTTP worker of `ftsim serve --workers N`: granian's worker process imports this and calls `app()`.

A worker takes HTTP and judges what needs no history (parse, schema, stateless rules, wording); the rest,
and what must stay in one memory (the pairing, the operator calls, the listeners' states), is the
supervisor's, reached through simulator/hub.py. It reads the store itself for the query API and the page.
"""
from __future__ import annotations

import ctypes
import fcntl
import logging
import os
import pickle
import signal

HUB_ENV = "FTSIM_HUB"  # the supervisor's hub folder: its socket, the workers' spec and their CPU locks
SPEC = "worker.pickle"
PR_SET_PDEATHSIG = 1


def write_spec(folder: str, **spec) -> None:
    """The supervisor's half: settings (secrets included, so the file is in a folder only its user reads),
    the hub's address, the checklist and the supervisor's pid."""
    with open(os.path.join(folder, SPEC), "wb") as f:
        pickle.dump(spec, f)


def app():
    from simulator.hub import HubClient
    from simulator.runtime import Runtime
    from simulator.transports.rest.app import create_app
    from simulator.transports.rest.live import CHECKLIST_KEY
    from simulator.transports.rest.server import one_piece

    with open(os.path.join(os.environ[HUB_ENV], SPEC), "rb") as f:
        spec = pickle.load(f)
    _die_with(spec["supervisor"])
    own_cpu(os.environ[HUB_ENV])
    logging.basicConfig(level=spec.get("log_level", logging.WARNING),
                        format="%(asctime)s %(levelname)s %(name)s[worker %(process)d]: %(message)s")
    hub = HubClient(**spec["hub"])
    runtime = Runtime(spec["settings"], hub=hub)
    flask_app = create_app(runtime)
    flask_app.extensions[CHECKLIST_KEY] = spec["checklist"]
    hub.call("hub", "hello", os.getpid())
    return one_piece(flask_app)


_HELD: list[int] = []  # the lock of the CPU this worker runs on, held for the worker's life


def own_cpu(folder: str) -> None:
    """Run this worker, its Rust I/O thread and its Python threads on a CPU of its own: the first whose lock
    file in the supervisor's folder no live worker holds (the kernel frees a dead one's). A process whose
    threads take the GIL from one another across cores spends a fifth more CPU on each request (measured
    on 2 cores: a bare Flask app under 2 granian workers 400 -> 336 us a request, 3,900 -> 4,800 req/s).
    More workers than CPUs: the rest are left to the scheduler."""
    if not hasattr(os, "sched_getaffinity"):
        return
    for i, cpu in enumerate(sorted(os.sched_getaffinity(0))):
        fd = os.open(os.path.join(folder, f"cpu-{i}"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        _HELD.append(fd)
        try:
            os.sched_setaffinity(0, {cpu})  # threads started from here on inherit it
        except OSError:
            pass
        return


def _die_with(supervisor: int) -> None:
    """A worker must not outlive its supervisor: SIGKILLed, the supervisor cannot stop it, so the kernel does
    (Linux's parent-death signal; elsewhere a worker notices on its next call to the hub)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != supervisor:  # it died before the signal was asked for
        os.kill(os.getpid(), signal.SIGKILL)
