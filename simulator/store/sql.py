"""The store in SQL, written once for SQLite and PostgreSQL; dialects differ only in the hooks at the top.

Every message is kept with its raw bytes and verdict; the event types' state (documents, and the tables a
type brings, such as casino's rounds) lives beside it, so a restarted ftsim (or a second one sharing the
database) judges retries, rounds and lifecycles as if it never stopped. The store names no event type.
"""
from __future__ import annotations

import json
import threading
from contextlib import contextmanager

import orjson

from simulator.core.envelope import Verdict
from simulator.core.errors import StoreError
from simulator.core.timefmt import iso
from simulator.core.violations import Violation
from simulator.store.base import MessageRecord
from simulator.store import tally
from simulator.store.calls import OperatorCalls

# The schema for every dialect; `types` fills in what differs (see each dialect's TYPES).
DDL = """
CREATE TABLE IF NOT EXISTS messages (
  id {serial}, channel TEXT NOT NULL, received_at TEXT NOT NULL, marker TEXT, raw {blob} NOT NULL,
  source TEXT, event TEXT, activity_id TEXT, user_id TEXT, keys TEXT, valid INTEGER NOT NULL,
  duplicate INTEGER NOT NULL, violations TEXT NOT NULL, latency_ms {real}, delivery_key TEXT);
CREATE INDEX IF NOT EXISTS messages_channel ON messages (channel);
CREATE INDEX IF NOT EXISTS messages_user ON messages (user_id);
CREATE INDEX IF NOT EXISTS messages_invalid ON messages (id) WHERE valid = 0;
CREATE INDEX IF NOT EXISTS messages_delivery ON messages (delivery_key) WHERE delivery_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_activity ON messages (activity_id, valid);
CREATE TABLE IF NOT EXISTS violations (
  message_id BIGINT NOT NULL, rule TEXT NOT NULL, severity TEXT NOT NULL, path TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS violations_rule ON violations (rule, message_id);
CREATE INDEX IF NOT EXISTS violations_severity ON violations (severity, message_id);
CREATE TABLE IF NOT EXISTS entities (
  kind TEXT NOT NULL, key TEXT NOT NULL, user_id TEXT, status TEXT, at TEXT, doc TEXT NOT NULL,
  PRIMARY KEY (kind, key)){without_rowid};
CREATE INDEX IF NOT EXISTS entities_user ON entities (kind, user_id);
CREATE INDEX IF NOT EXISTS entities_status ON entities (kind, status);
CREATE TABLE IF NOT EXISTS rejections (
  id {serial}, channel TEXT NOT NULL, received_at TEXT NOT NULL, rule TEXT NOT NULL, detail TEXT);
CREATE INDEX IF NOT EXISTS rejections_rule ON rejections (channel, rule, id);
DROP INDEX IF EXISTS messages_valid;
DROP INDEX IF EXISTS messages_latency;
""" + tally.DDL

SAMPLE = 20  # rejections: the newest details kept per channel and rule (the counts keep everything)
DETAIL = 200  # characters of a rejection's detail kept (a 401's path can be as long as the server allows)
WINDOW = 100_000  # filtered report views read the messages with the newest WINDOW ids, not the whole table
OVERHEAD = 512  # bytes a message's fields add to its payload in a JSON response, for the byte budget
MESSAGE_COLUMNS = ("m.id, m.channel, m.received_at, m.activity_id, m.user_id, m.keys, m.valid, "
                   "m.violations, m.raw, m.source, m.duplicate, m.latency_ms, m.marker")


