"""The calls ftsim made to the operator's API (simulator/operator/): a table of their own beside the
messages, written in batches by the operator's recorder, read in pages by the query API and the reports.
Mixed into SQLStore, so SQLite and PostgreSQL share it through the same dialect hooks."""
from __future__ import annotations

import json

CALLS_DDL = """
CREATE TABLE IF NOT EXISTS operator_calls (
  id {serial}, at TEXT NOT NULL, endpoint TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL, user_id TEXT,
  status INTEGER, latency_ms {real}, valid INTEGER NOT NULL, violations TEXT NOT NULL, message_id BIGINT,
  body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS operator_calls_endpoint ON operator_calls (endpoint, id);
CREATE INDEX IF NOT EXISTS operator_calls_user ON operator_calls (user_id);
CREATE INDEX IF NOT EXISTS operator_calls_latency ON operator_calls (latency_ms);
CREATE TABLE IF NOT EXISTS operator_call_rules (call_id BIGINT NOT NULL, rule TEXT NOT NULL, severity TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS operator_call_rules_rule ON operator_call_rules (rule, call_id);
"""
CALL_COLUMNS = "id, at, endpoint, method, path, user_id, status, latency_ms, valid, violations, message_id, body"


class OperatorCalls:
    """SQLStore's part for operator calls; `calls` are dicts in the shape of operator.client.Call.as_dict."""

    def _calls_ddl(self) -> list[str]:
        return [s.strip() for s in CALLS_DDL.format(**self.types).split(";") if s.strip()]

    def add_operator_calls(self, calls: list[dict]) -> None:
        """All in one transaction: the recorder hands over what piled up while the last commit ran."""
        ins = self._q("INSERT INTO operator_calls (at, endpoint, method, path, user_id, status, latency_ms, valid, "
                      "violations, message_id, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" + self._returning_id())
        rule = self._q("INSERT INTO operator_call_rules (call_id, rule, severity) VALUES (?, ?, ?)")
        with self.batch() as tx:
            cur = tx._cur
            for c in calls:
                cur.execute(ins, (c["at"], c["endpoint"], c["method"], c["path"], c["user_id"], c["status"],
                                  c["latency_ms"], 1 if c["valid"] else 0,
                                  json.dumps(c["violations"], ensure_ascii=False), c["message_id"], c["body"]))
                call_id = self._inserted_id(cur)
                if c["violations"]:
                    cur.executemany(rule, [(call_id, v["rule"], v["severity"]) for v in c["violations"]])

    def operator_calls(self, *, endpoint=None, user_id=None, valid=None, limit=100, offset=0,
                       newest_first=True) -> tuple[list[dict], int]:
        where, args = [], []
        for col, val in (("endpoint", endpoint), ("user_id", user_id)):
            if val:
                where.append(f"{col} = ?")
                args.append(val)
        if valid is not None:
            where.append("valid = ?")
            args.append(1 if valid else 0)
        cond = (" WHERE " + " AND ".join(where)) if where else ""
        total = self._rows(f"SELECT COUNT(*) FROM operator_calls{cond}", args)[0][0]
        rows = self._rows(f"SELECT {CALL_COLUMNS} FROM operator_calls{cond} ORDER BY id "
                          f"{'DESC' if newest_first else 'ASC'} LIMIT ? OFFSET ?", (*args, int(limit), int(offset)))
        return [{"id": r[0], "at": r[1], "endpoint": r[2], "method": r[3], "path": r[4], "user_id": r[5],
                 "status": r[6], "latency_ms": r[7], "valid": bool(r[8]), "violations": json.loads(r[9]),
                 "message_id": r[10], "body": r[11]} for r in rows], total

    def operator_call_stats(self) -> dict:
        """Calls and failing calls per endpoint, calls per rule and severity, latency p50 and p99 (ms)."""
        by_endpoint = {e: {"calls": n, "failed": n - int(ok or 0)} for e, n, ok in self._rows(
            "SELECT endpoint, COUNT(*), SUM(valid) FROM operator_calls GROUP BY endpoint ORDER BY endpoint")}
        by_rule: dict[str, dict] = {}
        for rule, severity, n in self._rows("SELECT rule, severity, COUNT(DISTINCT call_id) FROM operator_call_rules "
                                            "GROUP BY rule, severity ORDER BY rule, severity"):
            entry = by_rule.setdefault(rule, {"calls": 0, "severity": severity})
            entry["calls"] += n
        n = self._rows("SELECT COUNT(*) FROM operator_calls WHERE latency_ms IS NOT NULL")[0][0]
        quantiles = []
        for q in (0.5, 0.99):
            if n == 0:
                quantiles.append(None)
                continue
            k = min(n - 1, max(0, int(round(q * (n - 1)))))
            quantiles.append(self._rows("SELECT latency_ms FROM operator_calls WHERE latency_ms IS NOT NULL "
                                        "ORDER BY latency_ms LIMIT 1 OFFSET ?", (k,))[0][0])
        calls = sum(e["calls"] for e in by_endpoint.values())
        return {"calls": calls, "failed": sum(e["failed"] for e in by_endpoint.values()), "by_endpoint": by_endpoint,
                "by_rule": by_rule, "latency_ms": {"p50": quantiles[0], "p99": quantiles[1]}}

    def message_payload(self, message_id: int):
        """The stored body of one message, parsed (None if gone or not JSON): what triggered an operator call."""
        rows = self._rows("SELECT raw FROM messages WHERE id = ?", (message_id,))
        if not rows:
            return None
        try:
            return json.loads(bytes(rows[0][0]))
        except (ValueError, RecursionError):
            return None

    def user_fields(self, user_id: str, events: tuple[str, ...], name: str, limit: int = 50) -> set:
        """The values one field took in a user's latest valid events of the given types (casino's currency)."""
        marks = ", ".join("?" for _ in events)
        out = set()
        for (raw,) in self._rows(f"SELECT raw FROM messages WHERE user_id = ? AND valid = 1 AND event IN ({marks}) "
                                 f"ORDER BY id DESC LIMIT ?", (user_id, *events, int(limit))):
            try:
                value = json.loads(bytes(raw)).get(name)
            except (ValueError, RecursionError, AttributeError):
                continue
            if isinstance(value, str):
                out.add(value)
        return out
