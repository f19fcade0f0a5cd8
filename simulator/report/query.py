"""Answers built from the store: rounds and sessions as JSON, and the summary everyone reads."""
from __future__ import annotations

from datetime import timedelta

from simulator.types.casino.ledger import Round
from simulator.core.money import ZERO, text
from simulator.core.timefmt import iso


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
    idle = timedelta(seconds=idle_seconds)
    out: list[dict] = []
    current = None
    last_end = None
    for r in rounds:
        end = r.ended_at or r.last_event_at
        if (current is None or (current["user_id"], current["game_id"]) != (r.user_id, r.game_id)
                or r.started_at - last_end >= idle):
            current = {"user_id": r.user_id, "game_id": r.game_id, "rounds": 0, "bet_total": ZERO,
                       "win_total": ZERO, "started_at": r.started_at, "ended_at": end, "currency": r.currency}
            out.append(current)
            last_end = end
        current["rounds"] += 1
        current["bet_total"] += r.bet_total
        current["win_total"] += r.win_total
        last_end = max(last_end, end)
        current["ended_at"] = last_end
    for s in out:
        s["bet_total"], s["win_total"] = text(s["bet_total"]), text(s["win_total"])
        s["started_at"], s["ended_at"] = iso(s["started_at"]), iso(s["ended_at"])
    return out


def summary(runtime) -> dict:
    counts = runtime.store.counts()
    p50, p99 = runtime.store.latency_quantiles((0.5, 0.99))
    counts["latency_ms"] = {"p50": _ms(p50), "p99": _ms(p99), "budget": runtime.settings.latency_budget * 1000}
    counts["channels"] = {name: state.as_dict() for name, state in runtime.channels.items()}
    counts["profile"] = runtime.settings.profile
    counts["store"] = runtime.store.health()
    pipeline = getattr(runtime, "pipeline", None)  # the upstream pairing, when this process runs one
    if pipeline is not None and pipeline.active:
        counts["pipeline"] = pipeline.summary()
    return counts


def _ms(value):
    return None if value is None else round(float(value), 3)
