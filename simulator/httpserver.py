"""The HTTP server that carries the Flask app inside `ftsim serve`'s own process.

It must live in the same process as the listeners and intake (the ledger is one writer), start on a
given or free port, and stop on request. The interface `serve.Server` relies on: `server_port`,
`serve_forever()`, `shutdown()`, `server_close()`.
"""
from __future__ import annotations

from werkzeug.serving import make_server


def make_http_server(app, settings):
    return make_server(settings.host, settings.port, app, threaded=True)
