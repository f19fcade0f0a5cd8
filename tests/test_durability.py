"""Only what is durable is acknowledged: synced commits, and a database file that vanished is noticed.

Real SQLite files, real HTTP to the in-process server (or ftsim as a child process, killed for real), real
RabbitMQ for the broker side.
"""
from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
from datetime import datetime, timezone
from urllib.parse import urlsplit

import pytest

from simulator.core.errors import ConfigError, StoreError
from simulator.settings import load_settings
from simulator.store import open_store
from simulator.clients.publish import publish_rabbit

from tests.brokers import channel_state, queue_depth, received, wait_for
from tests.conftest import Client, casino_event


def post(url: str, event: dict) -> tuple[int, dict, dict]:
    """POST one event over a bare connection; (status, body, headers), so Retry-After can be read."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("POST", "/v1/integration/casino", body=json.dumps(event).encode(),
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read()), {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()


def stored_ids(path) -> set[str]:
    """activity_ids in a SQLite file, read by a process of its own (this one may hold the inode open)."""
    code = ("import json, sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
            "print(json.dumps([r[0] for r in c.execute('SELECT activity_id FROM messages')]))")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True,
                         timeout=60)
    return set(json.loads(out.stdout))


def record(activity_id: str):
    from simulator.store import MessageRecord

    return MessageRecord("rest", datetime.now(timezone.utc), "CASINO", b"{}", "t", "casino", activity_id, "u",
                         None, True, False, [], 1.0, None)


def spy_syncs(monkeypatch) -> list[int]:
    """The WAL's size at each of ftsim's fdatasyncs (the real one still runs)."""
    from simulator.store import walsync

    real, sizes = walsync.os.fdatasync, []

    def spy(fd):
        sizes.append(os.fstat(fd).st_size)
        real(fd)

    monkeypatch.setattr(walsync.os, "fdatasync", spy)
    return sizes


def assert_refused(status: int, body: dict, headers: dict, words: str) -> None:
    assert status == 503, (status, body)
    assert body["error"] == "Service Unavailable" and words in body["message"], body
    assert "restarted" in body["message"] and "Traceback" not in body["message"]
    assert int(headers["retry-after"]) > 0


class TestDurabilitySetting:
    def test_sqlite_syncs_every_commit_by_default(self, tmp_path, monkeypatch):
        """ftsim's own fdatasync of the WAL, after the commit wrote its frames and before batch() returns (the
        writer commits at NORMAL, so SQLite's own sync inside the commit does not hold up the next batch)."""
        syncs = spy_syncs(monkeypatch)
        store = open_store(str(tmp_path / "a.db"))
        try:
            assert store._writer.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL, and our own sync
            assert store._writer.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert store.health() == {"ok": True, "error": None, "kind": "sqlite", "durability": "full"}
            for i in range(3):
                with store.batch() as tx:
                    tx.add_message(record(f"a{i}"))
                assert syncs and syncs[-1] == os.path.getsize(tmp_path / "a.db-wal")  # this commit's frames
            assert len(syncs) == 3
        finally:
            store.close()

    def test_a_refused_request_is_recorded_as_durably_as_a_message(self, tmp_path, monkeypatch):
        syncs = spy_syncs(monkeypatch)
        store = open_store(str(tmp_path / "a.db"))
        try:
            store.add_rejection("rest", datetime.now(timezone.utc), "transport.auth", "POST /v1/integration/casino")
            assert syncs == [os.path.getsize(tmp_path / "a.db-wal")]
        finally:
            store.close()

    def test_a_deferred_sync_waits_for_the_caller(self, tmp_path, monkeypatch):
        syncs = spy_syncs(monkeypatch)
        store = open_store(str(tmp_path / "a.db"))
        try:
            with store.batch(sync=False) as tx:
                tx.add_message(record("a"))
            assert syncs == []  # committed, not yet on disk: intake waits outside its lock
            store.sync(tx.ticket)
            assert syncs == [os.path.getsize(tmp_path / "a.db-wal")]
            store.sync(tx.ticket)  # already on disk: no second fsync
            assert len(syncs) == 1
        finally:
            store.close()

    def test_a_failed_fsync_acknowledges_nothing_until_restart(self, tmp_path, monkeypatch):
        """A disk error cannot be made to happen here, so the fsync is the one fake: after it fails, the pages
        may be gone whatever a second fsync says, so this batch and every later one are refused."""
        from simulator.store import walsync

        def broken(fd):
            raise OSError(5, "Input/output error")

        store = open_store(str(tmp_path / "a.db"))
        try:
            monkeypatch.setattr(walsync.os, "fdatasync", broken)
            with pytest.raises(StoreError, match="could not be flushed to disk .Input/output error.*restarted"):
                with store.batch() as tx:
                    tx.add_message(record("a"))
            monkeypatch.undo()
            with pytest.raises(StoreError, match="could not be flushed"):
                with store.batch() as tx:
                    tx.add_message(record("b"))
            assert store.health()["ok"] is False and "flushed" in store.health()["error"]
        finally:
            store.close()

    def test_commits_waiting_at_once_share_an_fsync(self, tmp_path, monkeypatch):
        """The first waiter's fsync is held until every thread has committed; each thread returns only once
        an fsync that began after its commit returned, and the others need at most one more between them."""
        from simulator.store import walsync

        real, release, began = walsync.os.fdatasync, threading.Event(), []
        store = open_store(str(tmp_path / "a.db"))
        committed = []

        def held(fd):
            began.append(store._wal._committed)
            release.wait(30)
            real(fd)

        monkeypatch.setattr(walsync.os, "fdatasync", held)

        def writer(i):
            with store.batch(sync=False) as tx:
                tx.add_message(record(f"t{i}"))
            committed.append(tx.ticket)
            store.sync(tx.ticket)
            assert store._wal._synced >= tx.ticket

        try:
            threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
            for t in threads:
                t.start()
            wait_for(lambda: len(committed) == 8, timeout=30)
            release.set()
            for t in threads:
                t.join(30)
            assert sorted(committed) == list(range(1, 9)) and len(began) <= 2, began
            assert began[-1] == 8  # the last fsync began after the last commit
        finally:
            store.close()

    def test_normal_is_there_for_load_tests_that_accept_the_risk(self, tmp_path):
        store = open_store(str(tmp_path / "a.db"), "normal")
        try:
            assert store._writer.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
            assert store.health()["durability"] == "normal"
        finally:
            store.close()

    def test_the_setting_comes_from_file_environment_and_flag(self, tmp_path):
        assert load_settings(None, env={}).durability == "full"
        config = tmp_path / "ftsim.toml"
        config.write_text('durability = "normal"\n')
        assert load_settings(str(config), env={}).durability == "normal"
        assert load_settings(str(config), env={"FTSIM_DURABILITY": "full"}).durability == "full"
        assert load_settings(None, env={"FTSIM_DURABILITY": "full"}, durability="normal").durability == "normal"
        with pytest.raises(ConfigError, match="durability: expected full or normal, got 'fast'"):
            load_settings(None, env={"FTSIM_DURABILITY": "fast"})
        from simulator.cli import build_parser
        from simulator.commands.serve import settings_from

        args = build_parser().parse_args(["serve", "--durability", "normal"])
        assert settings_from(args).durability == "normal"

    def test_postgres_commits_wait_for_the_disk_unless_told_otherwise(self, pg_url):
        for durability, setting in (("full", "on"), ("normal", "off")):
            store = open_store(pg_url, durability)
            try:
                assert store._writer.execute("SHOW synchronous_commit").fetchone()[0] == setting
                store._writer.rollback()
                health = store.health()
                assert (health["kind"], health["durability"], health["synchronous_commit"]) == (
                    "postgresql", durability, setting)
            finally:
                store.close()

    def test_the_summary_says_how_durable_the_store_is(self, client):
        store = client.get("/api/summary")[1]["store"]
        assert store == {"ok": True, "error": None, "kind": "sqlite", "durability": "full"}
        items = client.get("/api/report")[1]["checklist"]["items"]
        assert "store" not in {i["id"] for i in items}  # a healthy store is not a checklist item


