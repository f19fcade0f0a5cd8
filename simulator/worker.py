"""One HTTP worker of `ftsim serve --workers N`: granian's worker process imports this and calls `app()`.

A worker takes HTTP and judges what needs no history (parse, schema, stateless rules, wording); the rest,
and what must stay in one memory (the pairing, the operator calls, the listeners' states), is the
supervisor's, reached through simulator/hub.py. It reads the store itself for the query API and the page.
"""
from __future__ import annotations

import ctypes
import logging
import os
import pickle
import signal

HUB_ENV = "FTSIM_HUB"  # the supervisor's hub folder: its socket, its pairing flag and this worker's spec
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
    logging.basicConfig(level=spec.get("log_level", logging.WARNING),
                        format="%(asctime)s %(levelname)s %(name)s[worker %(process)d]: %(message)s")
    hub = HubClient(**spec["hub"])
    runtime = Runtime(spec["settings"], hub=hub)
    flask_app = create_app(runtime)
    flask_app.extensions[CHECKLIST_KEY] = spec["checklist"]
    hub.call("hub", "hello", os.getpid())
    return one_piece(flask_app)


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
