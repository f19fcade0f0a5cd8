"""The Flask application: the CRM's ingest endpoints, the query API and the live page."""
from __future__ import annotations

import secrets

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from .api import api
from .auth import install_auth
from .ingest import ingest
from .live import live


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

    @app.errorhandler(Exception)
    def crash(exc: Exception):  # a bug must answer 500 and be logged, never take the server down
        # The exception's text may hold internals (paths, SQL, payload); the client gets an id to quote.
        incident = secrets.token_hex(4)
        app.logger.exception("unhandled error, incident %s", incident)
        return jsonify(error="Internal Server Error", incident=incident,
                       message=f"ftsim failed on this request (a bug in ftsim); incident {incident} is in "
                               f"ftsim's log"), 500

    return app
