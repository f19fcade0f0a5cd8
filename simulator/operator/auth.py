"""The three ways FT authenticates to an operator's API: X-Api-Key, HTTP Basic, OAuth client credentials.

Each gives the headers for the next call. OAuth fetches a token from the operator's token endpoint, as
FT describes it (JSON body {client_id, client_secret, grant_type: client_credentials}, or the same as GET
query parameters), and fetches the next one before `expires_in` runs out, so no call goes out on a token
about to expire. A token endpoint that answers wrong raises TokenError with the violations that say how.
Secrets live only here: nothing a caller can print holds them.
"""
from __future__ import annotations

import base64
import json
import threading
import time
from urllib.parse import urlencode

from simulator.core.errors import FtsimError
from simulator.core.violations import Violation
from simulator.operator.wire import send

REFRESH_AT = 0.8  # of expires_in: a new token is fetched once this much of the old one's life is gone


class TokenError(FtsimError):
    """The token endpoint did not give a usable token; `violations` say why (rule operator.token)."""

    def __init__(self, violations: list[Violation]):
        super().__init__("; ".join(v.message for v in violations))
        self.violations = violations


class NoAuth:
    kind = "none"

    def headers(self) -> dict:
        return {}

    def rejected(self) -> bool:
        """The operator refused our credentials: True when it is worth one more try with new ones."""
        return False

    def __repr__(self):
        return f"<{type(self).__name__}>"


class ApiKey(NoAuth):
    kind = "api-key"

    def __init__(self, key: str):
        self._key = key

    def headers(self):
        return {"X-Api-Key": self._key}


class Basic(NoAuth):
    kind = "basic"

    def __init__(self, user_pass: str):
        self._value = "Basic " + base64.b64encode(user_pass.encode()).decode()

    def headers(self):
        return {"Authorization": self._value}


class OAuth(NoAuth):
    kind = "oauth"

    def __init__(self, token_url: str, client_id: str, client_secret: str, *, method: str = "post",
                 timeout: float = 5.0, clock=time.monotonic):
        if method not in ("post", "get"):
            raise ValueError(f"OAuth token method: expected post or get, got {method!r}")
        self.token_url, self.client_id, self._secret, self.method = token_url, client_id, client_secret, method
        self.timeout, self._clock = timeout, clock
        self._token: str | None = None
        self._refresh_at = 0.0
        self._lock = threading.Lock()
        self.fetched = 0  # tokens fetched so far (the tests watch a refresh happen)

    def headers(self):
        with self._lock:
            if self._token is None or self._clock() >= self._refresh_at:
                self._fetch()
            return {"Authorization": f"Bearer {self._token}"}

    def rejected(self):
        with self._lock:
            self._token = None
        return True

    def _fetch(self) -> None:
        params = {"client_id": self.client_id, "client_secret": self._secret, "grant_type": "client_credentials"}
        if self.method == "post":
            answer = send("POST", self.token_url, {"Content-Type": "application/json", "Accept": "application/json"},
                          json.dumps(params).encode(), self.timeout)
        else:
            sep = "&" if "?" in self.token_url else "?"
            answer = send("GET", self.token_url + sep + urlencode(params), {"Accept": "application/json"}, None,
                          self.timeout)
        where = f"token endpoint {self.token_url}"
        if answer.status is None:
            raise TokenError([Violation("operator.token", "", f"{where}: {answer.detail}")])
        if answer.status != 200:
            raise TokenError([Violation("operator.token", "", f"{where}: expected 200, got {answer.status}")])
        try:
            doc = json.loads(answer.body)
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            raise TokenError([Violation("operator.token", "", f"{where}: expected a JSON object "
                                                              f"{{access_token, expires_in, token_type}}")])
        problems = []
        token, expires, kind = doc.get("access_token"), doc.get("expires_in"), doc.get("token_type")
        if not isinstance(token, str) or not token:
            problems.append(Violation("operator.token", "/access_token", f"{where}: expected a non-empty string "
                                                                        f"access_token, got {_shown(token)}"))
        if isinstance(expires, bool) or not isinstance(expires, (int, float)) or expires <= 0:
            problems.append(Violation("operator.token", "/expires_in", f"{where}: expected expires_in as a "
                                                                      f"positive number of seconds, got "
                                                                      f"{_shown(expires)}"))
        if not isinstance(kind, str) or kind.lower() != "bearer":
            problems.append(Violation("operator.token", "/token_type", f"{where}: expected token_type "
                                                                      f"'Bearer', got {_shown(kind)}"))
        if problems:
            raise TokenError(problems)
        self._token = token
        self._refresh_at = self._clock() + float(expires) * REFRESH_AT
        self.fetched += 1


def _shown(value) -> str:
    return "nothing" if value is None else repr(value)[:60]


def auth_from(settings) -> NoAuth:
    """The one method the settings name; ConfigError-free here: settings.py already refused two at once."""
    if settings.operator_oauth:
        return OAuth(settings.operator_oauth, settings.operator_client_id or "",
                     settings.operator_client_secret or "", method=settings.operator_oauth_method,
                     timeout=settings.operator_timeout)
    if settings.operator_api_key:
        return ApiKey(settings.operator_api_key)
    if settings.operator_basic:
        return Basic(settings.operator_basic)
    return NoAuth()
