"""Batches judge exactly as their messages one at a time would: what casino's ledger and the player registry
keep per transaction (rows written once before the commit, a registered user remembered) changes cost, not
verdicts. And SQLite's WAL is checkpointed by a thread of its own without losing a commit.

Real SQLite files and PostgreSQL, real intake; the feed is one a platform could send, faults included.
"""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone

import pytest

from simulator.core.envelope import Envelope
from simulator.runtime import Runtime
from simulator.store.checkpoint import SAFETY_PAGES

from tests.conftest import casino_event

T0 = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=30)


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def feed() -> list[tuple[str, dict]]:
    """Every branch of the round ledger and the registry, several of them inside one round."""
    bet = lambda aid, rnd, t, **kw: casino_event(activity_id=aid, round_id=rnd, timestamp=at(t), user_id="p1", **kw)
    win = lambda aid, rnd, t, **kw: bet(aid, rnd, t, type="Win", amount=5.0, wager_amount=5.0, **kw)
    out = [("CASINO", bet("b1", "r1", 1)),                                   # unknown user: a warning
           ("USER_CREATE_V2", {"user_id": "p1", "origin": "www.brand.com", "timestamp": at(1.5)}),
           ("CASINO", bet("b2", "r1", 2)),                                   # known from here on
           ("CASINO", bet("b2", "r1", 2)),                                   # a retry, counted once
           ("CASINO", bet("b2", "r1", 2, amount=30.0, wager_amount=30.0)),   # a conflicting duplicate
           ("CASINO", bet("b0", "r1", 0.5)),                                 # earlier: moves started_at
           ("CASINO", bet("b3", "r1", 3, currency="USD")),                   # currency mismatch
           ("CASINO", bet("bad", "r1", 3, currency=None)),                   # schema error: changes nothing
           ("CASINO", bet("b1", "r1", 4, status="Rollback")),                # reverses b1
           ("CASINO", bet("b1", "r1", 4, status="Rollback")),                # the rollback's retry
           ("CASINO", bet("zz", "r1", 4, status="Rollback")),                # reverses nothing
           ("CASINO", win("w1", "r1", 5, is_round_end=True)),                # closes r1
           ("CASINO", bet("b4", "r1", 6)),                                   # after the end
           ("CASINO", win("w2", "r2", 7)),                                   # win without a bet
           ("CASINO", bet("b5", "r3", 8, game_id="other")),
           ("CASINO", bet("b6", "r3", 9)),                                   # game mismatch
           ("CASINO", win("w3", "r3", 10, is_round_end=True))]
    return out


def judged(db: str, make_settings, batches: list[list[tuple[str, dict]]]):
    rt = Runtime(make_settings(db=db, severity=["latency.budget=off", "user.unknown=warning"]))
    try:
        verdicts = []
        for batch in batches:
            verdicts += rt.intake.judge([Envelope("rest", json.dumps(p).encode(), m) for m, p in batch])
        shown = [(v.valid, v.duplicate, sorted((x.rule, x.severity, x.path, x.message) for x in v.violations))
                 for v in verdicts]
        rounds = rt.store.read("SELECT * FROM rounds ORDER BY user_id, round_id")
        activities = rt.store.read("SELECT * FROM activities ORDER BY activity_id")
        counts = rt.store.counts()
        return shown, [tuple(r) for r in rounds], [tuple(r) for r in activities], counts
    finally:
        rt.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_one_batch_judges_and_keeps_what_one_message_a_batch_does(backend, make_settings, tmp_path, request):
    """One message a batch, then the same feed in two batches."""
    items = feed()
    if backend == "sqlite":
        alone_db, together_db = str(tmp_path / "alone.db"), str(tmp_path / "together.db")
    else:
        alone_db = request.getfixturevalue("pg_url")
        together_db = None
    alone = judged(alone_db, make_settings, [[i] for i in items])
    if together_db is None:  # the same schema again, emptied: one PostgreSQL schema per test
        rt = Runtime(make_settings(db=alone_db))
        rt.store.clear()
        rt.close()
        together_db = alone_db
    # two batches: the second's prefetch finds the rounds and activities the first stored
    together = judged(together_db, make_settings, [items[:7], items[7:]])
    assert together[0] == alone[0]
    assert together[1] == alone[1] and together[2] == alone[2]
    assert together[3] == alone[3]
    rules = {r for _, _, found in alone[0] for r, *_ in found}
    assert {"user.unknown", "activity.retry", "activity.duplicate", "round.currency_mismatch", "schema.required",
            "round.rollback_unknown", "round.after_end", "round.win_without_bet", "round.game_mismatch"} <= rules
    r1 = next(r for r in alone[1] if r[1] == "r1")
    assert r1[4] == "closed" and r1[10] == at(0.5).replace("Z", "") + "Z"  # started_at moved to b0's time


