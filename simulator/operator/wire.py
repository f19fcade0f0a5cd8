"""One HTTP exchange with the operator, redirects not followed, every failure turned into an Answer.

The standard library's http.client, not requests: we need the raw status (a 3xx is a finding, not a hop),
the raw headers and bytes, and nothing pooled between calls that could hide a slow connect.
"""
from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

MAX_BODY = 1024 * 1024  # an answer is read up to this many bytes: a runaway operator must not fill memory


@dataclass
class Answer:
    status: int | None
    headers: dict = field(default_factory=dict)  # lower-cased names
    body: bytes = b""
    latency_ms: float | None = None
    failure: str | None = None  # "timeout" or "unreachable" when no answer came
    detail: str = ""


def send(method: str, url: str, headers: dict, body: bytes | None, timeout: float) -> Answer:
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    conn = kind(parts.hostname, parts.port, timeout=timeout)
    started = time.perf_counter()
    try:
        conn.request(method, target, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read(MAX_BODY)
        latency = (time.perf_counter() - started) * 1000
        return Answer(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data, round(latency, 3))
    except (TimeoutError, socket.timeout):
        return Answer(None, latency_ms=round((time.perf_counter() - started) * 1000, 3), failure="timeout",
                      detail=f"no answer within {timeout:g} s")
    except (OSError, ssl.SSLError, http.client.HTTPException) as exc:
        return Answer(None, failure="unreachable", detail=f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()