class TestVanishedFile:
    def test_a_deleted_file_gets_503_not_200_until_restart(self, start_server, tmp_path):
        db = tmp_path / "ftsim.db"
        server = start_server(db=str(db))
        assert post(server.url, casino_event(activity_id="before"))[0] == 200
        db.unlink()
        assert_refused(*post(server.url, casino_event(activity_id="after")), "was deleted or moved away")
        assert_refused(*post(server.url, casino_event(activity_id="later")), "was deleted or moved away")
        assert not db.exists()  # no reader quietly made an empty file where the old one was
        summary = Client(server.url).get("/api/summary")[1]
        assert summary["store"]["ok"] is False and "deleted" in summary["store"]["error"]
        checklist = Client(server.url).get("/api/report")[1]["checklist"]
        [item] = [i for i in checklist["items"] if i["id"] == "store"]
        assert item["status"] == "failed" and "deleted" in item["detail"] and not checklist["passed"]
        status, page = Client(server.url).get("/")
        assert status == 200 and b"deleted or moved away" in page  # the live page says so too
        assert Client(server.url).request("DELETE", "/api/messages")[0] == 503
        server.stop()

        assert not os.path.exists(f"{db}-wal") and list(tmp_path.glob("ftsim.db-wal.vanished-*"))
        again = start_server(db=str(db))  # a restart starts a new, empty ledger at the path
        assert Client(again.url).get("/api/summary")[1]["received"] == 0
        assert post(again.url, casino_event(activity_id="after"))[0] == 200
        assert stored_ids(db) == {"after"}

    def test_killed_before_it_noticed_the_left_wal_stops_the_restart(self, ftsim_process, tmp_path):
        db = tmp_path / "ftsim.db"
        first = ftsim_process("--db", str(db))
        assert post(first.url, casino_event())[0] == 200
        db.unlink()
        first.kill()  # before any batch could notice and set the WAL aside
        assert os.path.exists(f"{db}-wal")  # replayed onto a new, empty file it would corrupt it
        restart = subprocess.run([sys.executable, "-m", "simulator", "serve", "--port", "0", "--db", str(db)],
                                 capture_output=True, text=True, timeout=60)
        assert restart.returncode == 2 and f"move {db}-wal away" in restart.stderr
        assert not db.exists()
        os.unlink(f"{db}-wal")
        again = ftsim_process("--db", str(db))
        assert post(again.url, casino_event(activity_id="fresh"))[0] == 200
        again.kill()
        assert stored_ids(db) == {"fresh"}

    def test_a_deleted_wal_file_is_noticed_too(self, start_server, tmp_path):
        db = tmp_path / "ftsim.db"
        server = start_server(db=str(db))
        assert post(server.url, casino_event())[0] == 200
        os.unlink(f"{db}-wal")
        assert_refused(*post(server.url, casino_event()), "ftsim.db-wal was deleted")

    def test_a_replaced_file_gets_503_and_a_restart_serves_the_replacement(self, start_server, tmp_path):
        db, other = tmp_path / "ftsim.db", tmp_path / "other.db"
        store = open_store(str(other))
        store.close()
        server = start_server(db=str(db))
        assert post(server.url, casino_event(activity_id="old"))[0] == 200
        os.replace(other, db)
        assert_refused(*post(server.url, casino_event(activity_id="new")), "was replaced by another file")
        assert Client(server.url).get("/api/summary")[1]["store"]["ok"] is False
        server.stop()
        again = start_server(db=str(db))
        assert post(again.url, casino_event(activity_id="new"))[0] == 200
        assert stored_ids(db) == {"new"}

    @pytest.mark.parametrize("with_wal", [True, False], ids=["with-its-wal", "alone"])
    def test_moved_away_under_load_every_200_is_in_the_moved_file(self, ftsim_process, tmp_path, with_wal):
        """Senders keep posting while the file is moved: each 200 must be in the file that was moved."""
        db, moved = tmp_path / "ftsim.db", tmp_path / "moved.db"
        ftsim = ftsim_process("--db", str(db))
        ok, answers, lock, stop = set(), [], threading.Lock(), threading.Event()

        def send(worker: int):
            n = 0
            while not stop.is_set():
                n += 1
                activity = f"w{worker}-{n}"
                status, body, _ = post(ftsim.url, casino_event(activity_id=activity))
                with lock:
                    answers.append(status)
                    if status == 200:
                        ok.add(activity)

        senders = [threading.Thread(target=send, args=(i,)) for i in range(4)]
        for t in senders:
            t.start()
        try:
            wait_for(lambda: len(ok) >= 100, 60, "100 answers 200")
            os.rename(db, moved)  # an operator moves the database away mid-stream
            if with_wal:
                try:
                    os.rename(f"{db}-wal", f"{moved}-wal")
                except FileNotFoundError:  # ftsim's next commit saw the move first and set its WAL aside
                    pass
            wait_for(lambda: answers.count(503) >= 20, 60, "the senders to be refused")
        finally:
            stop.set()
            for t in senders:
                t.join(60)
        ftsim.kill()
        # What ftsim set aside (always when the operator moved the file alone, and when it saw the move
        # between the operator's two renames), the operator puts next to the moved file.
        aside = list(tmp_path.glob("ftsim.db-wal.vanished-*"))
        assert len(aside) == (0 if os.path.exists(f"{moved}-wal") else 1)
        for wal in aside:
            os.rename(wal, f"{moved}-wal")
        assert set(answers) == {200, 503}
        assert ok <= stored_ids(moved)  # every message that got 200 is kept
        assert not db.exists()


