"""Optional credentials on everything ftsim serves: an X-Api-Key header or HTTP Basic, as configured."""
from __future__ import annotations

import hmac

from flask import Flask, jsonify, request

from simulator.core.envelope import utcnow

OPEN_PATHS = ("/static/",)


def credentials_ok(settings, headers, authorization) -> bool:
    if not settings.has_auth:
        return True
    key = headers.get("X-Api-Key")
    if settings.api_key and key is not None and hmac.compare_digest(key.encode(), settings.api_key.encode()):
        return True
    if authorization is None or authorization.type != "basic":
        return False
    given_user = (authorization.username or "").encode()
    given_password = (authorization.password or "").encode()
    if settings.basic_auth:
        user, _, password = settings.basic_auth.partition(":")
        if hmac.compare_digest(given_user, user.encode()) & hmac.compare_digest(given_password, password.encode()):
            return True
    # A browser cannot send X-Api-Key: it may give the key as the Basic password (any user name).
    return bool(settings.api_key) and hmac.compare_digest(given_password, settings.api_key.encode())


def install_auth(app: Flask, runtime) -> None:
    settings = runtime.settings

    @app.before_request
    def require_credentials():
        if not settings.has_auth or request.path.startswith(OPEN_PATHS):
            return None
        if credentials_ok(settings, request.headers, request.authorization):
            return None
        runtime.store.add_rejection(_channel(), utcnow(), "transport.auth",
                                    f"{request.method} {request.path} from {request.remote_addr}")
        expected = " or ".join(x for x, on in (("an X-Api-Key header", settings.api_key),
                                               ("HTTP Basic credentials", settings.basic_auth)) if on)
        response = jsonify(error="Unauthorized", rule="transport.auth",
                           message=f"expected {expected}; the request had "
                                   f"{'wrong' if _sent_any() else 'no'} credentials")
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Basic realm="ftsim"'
        return response


def _sent_any() -> bool:
    return "X-Api-Key" in request.headers or request.authorization is not None


def _channel() -> str:
    return "rest" if request.path.startswith("/v1/") else "api"
