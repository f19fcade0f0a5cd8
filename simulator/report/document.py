"""The report document: every figure the page and the report show, as plain JSON, read through the store.

`build` is the only place the report's figures come from. `ftsim report --format json` writes it as is,
the HTML report and the live page render it, the JUnit file renders its checklist; none of them reads the
store or judges anything itself. The checklist is always over everything received; the filters (channel,
rule, user) narrow the tables and charts.
"""
from __future__ import annotations

from datetime import timedelta

from simulator.report import query
from simulator.report import readiness
from simulator.core.envelope import utcnow
from simulator.core.timefmt import from_iso, iso
from simulator.store.sql import WINDOW

FORMAT = 1
NEWEST = 10
EXAMPLES = 3
# (characters of the ISO time that make a bucket, the bucket, at most this many buckets of it)
GRAINS = ((19, timedelta(seconds=1), "second"), (16, timedelta(minutes=1), "minute"),
          (13, timedelta(hours=1), "hour"), (10, timedelta(days=1), "day"))
MAX_BUCKETS = 240


PIPELINE_ROWS = 20  # problem inputs per page of the pipeline section


def build(runtime, checklist: readiness.Checklist | None = None, *, channel=None, rule=None, user_id=None,
          source: str = "", pipeline_page: int = 0) -> dict:
    store = runtime.store
    filters = {"channel": channel or None, "rule": rule or None, "user_id": user_id or None}
    summary = query.summary(runtime)
    facts = readiness.gather(runtime, summary)
    verdict = readiness.evaluate(facts, checklist, runtime.registry)
    rounds, sessions = _rounds(runtime, user_id)
    return {
        "ftsim_report": FORMAT,
        "generated_at": iso(utcnow()),
        "source": source,
        "filters": filters,
        # Filtered views read the newest messages only; unfiltered ones read the counters.
        "window": WINDOW if any(filters.values()) else None,
        "summary": summary,
        "checklist": verdict,
        "facts": facts,
        "timeline": timeline(store, filters),
        "latency": latency(store, summary["latency_ms"]["budget"], filters),
        "violations": violations(store, facts, verdict, filters),
        "newest": [_newest(m) for m in store.flagged_messages(**filters, limit=NEWEST)],
        "rounds": rounds,
        "sessions": sessions,
        "operator": operator_calls(runtime, summary),
        **({"pipeline": pipeline(runtime, summary["pipeline"], pipeline_page)} if "pipeline" in summary else {}),
        "choices": {"channels": sorted(set(summary["by_channel"]) | set(summary.get("channels", {}))),
                    "rules": sorted(set(facts["rules"]) | set(facts["refused"]))},
    }


