"""Casino's views: rounds and sessions as the query API, the reports, the summary and the player view show them.

Sessions are not stored: they are consecutive rounds of one user and game, built while the rounds are
read in session order, so a page of sessions reads rounds only up to the page's end.
"""
from __future__ import annotations

from datetime import timedelta
from itertools import islice
from typing import Iterator

from simulator.core.money import ZERO, text
from simulator.core.timefmt import iso
from simulator.types.casino import tables
from simulator.types.casino.tables import Round

REPORT_ROWS = 200  # rows of the report's rounds and sessions tables
SESSION_ROUNDS = 5_000  # the report's sessions table is built from at most this many rounds (in session order)


def round_dict(r: Round) -> dict:
    return {"user_id": r.user_id, "round_id": r.round_id, "game_id": r.game_id, "currency": r.currency,
            "status": r.status, "bet_total": text(r.bet_total), "win_total": text(r.win_total),
            "rollback_total": text(r.rollback_total), "events": r.events, "started_at": iso(r.started_at),
            "ended_at": iso(r.ended_at)}


def sessions(rounds, idle_seconds: float) -> list[dict]:
    """Game sessions per user and game: consecutive rounds whose gap is under the idle time.

    `rounds` must come ordered by user, game and start; the gap is measured from the end (or last event)
    of one round to the start of the next.
    """
    return list(iter_sessions(rounds, idle_seconds))


def iter_sessions(rounds, idle_seconds: float) -> Iterator[dict]:
    """`sessions`, one at a time: each is given once its last round is read, so a page of sessions reads
    rounds only up to the first round after it."""
    idle = timedelta(seconds=idle_seconds)
    current = None
    last_end = None
    for r in rounds:
        end = r.ended_at or r.last_event_at
        if (current is None or (current["user_id"], current["game_id"]) != (r.user_id, r.game_id)
                or r.started_at - last_end >= idle):
            if current is not None:
                yield _session_out(current)
            current = {"user_id": r.user_id, "game_id": r.game_id, "rounds": 0, "bet_total": ZERO,
                       "win_total": ZERO, "started_at": r.started_at, "ended_at": end, "currency": r.currency}
            last_end = end
        current["rounds"] += 1
        current["bet_total"] += r.bet_total
        current["win_total"] += r.win_total
        last_end = max(last_end, end)
        current["ended_at"] = last_end
    if current is not None:
        yield _session_out(current)


def _session_out(s: dict) -> dict:
    s["bet_total"], s["win_total"] = text(s["bet_total"]), text(s["win_total"])
    s["started_at"], s["ended_at"] = iso(s["started_at"]), iso(s["ended_at"])
    return s


def rounds(store, *, user_id=None, round_id=None, status=None, limit=1000, offset=0) -> list[dict]:
    """GET /api/rounds."""
    return [round_dict(r) for r in tables.rounds(store, user_id=user_id, round_id=round_id, status=status,
                                                 limit=limit, offset=offset)]


def session_page(store, *, user_id=None, idle: float, limit=1000, offset=0) -> tuple[list[dict], bool]:
    """GET /api/sessions: a page, and whether there is more."""
    found = tables.rounds_in_order(store, user_id=user_id)
    page = list(islice(iter_sessions(found, idle), offset, offset + limit + 1))
    return page[:limit], len(page) > limit


def report_tables(store, *, user_id=None, idle: float) -> dict:
    """The report's and the live page's rounds and sessions tables, bounded whatever the table's size."""
    rows = [round_dict(r) for r in tables.rounds(store, user_id=user_id, limit=REPORT_ROWS)]
    if user_id:
        total = tables.count_rounds(store, user_id=user_id) if len(rows) == REPORT_ROWS else len(rows)
    else:
        total = sum(store.state_counts(tables.KIND).values())
    read = [0]

    def first_rounds():
        for r in tables.rounds_in_order(store, user_id=user_id):
            if read[0] == SESSION_ROUNDS:
                return
            read[0] += 1
            yield r
    sessions = list(islice(iter_sessions(first_rounds(), idle), REPORT_ROWS + 1))
    # Sessions are not stored: counting them all would read every round, so the table says "more" instead.
    more = len(sessions) > REPORT_ROWS or (read[0] == SESSION_ROUNDS and total > SESSION_ROUNDS)
    return {"rounds": {"total": total, "rows": rows},
            "sessions": {"total": None if more else len(sessions), "more": more, "rows": sessions[:REPORT_ROWS]}}


def summary(store) -> dict:
    """What /api/summary says of rounds: how many are open and closed."""
    counts = store.state_counts(tables.KIND)
    return {"rounds": {"open": counts.get("open", 0), "closed": counts.get("closed", 0)}}


def player(store, user_id: str) -> dict | None:
    """The player view's casino part: rounds by status and totals per currency (the first pages of rounds)."""
    found = tables.rounds(store, user_id=user_id, limit=REPORT_ROWS)
    if not found:
        return None
    by_currency: dict[str, dict] = {}
    for r in found:
        c = by_currency.setdefault(r.currency or "?", {"bet_total": ZERO, "win_total": ZERO, "rounds": 0})
        c["bet_total"] += r.bet_total
        c["win_total"] += r.win_total
        c["rounds"] += 1
    return {"rounds": {"open": sum(r.status == "open" for r in found), "closed": sum(r.status == "closed" for r in found),
                       "by_currency": {k: {"rounds": v["rounds"], "bet_total": text(v["bet_total"]),
                                           "win_total": text(v["win_total"])} for k, v in by_currency.items()},
                       "complete": len(found) < REPORT_ROWS}}


VIEWS = {"rounds": rounds, "sessions": session_page, "report": report_tables, "summary": summary, "player": player}