class SQLStore(OperatorCalls):
    """Dialect hooks: `ph` (placeholder), `types` (for DDL), `_connect()`, `_begin(conn)`, `_end()`, `_committed()`,
    `_written()` and `sync(ticket)`, `_returning_id()`, `_inserted_id(cur)`, `_message_ids(cur)`, `_reading()`,
    `health()`."""

    ph = "?"
    errors: tuple = ()
    types: dict = {}

    def __init__(self, tables=()):
        """tables: the event types' own SQL tables (contract.plugin.Tables), created and cleared with ours."""
        self.tables = tuple(tables)
        self._write_lock = threading.RLock()
        self._writer = self._connect()
        with self._write_lock:
            cur = self._writer.cursor()
            for statement in self._ddl():
                cur.execute(statement)
            self._writer.commit()
        self._ensure_tallies()

    def _ensure_tallies(self):
        """A database from before the counters (or one whose counters were never built) is counted once."""
        with self.batch() as tx:
            tx._cur.execute("SELECT n FROM tally_meta WHERE name = 'version'")
            if tx._cur.fetchone() is None:
                self._recount(tx._cur)

    def recount(self) -> None:
        """Rebuild every counter from the rows: for a database written before them, and for tests."""
        with self.batch() as tx:
            self._recount(tx._cur)

    def _recount(self, cur):
        q = self._q
        for table in tally.TABLES:
            cur.execute(f"DELETE FROM {table}")
        deltas, last = tally.Deltas(), 0
        while True:  # in id order, a chunk at a time: memory stays flat on a big table
            cur.execute(q("SELECT id, channel, received_at, valid, duplicate, latency_ms, violations, event, user_id "
                          "FROM messages WHERE id > ? ORDER BY id LIMIT 5000"), (last,))
            rows = cur.fetchall()
            if not rows:
                break
            for mid, channel, at, valid, dup, latency, vjson, event, user_id in rows:
                pairs = [(v["rule"], v["severity"]) for v in json.loads(vjson)]
                deltas.message(channel, at, bool(valid), bool(dup), latency, pairs, event, user_id)
            last = rows[-1][0]
        for t in self.tables:
            for statement in t.recount:
                cur.execute(statement)
        cur.execute("UPDATE rejections SET detail = SUBSTR(detail, 1, %d) WHERE LENGTH(detail) > %d"
                    % (DETAIL, DETAIL))
        cur.execute("INSERT INTO tally_rejections (channel, rule, n, first_seen, last_seen) SELECT channel, rule, "
                    "COUNT(*), MIN(received_at), MAX(received_at) FROM rejections GROUP BY channel, rule")
        cur.execute("SELECT channel, rule FROM tally_rejections")
        for channel, rule in cur.fetchall():
            self._trim_rejections(cur, channel, rule)
        cur.execute("INSERT INTO lost_activities (activity_id, deliveries, first_id, last_id) "
                    "SELECT activity_id, COUNT(*), MIN(id), MAX(id) FROM messages WHERE activity_id IS NOT NULL "
                    "GROUP BY activity_id HAVING SUM(valid) = 0")
        cur.execute("SELECT COUNT(*) FROM lost_activities")
        deltas.meta = {"version": 1, "lost": cur.fetchone()[0]}
        deltas.write(cur, q)

    def _trim_rejections(self, cur, channel, rule):
        cur.execute(self._q("DELETE FROM rejections WHERE channel = ? AND rule = ? AND id <= (SELECT id FROM "
                            "rejections WHERE channel = ? AND rule = ? ORDER BY id DESC LIMIT 1 OFFSET ?)"),
                    (channel, rule, channel, rule, SAMPLE))

    def _ddl(self) -> list[str]:
        text = ";\n".join([DDL, *(t.ddl for t in self.tables)])
        return [s.strip() for s in text.format(**self.types).split(";") if s.strip()] + self._calls_ddl()

    def _q(self, sql: str) -> str:
        return sql if self.ph == "?" else sql.replace("?", self.ph)

    # -- writing -------------------------------------------------------------------------------

    @contextmanager
    def batch(self, *, sync: bool = True):
        """One transaction, committed when the block ends. sync=False: the commit may not be on disk yet when
        the block ends; `tx.ticket` is what `sync(ticket)` waits on before anything is acknowledged (intake
        waits outside its lock, so the next batch is judged while this one reaches the disk)."""
        with self._write_lock:
            conn = self._writer
            try:
                self._begin(conn)
                tx = _Tx(self, conn.cursor())
                yield tx
                tx.write_messages()
                tx.flush()
                tx.found_again()
                tx.deltas.write(tx._cur, self._q)
                conn.commit()
            except self.errors as exc:
                self._rollback(conn)
                raise StoreError(f"store: {exc}") from exc
            except BaseException:
                self._rollback(conn)
                raise
            finally:
                self._end()
            self._committed()
            tx.ticket = self._written()
        if sync:
            self.sync(tx.ticket)

    def _written(self):
        """After a commit: what `sync` must wait for before it is durable (None: it is already)."""
        return None

    def sync(self, ticket) -> None:
        """Return once the commit `ticket` is as durable as the setting promises; StoreError if it cannot be.
        A dialect whose commit is durable when it returns gives None tickets and does nothing here."""

    def disk_idle(self) -> None:
        """Return once the disk is free for the next commit's flush; a dialect that flushes inside its commit
        has nothing to wait for."""

    def _committed(self):
        """Raise StoreError if what was just committed may not be kept after all (the dialect knows)."""

    def _end(self):
        """After a transaction's commit or rollback, whichever: release what `_begin` took beyond it."""

    def _rollback(self, conn):
        try:
            conn.rollback()
        except self.errors:
            pass

    def add_rejection(self, channel, received_at, rule, detail):
        """Counted for ever; only the newest SAMPLE details per channel and rule are kept, each cut to DETAIL
        characters, so a flood of refused requests cannot fill the disk."""
        at = iso(received_at)
        if detail is not None and len(detail) > DETAIL:
            detail = detail[:DETAIL - 1] + "\u2026"
        with self._write_lock:
            conn = self._writer
            try:
                self._begin_counting(conn)
                cur = conn.cursor()
                cur.execute(self._q(
                    "INSERT INTO tally_rejections (channel, rule, n, first_seen, last_seen) VALUES (?, ?, 1, ?, ?) "
                    "ON CONFLICT (channel, rule) DO UPDATE SET n = tally_rejections.n + 1, "
                    "last_seen = excluded.last_seen"), (channel, rule, at, at))
                cur.execute(self._q("INSERT INTO rejections (channel, received_at, rule, detail) "
                                    "VALUES (?, ?, ?, ?)"), (channel, at, rule, detail))
                self._trim_rejections(cur, channel, rule)
                conn.commit()
            except self.errors as exc:
                self._rollback(conn)
                raise StoreError(f"store: {exc}") from exc
            finally:
                self._end()
            self._committed()
            ticket = self._written()
        self.sync(ticket)

    def _begin_counting(self, conn):
        """A rejection's three statements as one transaction; PostgreSQL overrides it (see postgres.py)."""
        self._begin(conn)

    def clear(self):
        with self.batch() as tx:
            names = [n for t in self.tables for n in t.names]
            for table in ("violations", "messages", *names, "entities", "rejections", *tally.TABLES,
                          "operator_calls", "operator_call_rules"):
                tx._cur.execute(f"DELETE FROM {table}")
            tx.deltas.meta["version"] = 1

    # -- reading -------------------------------------------------------------------------------

    def _rows(self, sql, args=()):
        with self._reading() as conn:
            cur = conn.cursor()
            cur.execute(self._q(sql), args)
            return cur.fetchall()

    def messages(self, *, channel=None, valid=None, rule=None, user_id=None, limit=100, offset=0,
                 newest_first=False, count=True):
        """A page of messages and how many the filters select (None when `count` is False: examples)."""
        cond, args = self._where(channel=channel, rule=rule, user_id=user_id, valid=valid)
        total = self._total(cond, args, channel, valid, rule, user_id) if count else None
        rows = self._page(MESSAGE_COLUMNS, channel, valid, rule, user_id, newest_first, limit, offset)
        return [_message(r) for r in rows], total

    def _page(self, columns, channel, valid, rule, user_id, newest_first, limit, offset):
        """Rows of a page in id order. With a rule, the page's ids are found walking that rule's index in
        order (an `IN (all of the rule's messages)` would read every one of them first)."""
        order = "DESC" if newest_first else "ASC"
        if not rule:
            cond, args = self._where(channel=channel, user_id=user_id, valid=valid)
            return self._rows(f"SELECT {columns} FROM messages m{cond} ORDER BY m.id {order} LIMIT ? OFFSET ?",
                              (*args, int(limit), int(offset)))
        cond, args = self._where(channel=channel, user_id=user_id, valid=valid)
        join = (f" JOIN messages m ON m.id = v.message_id{cond} AND" if cond else " WHERE")
        ids = (f"SELECT DISTINCT v.message_id FROM violations v{join} v.rule = ? "
               f"ORDER BY v.message_id {order} LIMIT ? OFFSET ?")
        return self._rows(f"SELECT {columns} FROM messages m WHERE m.id IN ({ids}) ORDER BY m.id {order}",
                          (*args, rule, int(limit), int(offset)))

    def message_page(self, *, max_bytes: int, channel=None, valid=None, rule=None, user_id=None, limit=100,
                     offset=0, newest_first=False) -> dict:
        """Like `messages`, but stops before the page's stored bytes pass max_bytes (at least one message).

        The sizes are read first (LENGTH reads neither SQLite's overflow pages nor PostgreSQL's TOAST), so no
        row is read, decoded or held that the answer does not carry."""
        cond, args = self._where(channel=channel, rule=rule, user_id=user_id, valid=valid)
        total = self._total(cond, args, channel, valid, rule, user_id)
        sizes = self._page("m.id, LENGTH(m.raw) + LENGTH(m.violations)", channel, valid, rule, user_id,
                           newest_first, limit, offset)
        ids, used = [], 0
        for mid, size in sizes:
            cost = int(size) + OVERHEAD
            if ids and used + cost > max_bytes:
                break
            ids.append(mid)
            used += cost
        found = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            for r in self._rows(f"SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.id IN "
                                f"({', '.join('?' * len(chunk))})", chunk):
                found[r[0]] = _message(r)
        items = [found[i] for i in ids if i in found]
        end = int(offset) + len(ids)
        return {"messages": items, "total": total, "truncated": len(ids) < len(sizes),
                "next_offset": end if end < total else None}

    def _total(self, cond, args, channel, valid, rule, user_id) -> int:
        """How many messages the filters select: from the counters unless a user is asked for (an index)."""
        if user_id or (rule and (channel or valid is not None)):
            return self._rows(f"SELECT COUNT(*) FROM messages m{cond}", args)[0][0]
        if rule:
            (n,), = self._rows("SELECT COALESCE(SUM(messages), 0) FROM tally_rules WHERE rule = ?", (rule,))
            return int(n)
        where, targs = (" WHERE channel = ?", (channel,)) if channel else ("", ())
        (received, ok), = self._rows(
            f"SELECT COALESCE(SUM(received), 0), COALESCE(SUM(valid), 0) FROM tally_channels{where}", targs)
        return int({None: received, True: ok, False: received - ok}[valid])

    def read(self, sql: str, args=()) -> list:
        """Rows of a query with ? placeholders: how a type's views read the tables it brought."""
        return self._rows(sql, args)

    def users(self, *, user_id=None, limit=100, offset=0) -> list[dict]:
        """Every user the feed named, from the counters: messages, invalid ones, first and last seen."""
        cond, args = (" WHERE user_id = ?", [user_id]) if user_id else ("", [])
        return [{"user_id": u, "messages": int(n), "invalid": int(bad), "first_seen": f, "last_seen": la}
                for u, n, bad, f, la in self._rows(
                    f"SELECT user_id, messages, invalid, first_at, last_at FROM tally_users{cond} ORDER BY user_id "
                    f"LIMIT ? OFFSET ?", (*args, int(limit), int(offset)))]

    def user_count(self, *, user_id=None) -> int:
        """How many users `users` pages through with the same filter."""
        cond, args = (" WHERE user_id = ?", [user_id]) if user_id else ("", [])
        return int(self._rows(f"SELECT COUNT(*) FROM tally_users{cond}", args)[0][0])

    def user_types(self, user_id: str) -> dict[str, dict]:
        """A user's messages by event type (through the messages' user index)."""
        return {event or "unknown": {"received": int(n), "valid": int(ok or 0)} for event, n, ok in self._rows(
            "SELECT event, COUNT(*), SUM(valid) FROM messages WHERE user_id = ? GROUP BY event", (user_id,))}

    def state_counts(self, kind: str) -> dict[str, int]:
        """How many of a type's things are in each state (casino's rounds: open, closed), from the counters."""
        return {status: int(n) for status, n in self._rows(
            "SELECT status, n FROM tally_states WHERE kind = ?", (kind,))}

    def counts(self) -> dict:
        """The summary's figures, from the counters: a handful of rows however many messages are stored."""
        by_channel, received, valid, dups = {}, 0, 0, 0
        for channel, n, ok, dup in self._rows(
                "SELECT channel, received, valid, duplicates FROM tally_channels ORDER BY channel"):
            if n:
                by_channel[channel] = {"received": int(n), "valid": int(ok), "invalid": int(n) - int(ok)}
            received, valid, dups = received + int(n), valid + int(ok), dups + int(dup)
        by_rule = {}
        for rule, severity, n in self._rows("SELECT rule, severity, messages FROM tally_rules WHERE messages > 0 "
                                            "ORDER BY rule, severity"):
            entry = by_rule.setdefault(rule, {"messages": 0, "severity": severity})
            entry["messages"] += int(n)
        by_type: dict[str, dict] = {}
        for event, channel, n, ok in self._rows("SELECT event, channel, received, valid FROM tally_types"):
            t = by_type.setdefault(event, {"received": 0, "valid": 0, "by_channel": {}})
            t["received"] += int(n)
            t["valid"] += int(ok)
            t["by_channel"][channel] = {"received": int(n), "valid": int(ok)}
        states: dict[str, dict[str, int]] = {}
        for kind, status, n in self._rows("SELECT kind, status, n FROM tally_states"):
            states.setdefault(kind, {})[status] = int(n)
        rejected = {}
        for rule, n in self._rows("SELECT rule, SUM(n) FROM tally_rejections GROUP BY rule ORDER BY rule"):
            rejected[rule] = int(n)
        return {"received": received, "valid": valid, "invalid": received - valid, "duplicates": dups,
                "by_channel": by_channel, "by_type": by_type, "by_rule": by_rule, "states": states,
                "rejected": rejected}

    def latency_quantiles(self, qs):
        """From the latency histogram (three significant digits): each quantile is its bucket's upper bound."""
        buckets = [(le, int(n)) for le, n in self._rows("SELECT le, n FROM tally_latency WHERE n > 0 ORDER BY le")]
        n = sum(c for _, c in buckets)
        out = []
        for q in qs:
            if n == 0:
                out.append(None)
                continue
            k = min(n - 1, max(0, int(round(q * (n - 1)))))
            seen = 0
            for le, c in buckets:
                seen += c
                if seen > k:
                    out.append(le)
                    break
        return out

    def timeline(self, bucket_seconds: int = 60) -> list[dict]:
        """Messages and invalid messages per time bucket of receipt (UTC, bucket start as ISO text)."""
        width = {1: 19, 60: 16, 3600: 13, 86400: 10}.get(bucket_seconds, 16)
        rows = self._rows("SELECT at, received, invalid FROM tally_time WHERE width = ? ORDER BY at", (width,))
        return [{"at": b, "received": int(n), "invalid": int(bad)} for b, n, bad in rows]

    # -- reports: what readiness, `ftsim report` and the live page read ------

    def _where(self, channel=None, rule=None, user_id=None, valid=None, since=None) -> tuple[str, list]:
        """A WHERE clause over messages `m` for the query API's and the reports' filters; `since`: ids above it."""
        where, args = [], []
        if since is not None:
            where.append("m.id > ?")
            args.append(since)
        if channel:
            where.append("m.channel = ?")
            args.append(channel)
        if valid is not None:  # a literal, so the planner may take the partial index of the invalid ones
            where.append("m.valid = 1" if valid else "m.valid = 0")
        if user_id:
            where.append("m.user_id = ?")
            args.append(user_id)
        if rule:
            where.append("m.id IN (SELECT message_id FROM violations WHERE rule = ?"
                         + (" AND message_id > ?)" if since is not None else ")"))
            args.extend((rule, since) if since is not None else (rule,))
        return (" WHERE " + " AND ".join(where)) if where else "", args

    def _window(self) -> int:
        """The id above which the newest WINDOW messages lie: what filtered report views read."""
        (last,), = self._rows("SELECT MAX(id) FROM messages")
        return max(0, (last or 0) - WINDOW)

    def rule_counts(self, *, channel=None, user_id=None) -> list[tuple[str, str, int]]:
        """(rule, severity, messages): all of them from the counters; filtered, within the newest WINDOW."""
        if not channel and not user_id:
            return [(r, s, int(n)) for r, s, n in self._rows(
                "SELECT rule, severity, messages FROM tally_rules WHERE messages > 0 ORDER BY rule, severity")]
        # From the messages' own violation lists: violations has no index by message to join through.
        cond, args = self._where(channel=channel, user_id=user_id, since=self._window())
        found: dict[tuple[str, str], int] = {}
        for vjson, in self._rows(f"SELECT m.violations FROM messages m{cond} AND m.violations <> '[]'", args):
            for key in {(v["rule"], v["severity"]) for v in json.loads(vjson)}:
                found[key] = found.get(key, 0) + 1
        return [(r, s, n) for (r, s), n in sorted(found.items())]

    def rejection_counts(self) -> list[tuple[str, str, int]]:
        """(channel, rule, requests) for what was refused before intake (401, 413, 415); "api" is the query API."""
        return [(c, r, int(n)) for c, r, n in self._rows(
            "SELECT channel, rule, n FROM tally_rejections ORDER BY channel, rule")]

    def rejection_samples(self, *, channel=None, rule=None) -> list[dict]:
        """The newest few refused requests kept per channel and rule (SAMPLE), newest first."""
        where, args = [], []
        for col, val in (("channel", channel), ("rule", rule)):
            if val:
                where.append(f"{col} = ?")
                args.append(val)
        cond = (" WHERE " + " AND ".join(where)) if where else ""
        return [{"channel": c, "received_at": at, "rule": r, "detail": d} for c, at, r, d in self._rows(
            f"SELECT channel, received_at, rule, detail FROM rejections{cond} ORDER BY id DESC LIMIT 500", args)]

    def refused_activities(self, limit: int = 5) -> tuple[int, list[dict]]:
        """Activity ids none of whose deliveries was valid: how many, and the first few with their last message."""
        total = self._rows("SELECT COALESCE(MAX(n), 0) FROM tally_meta WHERE name = 'lost'")[0][0]
        rows = self._rows(
            "SELECT r.activity_id, r.deliveries, m.id, m.channel, m.user_id, m.received_at, m.violations "
            "FROM lost_activities r JOIN messages m ON m.id = r.last_id ORDER BY r.first_id LIMIT ?", (int(limit),))
        return int(total), [{"activity_id": r[0], "deliveries": int(r[1]), "last_message_id": r[2],
                             "channel": r[3], "user_id": r[4], "last_received_at": r[5],
                             "violations": json.loads(r[6])} for r in rows]

    def received_span(self, *, channel=None, rule=None, user_id=None) -> tuple[str | None, str | None]:
        """The first and last receipt time (ISO text): to the second from the counters, or of the filtered
        messages within the newest WINDOW."""
        if not (channel or rule or user_id):
            (first,), = self._rows("SELECT MIN(at) FROM tally_time WHERE width = 19")
            (last,), = self._rows("SELECT MAX(at) FROM tally_time WHERE width = 19")
            return (None, None) if first is None else (first + ".000000Z", last + ".000000Z")
        cond, args = self._where(channel, rule, user_id, since=self._window())
        first, last = self._rows(f"SELECT MIN(m.received_at), MAX(m.received_at) FROM messages m{cond}", args)[0]
        return first, last

    def activity_timeline(self, width: int, *, channel=None, rule=None, user_id=None) -> list[dict]:
        """Per time bucket (the first `width` characters of the ISO receipt time): received, invalid, and
        valid messages with a warning; from the counters, or filtered within the newest WINDOW."""
        if not (channel or rule or user_id) and int(width) in tally.WIDTHS:
            return [{"at": b, "received": int(n), "invalid": int(bad), "warned": int(w)} for b, n, bad, w in
                    self._rows("SELECT at, received, invalid, warned FROM tally_time WHERE width = ? "
                               "ORDER BY at", (int(width),))]
        cond, args = self._where(channel, rule, user_id, since=self._window())
        bucket = f"SUBSTR(m.received_at, 1, {int(width)})"
        rows = self._rows(f"SELECT {bucket} AS b, COUNT(*), COUNT(*) - SUM(m.valid) FROM messages m{cond} "
                          f"GROUP BY b ORDER BY b", args)
        # One pass over the warnings joined to their messages (a correlated EXISTS has no index to use).
        warned = dict(self._rows(
            f"SELECT {bucket} AS b, COUNT(DISTINCT m.id) FROM violations v JOIN messages m ON m.id = v.message_id"
            f"{cond + ' AND' if cond else ' WHERE'} v.severity = 'warning' AND m.valid = 1 GROUP BY b", args))
        return [{"at": b, "received": n, "invalid": int(bad or 0), "warned": int(warned.get(b, 0))}
                for b, n, bad in rows]

    def latency_histogram(self, edges, *, channel=None, rule=None, user_id=None) -> list[int]:
        """Message counts per latency bin: (-inf, e0], (e0, e1], ..., (e_last, +inf), in milliseconds; from the
        counters' buckets (exact for bounds of three significant digits), or filtered within the newest WINDOW."""
        counts = [0] * (len(edges) + 1)
        if not (channel or rule or user_id):
            for le, n in self._rows("SELECT le, n FROM tally_latency WHERE n > 0"):
                counts[next((i for i, e in enumerate(edges) if le <= e), len(edges))] += int(n)
            return counts
        cond, args = self._where(channel, rule, user_id, since=self._window())
        cond = (cond + " AND " if cond else " WHERE ") + "m.latency_ms IS NOT NULL"
        case = " ".join(f"WHEN m.latency_ms <= {float(e)!r} THEN {i}" for i, e in enumerate(edges))
        for b, n in self._rows(f"SELECT CASE {case} ELSE {len(edges)} END AS b, COUNT(*) FROM messages m{cond} "
                               f"GROUP BY b", args):
            counts[int(b)] = n
        return counts

    def flagged_messages(self, *, channel=None, rule=None, user_id=None, limit=10) -> list[dict]:
        """The newest messages with an error or a warning, newest first, in the shape `messages` gives; found
        through the violations' severity index, filtered within the newest WINDOW."""
        if not (channel or rule or user_id):
            ids: set = set()
            for severity in ("error", "warning"):
                ids.update(mid for mid, in self._rows(
                    "SELECT DISTINCT message_id FROM violations WHERE severity = ? ORDER BY message_id DESC LIMIT ?",
                    (severity, int(limit))))
            ids = sorted(ids, reverse=True)[:int(limit)]
            if not ids:
                return []
            rows = self._rows(f"SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.id IN ({', '.join('?' * len(ids))}) "
                              f"ORDER BY m.id DESC", ids)
            return [_message(r) for r in rows]
        cond, args = self._where(channel, rule, user_id, since=self._window())
        cond += (" AND EXISTS (SELECT 1 FROM violations v WHERE v.severity IN ('error', 'warning') "
                 "AND v.message_id = m.id)")
        rows = self._rows(f"SELECT {MESSAGE_COLUMNS} FROM messages m{cond} ORDER BY m.id DESC LIMIT ?",
                          (*args, int(limit)))
        return [_message(r) for r in rows]

    def entities(self, kind: str, *, user_id=None, status=None, limit=100, offset=0) -> list[dict]:
        """State documents of one kind, oldest key first: what the player view and the types' views read.
        limit None: all of them (one user's payments, say)."""
        where, args = ["kind = ?"], [kind]
        for col, val in (("user_id", user_id), ("status", status)):
            if val is not None:
                where.append(f"{col} = ?")
                args.append(val)
        page = "" if limit is None else f" LIMIT {int(limit)} OFFSET {int(offset)}"
        rows = self._rows(f"SELECT key, user_id, status, at, doc FROM entities WHERE {' AND '.join(where)} "
                          f"ORDER BY key{page}", args)
        return [{"key": r[0], "user_id": r[1], "status": r[2], "at": r[3], **json.loads(r[4])} for r in rows]

    def entity_counts(self, kind: str) -> dict[str | None, int]:
        """How many documents of one kind per status."""
        return {status: n for status, n in self._rows(
            "SELECT status, COUNT(*) FROM entities WHERE kind = ? GROUP BY status", (kind,))}

    def change_marker(self) -> str:
        """Cheap text that changes whenever a message or a rejection is stored or the store is cleared."""
        (last,), = self._rows("SELECT MAX(id) FROM messages")
        (n,), = self._rows("SELECT COALESCE(SUM(received), 0) FROM tally_channels")
        (rejected,), = self._rows("SELECT COALESCE(SUM(n), 0) FROM tally_rejections")
        (calls,), = self._rows("SELECT MAX(id) FROM operator_calls")  # the operator's answers show too
        return f"{last or 0}.{n}.{rejected}" + (f".{calls}" if calls else "")


