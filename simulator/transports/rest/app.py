"""The Flask application: the CRM's ingest endpoints, the query API and the live page."""
from __future__ import annotations

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from simulator.core.errors import StoreError
from simulator.transports.rest.api import api
from simulator.transports.rest.auth import install_auth
from simulator.transports.rest import answers
from simulator.transports.rest.ingest import FastIngest, ingest
from simulator.transports.rest.live import live


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
    def store_down(exc: StoreError):
        return _answer(app, *answers.unavailable(exc, app.logger))

    @app.errorhandler(Exception)
    def crash(exc: Exception):
        return _answer(app, *answers.crashed(app.logger))

    app.wsgi_app = FastIngest(app.wsgi_app, runtime, app.logger)
    return app


def _answer(app, status: int, headers: list, body: bytes):
    return app.response_class(body, status=status, headers=headers)
