"""One judged call to the operator: the request FT would send, the answer, its violations, its timing.

Nothing here raises for the operator's faults: a refused connection, a wrong token endpoint or a timeout
is a Call with a violation, so neither a listener nor `ftsim operator check` can be crashed by the far end.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

from simulator.core.timefmt import iso
from simulator.core.violations import Severities, Violation
from simulator.operator.auth import NoAuth, TokenError
from simulator.operator.endpoints import ENDPOINTS
from simulator.operator.judge import judge
from simulator.operator.wire import send

BODY_KEPT = 64 * 1024  # characters of an answer's body kept with the call


@dataclass
class Call:
    endpoint: str
    method: str
    path: str
    user_id: str | None
    at: str
    status: int | None
    latency_ms: float | None
    violations: list[Violation]
    body: str = ""
    message_id: int | None = None
    parsed: object = field(default=None, repr=False)

    @property
    def valid(self) -> bool:
        return not any(v.severity == "error" for v in self.violations)

    def as_dict(self) -> dict:
        return {"endpoint": self.endpoint, "method": self.method, "path": self.path, "user_id": self.user_id,
                "at": self.at, "status": self.status, "latency_ms": self.latency_ms, "valid": self.valid,
                "violations": [v.as_dict() for v in self.violations], "message_id": self.message_id,
                "body": self.body}


class OperatorClient:
    def __init__(self, base_url: str, auth: NoAuth | None = None, *, timeout: float = 5.0,
                 severities: Severities | None = None, engine: str = "rust"):
        self.base_url = base_url.rstrip("/")
        self.auth = auth or NoAuth()
        self.timeout = timeout
        self.severities = severities or Severities({})
        self.engine = engine

    def call(self, name: str, user_id: str | None = None, body: dict | None = None, *,
             message_id: int | None = None, expect_user: str | None = None) -> Call:
        """expect_user: whom the answer must be about (default: the user in the path)."""
        endpoint = ENDPOINTS[name]
        path = endpoint.url_path(user_id)
        at = iso(datetime.now(timezone.utc))
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        answer = None
        for attempt in (1, 2):
            try:
                headers = {"Accept": "application/json", **self.auth.headers()}
            except TokenError as exc:
                return self._done(Call(name, endpoint.method, path, user_id, at, None, None, exc.violations,
                                       message_id=message_id))
            if data is not None:
                headers["Content-Type"] = "application/json"
            answer = send(endpoint.method, self.base_url + path, headers, data, self.timeout)
            # One fresh token after a 401: the operator may have revoked ours early; a second 401 is a finding.
            if answer.status == 401 and attempt == 1 and self.auth.rejected():
                continue
            break
        who = expect_user if expect_user is not None else (user_id if "{user_id}" in endpoint.path else None)
        found, parsed = judge(endpoint, answer, user_id=who, engine=self.engine)
        text = answer.body[:BODY_KEPT].decode("utf-8", errors="replace")
        return self._done(Call(name, endpoint.method, path, user_id, at, answer.status, answer.latency_ms, found,
                               text, message_id, parsed))

    def _done(self, call: Call) -> Call:
        call.violations = self.severities.stamp(call.violations)
        return call
