"""The REST ceiling: the same server stack as `ftsim serve` answering 200 without intake.

A Flask app with the casino route that reads the body and answers the verdict shape ftsim answers,
served by simulator.transports.rest.server.make_http_server, so that ftsim's REST rate divided by this one is the
share of the stack's capacity that intake (parse, validate, rules, ledger, store) leaves.

    python bench/raw_rest.py PORT
"""
from __future__ import annotations

import signal
import sys
import threading

from flask import Flask, jsonify, request

from simulator.transports.rest.server import make_http_server
from simulator.settings import load_settings


def create_app() -> Flask:
    app = Flask("raw")

    @app.post("/v1/integration/casino")
    def receive():
        request.get_data()
        return jsonify(accepted=True, id=None, valid=True, duplicate=False, violations=[])

    return app


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = make_http_server(create_app(), load_settings(None, env={}, port=port, db=":memory:"))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"raw REST on {server.server_port}", flush=True)
    stop.wait()
    server.shutdown()
    server.server_close()


if __name__ == "__main__":
    main()
