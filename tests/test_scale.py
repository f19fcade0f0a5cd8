"""Nothing a reader asks for grows with the table: rejections are counts plus a bounded sample, the summary
and the page read counters kept as messages are written, and the query API's pages are bounded in bytes.

"Does not grow" is measured in SQLite virtual-machine steps (a progress handler), never in time.
"""
import json
import os
import sqlite3
import threading
from datetime import datetime, timedelta, timezone


from simulator.report import query
from simulator import report
from simulator.report.readiness import Checklist
from simulator.runtime import Runtime
from simulator.contract.registry import load_registry
from simulator.store import MessageRecord, open_store
from simulator.types.casino import tables
from simulator.core.violations import Violation

from tests.conftest import Client, casino_event, judge_with

T0 = datetime(2030, 1, 1, 12, 0, 0, tzinfo=timezone.utc)


def stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# -- 5: rejections ----------------------------------------------------------------------------------------

def test_a_flood_of_401s_with_huge_paths_keeps_counts_and_a_small_sample(start_server, tmp_path):
    db = tmp_path / "flood.db"
    server = start_server(db=str(db), api_key="s3cret")
    anonymous = Client(server.url)
    path = "/api/messages/" + "x" * 30_000
    for _ in range(300):
        status, _ = anonymous.get(path)
        assert status == 401
    status, summary = Client(server.url, {"X-Api-Key": "s3cret"}).get("/api/summary")
    assert status == 200 and summary["rejected"] == {"transport.auth": 300}
    conn = sqlite3.connect(db)
    try:
        kept, longest = conn.execute("SELECT COUNT(*), MAX(LENGTH(detail)) FROM rejections").fetchone()
        assert kept <= 20 and longest <= 200
        assert conn.execute("SELECT n FROM tally_rejections WHERE channel = 'api'").fetchone() == (300,)
    finally:
        conn.close()
    # 300 x 30 KB would be 9 MB; the WAL beside it is bounded by SQLite's checkpoint (about 4 MB), not by us
    assert os.path.getsize(db) < 1_000_000


def test_rejection_counts_keep_first_and_last_seen_and_the_newest_details(db_target):
    store = open_store(db_target, tables=load_registry().tables())
    try:
        for i in range(50):
            store.add_rejection("rest", T0 + timedelta(seconds=i), "transport.size", f"request {i} " + "y" * 500)
        store.add_rejection("rest", T0, "transport.media_type", "text/plain")
        assert store.rejection_counts() == [("rest", "transport.media_type", 1), ("rest", "transport.size", 50)]
        samples = store.rejection_samples(rule="transport.size")
        assert len(samples) == 20 and samples[0]["detail"].startswith("request 49 ")
        assert all(len(s["detail"]) <= 200 for s in samples)
        (first, last), = store._rows("SELECT first_seen, last_seen FROM tally_rejections WHERE rule = 'transport.size'")
        assert first == stamp(T0) and last == stamp(T0 + timedelta(seconds=49))
    finally:
        store.close()


# -- 7: bounded pages -------------------------------------------------------------------------------------

def test_messages_stop_at_the_byte_budget_and_paging_reaches_every_one(start_server):
    budget = 2 * 1024 * 1024
    server = start_server(page_bytes=budget)
    client = Client(server.url)
    for i in range(9):  # ~700 KB each: a page of 10,000 would be 6 MB
        event = casino_event(activity_id=f"big-{i}", meta={"blob": chr(ord("a") + i) * 700_000})
        assert client.post_event(event)[0] == 200
    seen, offset, pages = [], 0, 0
    while offset is not None:
        import urllib.request

        with urllib.request.urlopen(f"{server.url}/api/messages?limit=10000&offset={offset}", timeout=30) as resp:
            body = resp.read()
        assert len(body) <= budget + 64 * 1024
        page = json.loads(body)
        assert page["total"] == 9 and page["messages"]
        assert page["truncated"] == (page["next_offset"] is not None)
        seen += [m["payload"]["activity_id"] for m in page["messages"]]
        offset, pages = page["next_offset"], pages + 1
    assert seen == [f"big-{i}" for i in range(9)] and pages >= 3


