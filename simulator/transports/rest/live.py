"""The live page at `/`, the report over HTTP, and the cheap marker the page polls.

Behind the same credentials as the query API (rest/auth.py guards every path but /static/). The page is
rendered on the server from the report document; its script polls `/live/pulse` each second and fetches
`/live/sections` only when something was stored, so it works behind any proxy and with several ftsim
instances sharing one PostgreSQL ledger. Short polling rather than server-sent events: no request thread
is held open, whichever WSGI server carries the app.
"""
from __future__ import annotations

import secrets
import time

from flask import Blueprint, Response, abort, current_app, jsonify, request

from simulator import report
from simulator.report.readiness import Checklist
from simulator.report import htmlreport
from simulator.transports.rest.api import channel_arg, rule_arg

live = Blueprint("live", __name__)
CHECKLIST_KEY = "ftsim.checklist"  # app.extensions[...]: the Checklist `ftsim serve --checklist` loaded


def _runtime():
    return current_app.extensions["ftsim"]


def _document() -> dict:
    checklist = current_app.extensions.get(CHECKLIST_KEY) or Checklist()
    return report.build(_runtime(), checklist, channel=channel_arg(), rule=rule_arg(),
                        user_id=request.args.get("user_id") or None,
                        source=request.host_url.rstrip("/"), pipeline_page=_page())


def _page() -> int:
    raw = request.args.get("pipeline_page") or "0"
    return int(raw) if raw.isdigit() and len(raw) < 9 else 0


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@live.get("/")
def page():
    marker = _runtime().store.change_marker()  # before reading: a message stored meanwhile shows next poll
    nonce = secrets.token_urlsafe(18)
    html = htmlreport.live_page(_document(), nonce=nonce, marker=marker)
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; img-src data:; "
        f"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
    return _no_store(response)


@live.get("/live/sections")
def sections():
    marker = _runtime().store.change_marker()
    started = time.perf_counter()
    response = Response(htmlreport.sections(_document()), mimetype="text/html")
    response.headers["X-Ftsim-Marker"] = marker
    response.headers["Server-Timing"] = f"build;dur={(time.perf_counter() - started) * 1000:.1f}"
    return _no_store(response)


@live.get("/live/pulse")
def pulse():
    return _no_store(jsonify(marker=_runtime().store.change_marker()))


@live.get("/api/report")
def report_document():
    """The report: JSON by default, `?format=junit` or `?format=html` for the files `ftsim report` writes."""
    fmt = request.args.get("format", "json")
    if fmt not in report.FORMATS:
        abort(400, f"format: expected one of {', '.join(report.FORMATS)}, got {fmt!r}")
    body = report.render(_document(), fmt)
    mimetype = {"json": "application/json", "junit": "application/xml", "html": "text/html"}[fmt]
    return _no_store(Response(body, mimetype=mimetype))