def test_the_writer_leaves_wal_checkpoints_to_their_own_thread(tmp_path, make_settings):
    db = str(tmp_path / "wal.db")
    rt = Runtime(make_settings(db=db, severity=["latency.budget=off"]))
    try:
        assert rt.store._writer.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == SAFETY_PAGES
        for b in range(20):
            rt.intake.judge([Envelope("rest", json.dumps(casino_event(round_id=f"c{b}")).encode(), "CASINO")
                             for _ in range(100)])
        deadline = time.monotonic() + 30
        while rt.store._checkpointer.checkpoints == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert rt.store._checkpointer.checkpoints > 0
    finally:
        rt.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 2000


def test_a_process_killed_while_checkpointing_keeps_every_batch_it_returned(tmp_path):
    """SIGKILL mid-load: every batch judge() returned for is in the file when it is opened again."""
    db = tmp_path / "killed.db"
    code = textwrap.dedent(f"""
        import json, sys
        from simulator.core.envelope import Envelope
        from simulator.runtime import Runtime
        from simulator.settings import load_settings
        from tests.conftest import casino_event
        rt = Runtime(load_settings(None, env={{}}, db={str(db)!r}, port=0, severity=["latency.budget=off"]))
        b = 0
        while True:
            rt.intake.judge([Envelope("rest", json.dumps(casino_event(activity_id=f"k{{b}}-{{i}}",
                             round_id=f"k{{b}}")).encode(), "CASINO") for i in range(50)])
            b += 1
            print(b, flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": os.getcwd()}, cwd=os.getcwd())
    try:
        returned = 0
        for line in proc.stdout:
            returned = int(line)
            if returned >= 120:
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert stored >= 50 * returned and stored % 50 == 0


def test_a_caller_of_one_judges_the_stateless_part_before_it_takes_the_lock(make_settings, monkeypatch):
    """REST threads, and a broker's batch, parse, validate and run the stateless rules outside intake's lock;
    a bug there is still that message's own ftsim.internal verdict, and the others are judged."""
    from simulator.contract import rules

    rt = Runtime(make_settings(db=":memory:", severity=["latency.budget=off"]))
    held = []

    def probe(facts):
        held.append(rt.intake._lock.locked())
        if facts.payload.get("activity_id") == "bad":
            raise KeyError("a bug")
        return ()

    monkeypatch.setattr(rules, "RULES", rules.RULES + [probe])
    try:
        ok = rt.intake.one(Envelope("rest", json.dumps(casino_event(activity_id="fine")).encode(), "CASINO"))
        bad = rt.intake.one(Envelope("rest", json.dumps(casino_event(activity_id="bad")).encode(), "CASINO"))
        assert held == [False, False]
        assert ok.valid and ok.id and not bad.valid and bad.id
        assert [v.rule for v in bad.violations] == ["ftsim.internal"] and "KeyError" in bad.violations[0].message
        rt.intake.judge([Envelope("rabbit", json.dumps(casino_event()).encode(), "CASINO")])
        assert held[-1] is False  # a broker's batch too: all of it first, then the books, with its rows read at once
        assert rt.store.counts()["received"] == 3
    finally:
        rt.close()