def pipeline(runtime, figures: dict, page: int = 0) -> dict:
    """The upstream pipeline's figures and one page of its problem inputs, newest first."""
    rows, total = runtime.pipeline.inputs(verdict="problem", limit=PIPELINE_ROWS, offset=page * PIPELINE_ROWS)
    return {"summary": figures, "problems": rows, "total": total, "page": page,
            "pages": max(1, -(-total // PIPELINE_ROWS))}


def timeline(store, filters: dict) -> dict:
    """Messages per time bucket, the bucket as fine as keeps the span within MAX_BUCKETS, gaps as zeros."""
    first, last = store.received_span(**filters)
    if first is None:
        return {"grain": "second", "points": []}
    start, end = from_iso(first), from_iso(last)
    width, step, grain = next((g for g in GRAINS if (end - start) / g[1] <= MAX_BUCKETS), GRAINS[-1])
    found = {p["at"]: p for p in store.activity_timeline(width, **filters)}
    points = []
    at = from_iso(iso(start)[:width] + "0000-01-01T00:00:00.000000Z"[width:])
    while iso(at)[:width] <= iso(end)[:width] and len(points) <= MAX_BUCKETS * 2:
        key = iso(at)[:width]
        points.append(found.get(key) or {"at": key, "received": 0, "invalid": 0, "warned": 0})
        at += step
    return {"grain": grain, "points": points}


def latency_edges(budget_ms: float) -> list[float]:
    """1-2-5 bin bounds from 1 ms to five times the budget, with the budget itself as a bound."""
    edges, power = [], 1.0
    while True:
        for m in (1, 2, 5):
            edges.append(m * power)
            if edges[-1] >= 5 * budget_ms:
                return sorted(set(edges) | {float(budget_ms)})
        power *= 10


def latency(store, budget_ms: float, filters: dict) -> dict:
    edges = latency_edges(budget_ms)
    counts = store.latency_histogram(edges, **filters)
    bins = [{"le": e, "count": n, "over": e > budget_ms} for e, n in zip(edges, counts)]
    bins.append({"le": None, "above": edges[-1], "count": counts[-1], "over": True})
    over = sum(b["count"] for b in bins if b["over"])
    return {"budget_ms": budget_ms, "bins": bins, "measured": sum(counts), "over_budget": over}


def violations(store, facts: dict, verdict: dict, filters: dict) -> list[dict]:
    """Violations grouped by rule: errors first, then by how many messages; each with its first examples."""
    channel, user_id, only = filters["channel"], filters["user_id"], filters["rule"]
    status = {r["rule"]: r["status"] for r in verdict["rules"]}
    groups: dict[str, dict] = {}
    for rule, severity, n in store.rule_counts(channel=channel, user_id=user_id):
        if only and rule != only:
            continue
        g = groups.setdefault(rule, {"rule": rule, "counts": {}, "messages": 0, "refused": 0})
        g["counts"][severity] = g["counts"].get(severity, 0) + n
        g["messages"] += n
    if not user_id:  # refused requests have no body, so no user; they belong to their channel
        for ch, rule, n in store.rejection_counts():
            if ch != readiness.OWN_CHANNEL and (not channel or ch == channel) and (not only or rule == only):
                g = groups.setdefault(rule, {"rule": rule, "counts": {}, "messages": 0, "refused": 0})
                g["refused"] += n
    order = {"error": 0, "warning": 1, "info": 2}
    out = []
    for g in groups.values():
        worst = min((order.get(s, 3) for s in g["counts"]), default=0)
        g["severity"] = next((s for s, o in order.items() if o == worst), "error")
        g["status"] = status.get(g["rule"], "passed")
        g["summary"] = readiness.rule_summary(g["rule"])
        if g["messages"] and not channel and not user_id:
            g["examples"] = facts["examples"].get(g["rule"], [])
        elif g["messages"]:
            found, _ = store.messages(rule=g["rule"], channel=channel, user_id=user_id, limit=EXAMPLES,
                                      count=False)
            g["examples"] = [readiness.example(m, g["rule"]) for m in found]
        else:
            g["examples"] = []
        out.append(g)
    out.sort(key=lambda g: (order.get(g["severity"], 3), -(g["messages"] + g["refused"]), g["rule"]))
    return out


OPERATOR_ROWS = 20  # calls shown; /api/operator-calls pages through the rest
OPERATOR_BODY = 2000  # characters of each answer shown


def operator_calls(runtime, summary: dict) -> dict | None:
    """The calls to the operator's API (with --operator-api): the newest ones and the newest failing ones."""
    if summary.get("operator") is None:
        return None
    store = runtime.store

    def cut(c: dict) -> dict:
        body = c["body"]
        return {**c, "body": body[:OPERATOR_BODY] + (f"... ({len(body)} characters)" if len(body) > OPERATOR_BODY
                                                      else "")}
    newest, total = store.operator_calls(limit=OPERATOR_ROWS)
    failing, failed = store.operator_calls(valid=False, limit=EXAMPLES * 4)
    return {"summary": summary["operator"], "total": total, "failed": failed,
            "newest": [cut(c) for c in newest], "failing": [cut(c) for c in failing]}


def _rounds(runtime, user_id) -> tuple[dict, dict]:
    """The rounds and sessions tables, from the type that builds them (casino); empty when none does."""
    view = runtime.registry.view("report")
    if view is None:
        return {"total": 0, "rows": []}, {"total": 0, "more": False, "rows": []}
    found = view(runtime.store, user_id=user_id, idle=runtime.settings.session_idle)
    return found["rounds"], found["sessions"]


def _newest(m: dict) -> dict:
    return {"id": m["id"], "channel": m["channel"], "received_at": m["received_at"], "user_id": m["user_id"],
            "activity_id": m["activity_id"], "valid": m["valid"],
            "violations": [v for v in m["violations"] if v["severity"] in ("error", "warning")]}
