"""A small client of a running ftsim's query API: what the scenario runner reads back after sending."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

from simulator.core.errors import FtsimError
from simulator.clients.sender.rest import auth_headers


class RemoteError(FtsimError):
    """The ftsim being compared against did not answer its query API as expected."""


def _said(exc: urllib.error.HTTPError) -> str:
    """What ftsim's error answer says ({"error", "message"} or {"error": text}), not the bytes' repr
    (`b'{"error":...}\\n'`); another server's answer, cut short."""
    body = exc.read()[:2000]
    try:
        doc = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace").strip()[:200] or exc.reason
    if isinstance(doc, dict) and isinstance(doc.get("error"), str):
        return doc["error"] + (f": {doc['message']}" if isinstance(doc.get("message"), str) else "")
    return body.decode("utf-8", "replace").strip()[:200]


class Ftsim:
    PAGE = 10_000

    def __init__(self, base_url: str, *, api_key: str | None = None, basic_auth: str | None = None,
                 timeout: float = 30.0):
        self.base = base_url.rstrip("/")
        self.headers = auth_headers(api_key, basic_auth)
        self.timeout = timeout

    def get(self, path: str):
        req = urllib.request.Request(self.base + path, headers=self.headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            raise RemoteError(f"ftsim at {self.base}: GET {path} answered {exc.code}: {_said(exc)}") from None
        except (OSError, ValueError) as exc:
            raise RemoteError(f"ftsim at {self.base}: GET {path} failed: {exc}") from None

    def summary(self) -> dict:
        return self.get("/api/summary")

    def severities(self) -> dict[str, str]:
        """Each rule's configured severity, as the target applies it."""
        return {r["rule"]: r["severity"] for r in self.get("/api/rules")["rules"]}

    def messages_of_run(self, run: str, expected: int) -> list[dict]:
        """Stored messages whose payload.meta.run is `run`, or (types without `meta`) whose user_id is in
        the run's namespace ("<run>-..."), or (types without a user) whose id is; oldest first; newest pages
        are read first."""
        found: list[dict] = []
        offset = 0
        users = f"{run}-" if run else None
        while len(found) < expected:
            page = self.get(f"/api/messages?order=desc&limit={self.PAGE}&offset={offset}")
            for m in page["messages"]:
                meta = (m.get("payload") or {}).get("meta") if isinstance(m.get("payload"), dict) else None
                if isinstance(meta, dict):
                    if meta.get("run") == run:
                        found.append(m)
                elif users and isinstance(m.get("user_id"), str) and m["user_id"].startswith(users):
                    found.append(m)
                elif users and m.get("user_id") is None and str(m.get("activity_id") or "").startswith(users):
                    found.append(m)  # a type without a user (GAME): its own id is in the run's namespace
            offset += self.PAGE
            if offset >= page["total"]:
                break
        found.sort(key=lambda m: m["id"])
        return found

    def rounds_of(self, users: set[str]) -> list[dict]:
        out, offset = [], 0
        while True:
            page = self.get(f"/api/rounds?limit={self.PAGE}&offset={offset}")["rounds"]
            out += [r for r in page if r["user_id"] in users]
            if len(page) < self.PAGE:
                return out
            offset += self.PAGE

    def wait_received(self, at_least: int, timeout: float, poll: float = 0.2) -> int:
        """Poll the summary until `received` reaches at_least (brokers judge after the sender is done)."""
        deadline = time.monotonic() + timeout
        while True:
            received = self.summary()["received"]
            if received >= at_least or time.monotonic() >= deadline:
                return received
            time.sleep(poll)