def test_a_page_by_rule_within_the_budget_on_either_store(db_target):
    store = open_store(db_target, tables=load_registry().tables())
    try:
        with store.batch() as tx:
            for i in range(30):
                flagged = [Violation("schema.required", "/a", "x"), Violation("schema.required", "/b", "x")]
                tx.add_message(MessageRecord("rest", T0, "CASINO", b'{"pad": "%s"}' % (b"z" * 100_000), "t",
                                             "casino", f"a{i}", None, None, i % 2 == 1, False,
                                             flagged if i % 2 == 0 else [], None, None))
        got, offset = [], 0
        while offset is not None:
            page = store.message_page(max_bytes=350_000, rule="schema.required", limit=1000, offset=offset)
            assert 1 <= len(page["messages"]) <= 3 and page["total"] == 15
            got += [m["activity_id"] for m in page["messages"]]
            offset = page["next_offset"]
        assert got == [f"a{i}" for i in range(0, 30, 2)]
    finally:
        store.close()


def test_sessions_are_paged(client):
    for user in ("u1", "u2", "u3", "u4", "u5"):
        assert client.post_event(casino_event(user_id=user))[0] == 200
    got, offset = [], 0
    while offset is not None:
        status, page = client.get(f"/api/sessions?limit=2&offset={offset}")
        assert status == 200 and len(page["sessions"]) <= 2
        got += [s["user_id"] for s in page["sessions"]]
        offset = page["next_offset"]
    assert got == ["u1", "u2", "u3", "u4", "u5"]


# -- 8: counters ------------------------------------------------------------------------------------------

def _fill(store, n: int, start: int = 0, channel: str = "rest") -> None:
    """n messages through the store's own write path: a mix of valid, warned, invalid and retried."""
    with store.batch() as tx:
        for i in range(start, start + n):
            violations = []
            if i % 7 == 0:
                violations.append(Violation("payload.unknown_field", "/extra", "x", "warning"))
            if i % 11 == 0:
                violations.append(Violation("schema.required", "/amount", "x", "error"))
                violations.append(Violation("schema.required", "/currency", "x", "error"))
            if i % 13 == 0:
                violations.append(Violation("activity.retry", "/activity_id", "x", "info"))
            valid = not any(v.severity == "error" for v in violations)
            at = T0 + timedelta(milliseconds=37 * i)
            tx.add_message(MessageRecord(channel, at, "CASINO", b'{"n": %d}' % i, "test", "casino",
                                         f"act-{i % 997}", f"user-{i % 5}", None, valid, i % 13 == 0, violations,
                                         float(i % 250) + 0.25, None))


def _truth(store) -> dict:
    """The figures the old code computed with a pass over the tables: what the counters must equal."""
    rows = store._rows
    received, valid, dups = rows("SELECT COUNT(*), COALESCE(SUM(valid), 0), COALESCE(SUM(duplicate), 0) "
                                 "FROM messages")[0]
    return {
        "received": received, "valid": int(valid), "duplicates": int(dups),
        "by_channel": {c: {"received": n, "valid": int(ok), "invalid": n - int(ok)} for c, n, ok in
                       rows("SELECT channel, COUNT(*), SUM(valid) FROM messages GROUP BY channel")},
        "rules": sorted(tuple(r) for r in rows("SELECT rule, severity, COUNT(DISTINCT message_id) FROM violations "
                                               "GROUP BY rule, severity")),
        "latency": rows("SELECT COUNT(*) FROM messages WHERE latency_ms IS NOT NULL")[0][0],
        "lost": rows("SELECT COUNT(*) FROM (SELECT activity_id FROM messages WHERE activity_id IS NOT NULL "
                     "GROUP BY activity_id HAVING SUM(valid) = 0) r")[0][0],
        "minutes": [(b, n, n - int(ok)) for b, n, ok in rows(
            "SELECT SUBSTR(received_at, 1, 16) AS b, COUNT(*), SUM(valid) FROM messages GROUP BY b ORDER BY b")],
        "rounds": dict(rows("SELECT status, COUNT(*) FROM rounds GROUP BY status")),
    }


def _counted(store) -> dict:
    c = store.counts()
    return {
        "received": c["received"], "valid": c["valid"], "duplicates": c["duplicates"], "by_channel": c["by_channel"],
        "rules": sorted(store.rule_counts()),
        "latency": sum(store.latency_histogram([1.0, 100.0])),
        "lost": store.refused_activities(3)[0],
        "minutes": [(p["at"], p["received"], p["invalid"]) for p in store.activity_timeline(16)],
        "rounds": {k: v for k, v in c["states"].get("round", {}).items() if v},
    }


