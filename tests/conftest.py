"""Fixtures per layer: settings, a runtime on a real SQLite file, a real HTTP server, and event builders."""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from itertools import count

import pytest

from simulator.core.envelope import Envelope
from simulator.runtime import Runtime
from simulator.serve import Server
from simulator.settings import load_settings

pytest_plugins = ["tests.brokers"]

_ids = count(1)


def now_iso(delta_seconds: float = 0) -> str:
    t = datetime.now(timezone.utc) + timedelta(seconds=delta_seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def casino_event(**overrides) -> dict:
    """A valid strict-profile casino event, timestamped now; override any field, None removes it."""
    n = next(_ids)
    event = {"activity_id": f"act-{n}", "amount": 20.0, "wager_amount": 20.0, "bonus_wager_amount": 0,
             "locked_wager_amount": 0, "balance_before": 194.03, "balance_after": 174.03, "currency": "EUR",
             "exchange_rate": 1, "game_id": "10911", "game_name": "Dead or Alive", "game_type": "Slots",
             "is_round_end": False, "origin": "sub.example.com", "round_id": f"round-{n}",
             "status": "Approved", "timestamp": now_iso(), "type": "Bet", "user_id": "52530",
             "vendor_id": "1", "vendor_name": "Netent", "meta": {"key1": "value1"}}
    event.update(overrides)
    return {k: v for k, v in event.items() if v is not None}


PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def pg_url():
    """A PostgreSQL URL whose tables live in a schema of this test's own, dropped afterwards."""
    import uuid

    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield f"{PG_ADMIN}?options=-csearch_path%3D{schema}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgres"])
def db_target(request, tmp_path):
    """Each store backend in turn: a SQLite file, then a PostgreSQL schema."""
    if request.param == "sqlite":
        return str(tmp_path / "ftsim.db")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def make_settings(tmp_path):
    def make(**flags):
        flags.setdefault("db", str(tmp_path / "ftsim.db"))
        flags.setdefault("port", 0)
        return load_settings(None, env={}, **flags)
    return make


@pytest.fixture
def runtime(make_settings):
    rt = Runtime(make_settings())
    yield rt
    rt.close()


def judge_with(runtime):
    def send(payload, marker="CASINO", channel="rest"):
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return runtime.intake.one(Envelope(channel, raw, marker))
    return send


@pytest.fixture
def judge(runtime):
    """Send one payload (dict or bytes) through intake the way a transport would; returns the verdict."""
    return judge_with(runtime)


@pytest.fixture
def make_judge(make_settings, tmp_path):
    """A judge on a runtime of its own, built from settings flags: make_judge(severity=[...])."""
    runtimes = []

    def make(**flags):
        flags.setdefault("db", str(tmp_path / f"judge{len(runtimes)}.db"))
        runtimes.append(Runtime(make_settings(**flags)))
        return judge_with(runtimes[-1])
    yield make
    for rt in runtimes:
        rt.close()


class Client:
    """A tiny HTTP client over urllib, so endpoint tests go through a real socket."""

    def __init__(self, base: str, headers: dict | None = None):
        self.base = base
        self.headers = headers or {}

    def request(self, method, path, body=None, headers=None, content_type="application/json"):
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        h = {**self.headers, **(headers or {})}
        if data is not None and content_type:
            h.setdefault("Content-Type", content_type)
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, _json(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, _json(err.read())

    def post_event(self, event, **kw):
        return self.request("POST", "/v1/integration/casino", event, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)


def _json(data: bytes):
    try:
        return json.loads(data)
    except ValueError:
        return data


@pytest.fixture
def start_server(make_settings):
    servers = []

    def start(**flags) -> Server:
        server = Server(make_settings(**flags)).start()
        servers.append(server)
        return server
    yield start
    for s in servers:
        s.stop()


@pytest.fixture
def server(start_server):
    return start_server()


@pytest.fixture
def client(server):
    return Client(server.url)


def hold_fsync(monkeypatch):
    """The WAL's fdatasync held until the returned event is set (the real one runs then)."""
    from simulator.store import walsync

    real, release, calls = walsync.os.fdatasync, threading.Event(), []

    def held(fd):
        calls.append(fd)
        release.wait(30)
        real(fd)

    monkeypatch.setattr(walsync.os, "fdatasync", held)
    return release, calls


def two_callers_while_the_fsync_is_held(monkeypatch, one, store) -> tuple[dict, list]:
    """one(activity_id) from two threads with the WAL's fsync held: the first is committed and waits, the
    second is committed meanwhile, and neither returns before the fsync is let go. (answers, fsyncs)."""
    from tests.brokers import wait_for

    release, calls = hold_fsync(monkeypatch)
    answers = {}

    def caller(name):
        answers[name] = one(name)

    first = threading.Thread(target=caller, args=("first",))
    first.start()
    wait_for(lambda: calls and store.counts()["received"] == 1, what="the first commit")
    second = threading.Thread(target=caller, args=("second",))
    second.start()
    wait_for(lambda: store.counts()["received"] == 2, what="the second commit, the fsync still held")
    assert answers == {}  # committed, not yet on disk: nobody heard 200
    release.set()
    first.join(30)
    second.join(30)
    return answers, calls
