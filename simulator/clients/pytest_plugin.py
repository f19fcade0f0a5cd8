"""pytest plugin: an ftsim for your test suite, so a test can check your sender against the contract.

Installing ftsim registers it (entry point `pytest11: ftsim`); nothing to import. Fixtures:

- `ftsim`: an `Ftsim` handle on an ftsim cleared for this test: `.casino_url` (or `.url_for("PAYMENT")`,
  `.route("PAYMENT")` for any type) and `.headers` to point your sender at, `.wait_for(n)`, `.messages()`,
  `.rounds()`, `.sessions()`, `.violations()`, `.assert_contract_held()` and `.assert_ready()`; the
  waiting, reading and asserting helpers take `marker="PAYMENT"` to look at one type only.
- `ftsim_settings`: the flags the in-process ftsim starts with (as `ftsim serve` takes them); override it
  in your conftest.py: `return {"api_key": "k", "profile": "lenient"}`.
- `ftsim_service`: the one ftsim the session shares (started on a free port with a temporary database,
  or the one `--ftsim-url URL` names, e.g. an ftsim your CI job started next to its brokers).

The handle talks to ftsim over its HTTP query API only, the same way for both. Importing this module
starts nothing; the server is built when a test first asks for it.
"""
from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

LEVELS = {"error": ("error",), "warning": ("error", "warning")}