def test_counters_equal_a_pass_over_the_tables_across_restart_and_clear(db_target, make_settings):
    settings = make_settings(db=db_target, severity=["latency.budget=off"])
    rt = Runtime(settings)
    try:
        _fill(rt.store, 700)
        send = judge_with(rt)
        for i in range(20):  # rounds through intake: open, then half of them closed
            send(casino_event(round_id=f"r{i}", activity_id=f"b{i}"))
            if i % 2:
                send(casino_event(round_id=f"r{i}", activity_id=f"w{i}", type="Win", is_round_end=True))
        send(casino_event(activity_id="lost-1", amount="oops"))
        assert _counted(rt.store) == _truth(rt.store)
        assert rt.store.refused_activities(100)[1][-1]["activity_id"] == "lost-1"
        send(casino_event(activity_id="lost-1"))  # delivered again, valid: no longer lost
        assert _counted(rt.store) == _truth(rt.store)
    finally:
        rt.close()
    rt = Runtime(settings)  # a restart reads the same counters
    try:
        assert _counted(rt.store) == _truth(rt.store) and rt.store.state_counts("round") == {"open": 11, "closed": 10}
        before = rt.store.counts()
        rt.store.recount()
        assert rt.store.counts() == before
        rt.store.clear()
        assert rt.store.counts()["received"] == 0 and rt.store.latency_quantiles((0.5,)) == [None]
        _fill(rt.store, 50)
        assert _counted(rt.store) == _truth(rt.store)
    finally:
        rt.close()


def test_lost_activities_within_one_transaction(db_target):
    store = open_store(db_target, tables=load_registry().tables())
    bad = [Violation("schema.required", "/currency", "x")]
    try:
        with store.batch() as tx:
            for activity, valid in (("A", False), ("A", True), ("B", True), ("B", False), ("C", False),
                                    ("C", False)):
                tx.add_message(MessageRecord("rest", T0, "CASINO", b"{}", "t", "casino", activity, "u", None,
                                             valid, False, [] if valid else bad, None, None))
        total, examples = store.refused_activities()
        assert total == 1 and [(e["activity_id"], e["deliveries"]) for e in examples] == [("C", 2)]
        assert _counted(store)["lost"] == _truth(store)["lost"]
    finally:
        store.close()