class _Tx:
    def __init__(self, store: SQLStore, cur):
        self._s = store
        self._cur = cur
        self.deltas = tally.Deltas()
        self._found: set[str] = set()  # activity ids delivered valid in this transaction
        self.scratch: dict = {}  # what a type's book caches for the length of this transaction
        self._flushes: list = []  # what a book writes once per transaction, just before the commit
        self._q = q = store._q
        self._ids = None  # the ids this transaction gives its messages (the dialect's _message_ids)
        self._messages: list[tuple] = []  # rows for messages and violations, written in one statement each
        self._violations: list[tuple] = []
        self._ins_message = q(
            "INSERT INTO messages (id, channel, received_at, marker, raw, source, event, activity_id, user_id, "
            "keys, valid, duplicate, violations, latency_ms, delivery_key) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        self._sel_delivery = q("SELECT id, valid, violations, duplicate, event FROM messages "
                               "WHERE delivery_key = ? ORDER BY id LIMIT 1")
        self._ins_violation = q("INSERT INTO violations (message_id, rule, severity, path) VALUES (?, ?, ?, ?)")
        self._sel_entity = q("SELECT doc FROM entities WHERE kind = ? AND key = ?")
        self._up_entity = q(
            "INSERT INTO entities (kind, key, user_id, status, at, doc) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (kind, key) DO UPDATE SET user_id = excluded.user_id, status = excluded.status, "
            "at = excluded.at, doc = excluded.doc")
        self._up_lost = q("UPDATE lost_activities SET deliveries = deliveries + 1, last_id = ? WHERE activity_id = ?")
        self._ever_valid = q("SELECT 1 FROM messages WHERE activity_id = ? AND valid = 1 LIMIT 1")
        self._ins_lost = q("INSERT INTO lost_activities (activity_id, deliveries, first_id, last_id) "
                           "VALUES (?, 1, ?, ?)")

    def get(self, kind: str, key: str) -> dict | None:
        """An event type's state document (a payment, a user, a bonus), or None."""
        self._cur.execute(self._sel_entity, (kind, key))
        row = self._cur.fetchone()
        return None if row is None else json.loads(row[0])

    def put(self, kind: str, key: str, doc: dict, *, user_id=None, status=None, at=None) -> None:
        self._cur.execute(self._up_entity, (kind, key, user_id, status, at,
                                            _json(doc)))

    def execute(self, sql: str, args=()):
        """A statement of a type's own tables (? placeholders), in this transaction; returns the cursor."""
        self._cur.execute(self._q(sql), args)
        return self._cur

    def executemany(self, sql: str, rows) -> None:
        """One statement of a type's own tables for many rows (? placeholders), in this transaction."""
        self._cur.executemany(self._q(sql), rows)

    def count_state(self, kind: str, old: str | None, new: str) -> None:
        """One of a type's things moved from state `old` (None: it is new) to `new`: counted at commit."""
        self.deltas.state(kind, old, new)

    def before_commit(self, fn) -> None:
        """Run fn(tx) once, after the last message and before the commit: a book that keeps its rows in
        `scratch` for the batch writes them here, one statement per row rather than one per event."""
        self._flushes.append(fn)

    def flush(self) -> None:
        flushes, self._flushes = self._flushes, []
        for fn in flushes:
            fn(self)

    def delivery(self, delivery_key):
        self.write_messages()  # the delivery may have come twice in this very batch
        self._cur.execute(self._sel_delivery, (delivery_key,))
        row = self._cur.fetchone()
        if row is None:
            return None
        return Verdict(row[0], bool(row[1]), violations_of_json(row[2]), bool(row[3]), row[4], redelivered=True)

    def add_message(self, m: MessageRecord) -> int:
        """The message gets its id now and its row at write_messages: one INSERT a batch, not one a message
        (on PostgreSQL one round trip instead of one each: 901 -> 961-994 msg/s at batches of 16; on SQLite
        the same instructions). Nothing reads messages inside the transaction but `delivery`, which writes
        them first, and `_lost`, which needs only this batch's valid ids (`_found`)."""
        if self._ids is None:
            self._ids = self._s._message_ids(self._cur)
        message_id = next(self._ids)
        vjson = _json([v.as_dict() for v in m.violations]) if m.violations else "[]"
        at = iso(m.received_at)
        self._messages.append((
            message_id, m.channel, at, m.marker, m.raw, m.source, m.event, m.activity_id, m.user_id,
            _json(m.keys) if m.keys else None, 1 if m.valid else 0,
            1 if m.duplicate else 0, vjson, m.latency_ms, m.delivery_key))
        if m.violations:
            self._violations += [(message_id, v.rule, v.severity, v.path) for v in m.violations]
        self.deltas.message(m.channel, at, m.valid, m.duplicate, m.latency_ms,
                            [(v.rule, v.severity) for v in m.violations] if m.violations else (), m.event,
                            m.user_id)
        if m.activity_id is not None:
            self._lost(m.activity_id, m.valid, message_id)
        return message_id

    def write_messages(self) -> None:
        if self._messages:
            self._cur.executemany(self._ins_message, self._messages)
            self._messages = []
        if self._violations:
            self._cur.executemany(self._ins_violation, self._violations)
            self._violations = []

    def found_again(self) -> None:
        """Drop the lost activities this transaction delivered valid. Deferred to the end, because an invalid
        delivery after the valid one in the same transaction only adds to a row that is dropped here."""
        found = list(self._found)
        for i in range(0, len(found), 500):
            chunk = found[i:i + 500]
            self._cur.execute(self._s._q(f"DELETE FROM lost_activities WHERE activity_id IN "
                                         f"({', '.join('?' * len(chunk))})"), chunk)
            if self._cur.rowcount > 0:
                self.deltas.meta["lost"] = self.deltas.meta.get("lost", 0) - self._cur.rowcount

    def _lost(self, activity_id: str, valid: bool, message_id: int) -> None:
        """Keep lost_activities to the ids none of whose deliveries was valid (the checklist's retries.lost)."""
        cur = self._cur
        if valid:  # found again: removed at the end of the transaction, in one statement (see found_again)
            self._found.add(activity_id)
            return
        if activity_id in self._found:  # delivered valid earlier in this batch: its row goes at the end
            return
        cur.execute(self._up_lost, (message_id, activity_id))
        if cur.rowcount > 0:
            return
        cur.execute(self._ever_valid, (activity_id,))
        if cur.fetchone() is None:
            cur.execute(self._ins_lost, (activity_id, message_id, message_id))
            self.deltas.meta["lost"] = self.deltas.meta.get("lost", 0) + 1


def _message(r) -> dict:
    raw = bytes(r[8])
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):  # a body nested too deep for the stdlib is shown as text
        payload = None
    out = {"id": r[0], "channel": r[1], "received_at": r[2], "activity_id": r[3], "user_id": r[4],
           **(json.loads(r[5]) if r[5] else {}), "valid": bool(r[6]), "violations": json.loads(r[7]),
           "payload": payload, "source": r[9], "duplicate": bool(r[10]), "latency_ms": r[11], "marker": r[12]}
    if payload is None:
        out["raw"] = raw.decode("utf-8", errors="replace")
    return out


def _json(value) -> str:
    """Compact JSON text for the store's JSON columns (orjson: a few microseconds a message less than json)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def violations_of_json(text: str) -> list[Violation]:
    return [Violation(**v) for v in json.loads(text)]