@pytest.mark.broker
def test_rabbit_messages_after_the_file_vanished_wait_in_the_queue_for_the_restart(start_server, rabbit_url,
                                                                                    rabbit_queue, tmp_path):
    db = tmp_path / "ftsim.db"
    server = start_server(db=str(db), rabbit=rabbit_url, rabbit_queue=rabbit_queue)
    publish_rabbit(rabbit_url, rabbit_queue, [casino_event(activity_id=f"before-{i}") for i in range(5)])
    wait_for(lambda: received(server) == 5, what="5 judged")
    db.unlink()
    later = [casino_event(activity_id=f"after-{i}") for i in range(7)]
    publish_rabbit(rabbit_url, rabbit_queue, later)
    wait_for(lambda: "was deleted or moved away" in (channel_state(server, "rabbit").get("error") or ""),
             what="the listener to report the vanished file")
    server.stop()
    assert queue_depth(rabbit_url, rabbit_queue) == 7  # nacked, requeued: none acknowledged
    again = start_server(db=str(db), rabbit=rabbit_url, rabbit_queue=rabbit_queue)
    wait_for(lambda: received(again) == 7, what="the 7 consumed after the restart")
    again.stop()
    assert stored_ids(db) == {e["activity_id"] for e in later}
    assert queue_depth(rabbit_url, rabbit_queue) == 0


def test_closing_waits_for_the_fsync_under_way_and_refuses_what_it_did_not_cover(tmp_path, monkeypatch):
    """The descriptor is not closed under a running fsync (its number could be another file's by then), and
    a commit left unsynced at close is not taken as kept."""
    from tests.conftest import hold_fsync

    release, calls = hold_fsync(monkeypatch)
    store = open_store(str(tmp_path / "a.db"))
    with store.batch(sync=False) as tx:
        tx.add_message(record("a"))
    syncing = threading.Thread(target=store.sync, args=(tx.ticket,))
    syncing.start()
    wait_for(lambda: calls, what="the fsync to start")
    closing = threading.Thread(target=store.close)
    closing.start()
    closing.join(0.5)
    assert closing.is_alive() and store._wal._fd is not None  # waiting for the fsync, descriptor open
    release.set()
    closing.join(30)
    syncing.join(30)
    assert store._wal._fd is None
    with pytest.raises(StoreError, match="closed before the WAL"):
        store._wal.wait(tx.ticket + 1)