def test_two_instances_on_one_postgresql_keep_one_set_of_counters(pg_url, make_settings):
    settings = make_settings(db=pg_url, severity=["latency.budget=off"])
    a, b = Runtime(settings), Runtime(settings)
    try:
        feed = [casino_event(round_id=f"r{i}", activity_id=f"a{i}", is_round_end=i % 3 == 0) for i in range(40)]
        feed += [casino_event(activity_id=f"bad{i}", currency=None) for i in range(10)]
        threads = [threading.Thread(target=lambda rt=rt: [judge_with(rt)(e, channel=rt is a and "rest" or "kafka")
                                                          for e in feed]) for rt in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for rt in (a, b):
            assert _counted(rt.store) == _truth(rt.store)
        assert a.store.counts()["received"] == 100 and a.store.refused_activities()[0] == 10
    finally:
        a.close()
        b.close()


def test_a_database_from_before_the_counters_is_counted_on_open(tmp_path):
    db = str(tmp_path / "old.db")
    store = open_store(db, tables=load_registry().tables())
    _fill(store, 300)
    store.add_rejection("rest", T0, "transport.auth", "GET /x")
    truth = _truth(store)
    store._writer.execute("DELETE FROM tally_meta")  # what a database written before the counters lacks
    store._writer.execute("DELETE FROM tally_channels")
    store.close()
    store = open_store(db, tables=load_registry().tables())
    try:
        assert _counted(store) == truth and store.rejection_counts() == [("rest", "transport.auth", 1)]
    finally:
        store.close()


def test_quantiles_come_from_the_histogram_within_one_percent(tmp_path):
    store = open_store(str(tmp_path / "q.db"))
    try:
        with store.batch() as tx:
            for i in range(1, 1001):
                tx.add_message(MessageRecord("rest", T0, "CASINO", b"{}", "t", "casino", None, None, None, True,
                                             False, [], i * 1.2345, None))
        p50, p99 = store.latency_quantiles((0.5, 0.99))
        assert abs(p50 - 500 * 1.2345) / (500 * 1.2345) < 0.01 and abs(p99 - 990 * 1.2345) / (990 * 1.2345) < 0.01
        assert store.latency_histogram([1000.0]) == [810, 190]  # a bound of three significant digits is exact
    finally:
        store.close()


class Steps:
    """SQLite virtual-machine instructions a reader's connection runs: work done, whatever the machine."""

    def __init__(self, store):
        store.counts()  # opens this thread's reading connection
        self.conn = store._local.conn
        self.n = 0

    def _tick(self):
        self.n += 1
        return 0

    def __call__(self, fn):
        self.n = 0
        self.conn.set_progress_handler(self._tick, 100)
        try:
            fn()
        finally:
            self.conn.set_progress_handler(None, 0)
        return self.n


def test_summary_page_and_report_do_not_grow_with_the_table(make_settings, tmp_path):
    rt = Runtime(make_settings(db=str(tmp_path / "grow.db")))
    try:
        steps = Steps(rt.store)
        work = {
            "summary": lambda: query.summary(rt),
            "report": lambda: report.render(report.build(rt, Checklist()), "json"),
            "marker": rt.store.change_marker,
            "messages": lambda: rt.store.message_page(max_bytes=1 << 20, limit=100),
        }
        _fill(rt.store, 4000)
        small = {name: steps(fn) for name, fn in work.items()}
        _fill(rt.store, 16000, start=4000)
        large = {name: steps(fn) for name, fn in work.items()}
        for name in work:  # five times the messages: the same work, give or take the new time buckets
            assert large[name] <= small[name] * 1.5 + 200, (name, small[name], large[name])
    finally:
        rt.close()


def test_a_filtered_report_reads_only_the_newest_window(make_settings, tmp_path, monkeypatch):
    from simulator.report import document
    from simulator.store import sql

    monkeypatch.setattr(sql, "WINDOW", 1000)
    monkeypatch.setattr(document, "WINDOW", 1000)
    rt = Runtime(make_settings(db=str(tmp_path / "window.db")))
    try:
        _fill(rt.store, 5000)
        doc = report.build(rt, Checklist(), channel="rest")
        assert doc["window"] == 1000
        assert sum(p["received"] for p in doc["timeline"]["points"]) == 1000
        assert doc["summary"]["received"] == 5000  # the cards are the counters, always everything
    finally:
        rt.close()


# -- what each commit writes: the indexes kept to the rows their readers ask for ---------------------------

def test_the_invalid_messages_and_the_open_rounds_are_listed_without_reading_the_rest(make_settings, tmp_path):
    """Their indexes hold only those rows (a commit of valid messages and closed rounds writes no page of
    them); a reader still finds the newest invalid ones, and the open rounds, without a pass over the table."""
    rt = Runtime(make_settings(db=str(tmp_path / "partial.db"), severity=["latency.budget=off"]))
    try:
        send = judge_with(rt)
        steps = Steps(rt.store)
        work = {"invalid": lambda: rt.store.messages(valid=False, limit=5, newest_first=True, count=False),
                "open": lambda: tables.rounds(rt.store, status="open", limit=3)}

        def play(lo, hi):
            for i in range(lo, hi):
                send(casino_event(round_id=f"r{i}", activity_id=f"b{i}"))
                if i % 50:  # every 50th round stays open
                    send(casino_event(round_id=f"r{i}", activity_id=f"w{i}", type="Win", is_round_end=True))
            send(casino_event(activity_id=f"bad{hi}", amount="oops"))

        play(0, 100)
        small = {name: steps(fn) for name, fn in work.items()}
        play(100, 1000)
        large = {name: steps(fn) for name, fn in work.items()}
        assert [m["activity_id"] for m in work["invalid"]()[0]] == ["bad1000", "bad100"]
        assert [r.round_id for r in work["open"]()] == ["r0", "r50", "r100"]
        for name in work:  # ten times the rows: the same work
            assert large[name] <= small[name] * 1.5 + 50, (name, small[name], large[name])
    finally:
        rt.close()


def test_a_database_with_the_old_indexes_loses_them_and_keeps_its_rows(db_target, make_settings):
    settings = make_settings(db=db_target, severity=["latency.budget=off"])
    rt = Runtime(settings)
    try:
        send = judge_with(rt)
        send(casino_event(round_id="r1", activity_id="b1"))
        send(casino_event(activity_id="bad", amount="oops"))
        with rt.store.batch() as tx:  # the indexes every database had before they were cut
            for ddl in ("CREATE INDEX messages_valid ON messages (valid)",
                        "CREATE INDEX messages_latency ON messages (latency_ms)",
                        "CREATE INDEX rounds_status ON rounds (status)"):
                tx.execute(ddl)
    finally:
        rt.close()
    rt = Runtime(settings)
    try:
        names = _index_names(rt.store)
        assert {"messages_valid", "messages_latency", "rounds_status"}.isdisjoint(names), names
        assert {"messages_invalid", "rounds_open"} <= names, names
        assert [m["activity_id"] for m in rt.store.messages(valid=False)[0]] == ["bad"]
        assert [r.round_id for r in tables.rounds(rt.store, status="open")] == ["r1"]
    finally:
        rt.close()


def _index_names(store) -> set:
    if store.ph == "?":
        return {n for n, in store._rows("SELECT name FROM sqlite_master WHERE type = 'index'")}
    return {n for n, in store._rows("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")}
