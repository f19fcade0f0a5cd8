"""The Flask application: the CRM's ingest endpoints, the query API and the live page."""
from __future__ import annotations

import secrets

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from simulator.core.errors import StoreError
from simulator.transports.rest.api import api
from simulator.transports.rest.auth import install_auth
from simulator.transports.rest.ingest import ingest
from simulator.transports.rest.live import live


RETRY_AFTER = 5  # seconds a sender is asked to wait after a 503: long enough for an operator's restart


def create_app(runtime) -> Flask:
    app = Flask(__name__)
    app.extensions["ftsim"] = runtime
    install_auth(app, runtime)
    app.register_blueprint(ingest)
    app.register_blueprint(api)
    app.register_blueprint(live)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return jsonify(error=exc.name, message=exc.description), exc.code

    @app.errorhandler(StoreError)
    def store_down(exc: StoreError):  # nothing was kept: the sender must try again, here or after a restart
        app.logger.error("%s", exc)
        response = jsonify(error="Service Unavailable", message=f"{exc}; this message was not kept: send it again")
        response.headers["Retry-After"] = str(RETRY_AFTER)
        return response, 503

    @app.errorhandler(Exception)
    def crash(exc: Exception):  # a bug must answer 500 and be logged, never take the server down
        # The exception's text may hold internals (paths, SQL, payload); the client gets an id to quote.
        incident = secrets.token_hex(4)
        app.logger.exception("unhandled error, incident %s", incident)
        return jsonify(error="Internal Server Error", incident=incident,
                       message=f"ftsim failed on this request (a bug in ftsim); incident {incident} is in "
                               f"ftsim's log"), 500

    return app
