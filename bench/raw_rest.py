"""The REST ceiling: the same server stack as `ftsim serve` answering 200 without intake.

A Flask app with the casino route that reads the body and answers the verdict shape ftsim answers, served
the way `ftsim serve --workers N` serves: with one worker by simulator.transports.rest.server.make_http_server
(ftsim's one-process server), with more by granian's public multi-worker interface, the same settings as
simulator/group.py. So ftsim's REST rate divided by this one is the share of the stack's capacity that intake
(parse, validate, rules, ledger, store) leaves, at the same worker count.

    python bench/raw_rest.py PORT [WORKERS]
"""
from __future__ import annotations

import os
import signal
import sys
import tempfile
import threading
from pathlib import Path

from flask import Flask, jsonify, request


CPU_LOCKS = "RAW_REST_CPU_LOCKS"


def create_app():
    """The bare app as ftsim's workers serve theirs: each on a CPU of its own, answers joined by the same
    middleware (with one worker, serve_one's server does both itself)."""
    from simulator.transports.rest.server import one_piece
    from simulator.worker import own_cpu

    own_cpu(os.environ[CPU_LOCKS])
    return one_piece(bare_app())


def bare_app() -> Flask:
    app = Flask("raw")

    @app.post("/v1/integration/casino")
    def receive():
        request.get_data()
        return jsonify(accepted=True, id=None, valid=True, duplicate=False, violations=[])

    return app


def serve_one(port: int) -> None:
    from simulator.settings import load_settings
    from simulator.transports.rest.server import make_http_server

    server = make_http_server(bare_app(), load_settings(None, env={}, port=port, db=":memory:"))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"raw REST on {server.server_port}", flush=True)
    stop.wait()
    server.shutdown()
    server.server_close()


def serve_many(port: int, workers: int) -> None:
    import multiprocessing

    from simulator.group import granian_server
    from simulator.settings import Settings

    multiprocessing.set_start_method("spawn", force=True)
    os.environ[CPU_LOCKS] = tempfile.mkdtemp(prefix="raw-rest-")  # the workers' CPU locks (simulator/worker.py)
    granian_server("raw_rest:create_app", "127.0.0.1", port, workers, Settings().threads,
                   working_dir=Path(__file__).resolve().parent).serve()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    serve_one(port) if workers <= 1 else serve_many(port, workers)