class Ftsim:
    """A running ftsim as a test sees it: where to send, and what it received and judged."""

    def __init__(self, url: str, *, api_key: str | None = None, basic_auth: str | None = None, server=None):
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.basic_auth = basic_auth
        self.server = server  # the in-process Server, or None for --ftsim-url

    @property
    def casino_url(self) -> str:
        """Where a REST sender posts casino events."""
        return self.url + "/v1/integration/casino"

    def route(self, marker: str) -> tuple[str, str]:
        """The REST method and path a message of this type marker is sent to: ("POST", "/v1/integration/payment")."""
        from simulator.contract.registry import load_registry

        event_type = load_registry().for_marker(marker)
        if event_type is None:
            known = ", ".join(load_registry().markers())
            raise ValueError(f"ftsim: no event type has the marker {marker!r}; expected one of {known}")
        if event_type.path is None:
            raise ValueError(f"ftsim: {marker} is taken over RabbitMQ and Kafka only; it has no REST path")
        return event_type.method, event_type.path

    def url_for(self, marker: str) -> str:
        """Where a REST sender sends events of this type marker (use `route` for the method: PUT for the
        user updates)."""
        return self.url + self.route(marker)[1]

    @property
    def headers(self) -> dict:
        """The credentials ftsim expects, as request headers (empty when it requires none)."""
        if self.api_key:
            return {"X-Api-Key": self.api_key}
        if self.basic_auth:
            return {"Authorization": "Basic " + base64.b64encode(self.basic_auth.encode()).decode()}
        return {}

    # -- reading ------------------------------------------------------------------------------------

    def _call(self, method: str, path: str, params: dict | None = None):
        query = urllib.parse.urlencode({k: v for k, v in (params or {}).items() if v is not None})
        req = urllib.request.Request(self.url + path + (f"?{query}" if query else ""), method=method,
                                     headers=self.headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as err:
            raise RuntimeError(f"ftsim {method} {path}: HTTP {err.code} {err.read()[:300]!r}") from None

    def get(self, path: str, **params):
        return self._call("GET", path, params)

    def clear(self) -> None:
        """Forget everything received (DELETE /api/messages)."""
        self._call("DELETE", "/api/messages")

    def summary(self) -> dict:
        return self.get("/api/summary")

    def messages(self, marker: str | None = None, **filters) -> list[dict]:
        """Every stored message, oldest first; filters as /api/messages takes them (channel, valid, rule,
        user_id), and `marker`: only messages of that type (the marker they came with)."""
        out, offset = [], 0
        while True:
            page = self.get("/api/messages", **filters, limit=1000, offset=offset)
            out += page["messages"]
            offset += len(page["messages"])
            if not page["messages"] or offset >= page["total"]:
                return out if marker is None else [m for m in out if m.get("marker") == marker]

    def rounds(self, **filters) -> list[dict]:
        return self.get("/api/rounds", **filters)["rounds"]

    def sessions(self, **filters) -> list[dict]:
        return self.get("/api/sessions", **filters)["sessions"]

    def violations(self, fail_on: str = "warning", marker: str | None = None) -> list[dict]:
        """Each violation at `fail_on` or worse, with the message it is in: rule, path, message, severity,
        message_id, channel, activity_id, user_id, marker, payload (`marker`: of that type only)."""
        levels = LEVELS[fail_on]
        return [{**v, "message_id": m["id"], "channel": m["channel"], "activity_id": m["activity_id"],
                 "user_id": m["user_id"], "marker": m.get("marker"),
                 "payload": m["payload"] if m["payload"] is not None else m.get("raw")}
                for m in self.messages(marker) for v in m["violations"] if v["severity"] in levels]

    def report(self) -> dict:
        """The report document (GET /api/report): summary, checklist, charts' figures, rounds, sessions."""
        return self.get("/api/report")

    # -- waiting and asserting -----------------------------------------------------------------------

    def wait_for(self, count: int, timeout: float = 10.0, marker: str | None = None) -> list[dict]:
        """Wait until at least `count` messages were received (stored, valid or not; `marker`: of that
        type); return them all (of that type)."""
        __tracebackhide__ = True
        deadline = time.monotonic() + timeout
        while True:
            summary = self.summary()
            if summary["received"] >= count:
                if marker is None:
                    return self.messages()
                typed = self.messages(marker)
                if len(typed) >= count:
                    return typed
            if time.monotonic() >= deadline:
                if marker is not None:
                    raise AssertionError(f"ftsim: expected {count} {marker} messages within {timeout:g} s, "
                                         f"received {len(self.messages(marker))} (of {summary['received']} in all)")
                refused = sum(summary.get("rejected", {}).values())
                raise AssertionError(
                    f"ftsim: expected {count} messages within {timeout:g} s, received {summary['received']} "
                    f"(by channel: {json.dumps({k: v['received'] for k, v in summary['by_channel'].items()})}"
                    + (f"; {refused} requests refused before intake: {summary['rejected']}" if refused else "")
                    + ")")
            time.sleep(0.05)

    def assert_contract_held(self, fail_on: str = "error", marker: str | None = None) -> None:
        """Fail the test, showing each violation's rule, path and payload, if any message (of type `marker`)
        broke the contract at `fail_on` severity or worse, or any request was refused (credentials, size,
        content type)."""
        __tracebackhide__ = True
        found = self.violations(fail_on, marker)
        refused = self.summary().get("rejected", {})
        if found or refused:
            raise AssertionError(explain(found, refused))

    def assert_ready(self, checklist=None, fail_on: str | None = None) -> None:
        """Fail the test unless the go-live checklist passes (ftsim's own, or `checklist`: a TOML path or a
        readiness.Checklist), listing each failed item with its evidence."""
        __tracebackhide__ = True
        doc = self.report()
        verdict = doc["checklist"]
        if checklist is not None or fail_on is not None:
            from simulator.report import readiness

            config = checklist if isinstance(checklist, readiness.Checklist) else readiness.load_checklist(checklist)
            verdict = readiness.evaluate(doc["facts"], config.with_fail_on(fail_on))
        failed = [i for i in verdict["items"] if i["status"] == "failed"]
        if failed:
            raise AssertionError("ftsim: not ready to go live:\n" + "\n".join(
                f"  {i['id']}: {i['title']}: {i['detail']}" for i in failed))


def _at(payload, pointer: str):
    """The value at a JSON Pointer, or a marker that it is absent."""
    value = payload
    for part in pointer.split("/")[1:] if pointer else []:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return "(absent)"
    return json.dumps(value, ensure_ascii=False)


def explain(found: list[dict], refused: dict) -> str:
    """The failure message: per message, each violation with rule, path and the value there, then the payload."""
    from simulator.report.readiness import example_names

    by_message: dict[int, list[dict]] = {}
    for v in found:
        by_message.setdefault(v["message_id"], []).append(v)
    lines = [f"ftsim: the contract did not hold: {len(found)} violation{'s' * (len(found) != 1)} in "
             f"{len(by_message)} message{'s' * (len(by_message) != 1)}"]
    for message_id, vs in by_message.items():
        first = vs[0]
        kind = f"{first['marker']}, " if first.get("marker") not in (None, "CASINO") else ""
        lines.append(f"  message #{message_id} ({kind}{first['channel']}{example_names(first)})")
        payload = first["payload"]
        for v in vs:
            lines.append(f"    {v['severity']} {v['rule']} at {v['path'] or '/'}: {v['message']}")
            if v["path"] and isinstance(payload, (dict, list)):
                lines.append(f"      {v['path']} = {_at(payload, v['path'])}")
        text = json.dumps(payload, ensure_ascii=False) if isinstance(payload, (dict, list)) else repr(payload)
        lines.append(f"    payload: {text if len(text) <= 600 else text[:600] + '...'}")
    if refused:
        lines.append("  refused before intake (no body kept): " + ", ".join(f"{rule} x{n}" for rule, n in
                                                                          sorted(refused.items())))
    return "\n".join(lines)


# -- pytest hooks and fixtures ----------------------------------------------------------------------------

def pytest_addoption(parser) -> None:
    group = parser.getgroup("ftsim", "ftsim, the Fast Track CRM contract simulator")
    group.addoption("--ftsim-url", default=None, metavar="URL",
                    help="use this running ftsim for the `ftsim` fixture instead of starting one in-process")


@pytest.fixture(scope="session")
def ftsim_settings() -> dict:
    """Flags for the in-process ftsim, named as `ftsim serve` takes them; override in your conftest.py."""
    return {}


@pytest.fixture(scope="session")
def ftsim_service(request, ftsim_settings, tmp_path_factory):
    """The ftsim this session shares: in-process on a free loopback port, or the one --ftsim-url names."""
    flags = dict(ftsim_settings)
    url = request.config.getoption("ftsim_url")
    if url:
        yield Ftsim(url, api_key=flags.get("api_key"), basic_auth=flags.get("basic_auth"))
        return
    from simulator.serve import Server
    from simulator.settings import load_settings

    flags.setdefault("port", 0)
    flags.setdefault("db", str(tmp_path_factory.mktemp("ftsim") / "ftsim.db"))
    server = Server(load_settings(None, env={}, **flags)).start()
    try:
        yield Ftsim(server.url, api_key=server.settings.api_key, basic_auth=server.settings.basic_auth,
                    server=server)
    finally:
        server.stop()


@pytest.fixture
def ftsim(ftsim_service) -> Ftsim:
    """The session's ftsim, cleared for this test."""
    ftsim_service.clear()
    return ftsim_service
