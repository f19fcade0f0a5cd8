"""A scenario's full stream: the clean journeys, faults injected, every message numbered.

`plan(scenario, namespace, channel, profile)` is endless and deterministic: the same scenario (seed),
namespace, channel and profile give the same messages in the same order. The namespace prefixes every id,
so runs never collide in one ftsim. The channel matters to journeys only: over REST they leave out the
brokers-only types.
"""
from __future__ import annotations

import random
import secrets
from itertools import islice
from typing import Iterable, Iterator

from simulator.contract.registry import load_registry
from simulator.clients.scenario.faults import Context, inject
from simulator.clients.scenario.journeys import Engine
from simulator.clients.scenario.lifecycle import JourneyEngine
from simulator.clients.scenario.planned import Planned
from simulator.clients.scenario.spec import Scenario

FAULT_SEED_SALT = 0x5EED_FA17  # faults draw from their own generator: changing a rate keeps the play


def new_namespace() -> str:
    return secrets.token_hex(3)


def plan(scenario: Scenario, namespace: str = "", channel: str | None = None,
         profile: str = "strict") -> Iterator[Planned]:
    """channel None: every type (what a broker carries). profile: the target's, which decides what a fault
    is (a field's wrong type that it takes is no fault there)."""
    engine = Engine(scenario, namespace) if scenario.journey is None else \
        JourneyEngine(scenario, namespace, channel)
    carried = None if channel != "rest" else frozenset(t.marker for t in load_registry() if t.path is not None)
    ctx = Context(random.Random(scenario.seed ^ FAULT_SEED_SALT), engine.ids, scenario.late_seconds, namespace,
                  carried, profile=profile)
    rates = {name: rate for name, rate in scenario.faults.items() if rate > 0}
    seq = 0
    for clean in engine.stream():
        out = inject(ctx, rates, clean)
        for q in out:
            if q.retry:
                q.seq = next(o.seq for o in out if o.payload is q.payload and not o.retry)
                continue
            seq += 1
            q.seq = seq
            if q.located_by_seq:
                q.payload["meta"]["seq"] = seq
        for q in out:
            if q.retry:
                next(o for o in out if o.payload is q.payload and not o.retry).repeated = True
        yield from out


def take(scenario: Scenario, count: int, namespace: str = "", channel: str | None = None,
         profile: str = "strict") -> list[Planned]:
    """The first `count` messages of the stream."""
    return list(islice(plan(scenario, namespace, channel, profile), count))


def finished(stream: Iterable[Planned], count: int, most_extra: int | None = None) -> Iterator[Planned]:
    """The first `count` messages, then only those of players who still have a casino round or a payment
    open, each until they have none (at most `most_extra` more, count by default). A scenario cut at a bare
    count leaves the players mid-round and mid-payment, and `ftsim serve --until-idle`'s go-live checklist
    then fails clean traffic on rounds.closed and payments.settled (the steady scenario at its default count
    left 30 of 2,256 rounds open)."""
    opened: dict[str, set] = {}
    extra = count if most_extra is None else most_extra
    it = iter(stream)
    for p in islice(it, count):
        _track(opened, p)
        yield p
    opened = {user: items for user, items in opened.items() if items}
    for p in it:
        if not opened or extra <= 0:
            return
        items = opened.get(p.user_id)
        if items is None:
            continue
        _track(opened, p)
        yield p
        extra -= 1
        if not items:
            del opened[p.user_id]


def _track(opened: dict[str, set], p: Planned) -> None:
    """What p leaves open for its player: a round until its Win with is_round_end, a payment until its
    outcome (Requested is the only status that waits for another)."""
    pl = p.payload
    if p.marker == "CASINO":
        key, closes = ("round", pl.get("round_id")), pl.get("is_round_end") is True
        opens = not closes and pl.get("status") != "Rollback"  # a bet's Rollback reverses, it opens nothing
    elif p.marker == "PAYMENT":
        key, closes = ("payment", pl.get("payment_id")), pl.get("status") != "Requested"
        opens = not closes
    else:
        return
    if not isinstance(key[1], str):  # a fault took the id away: nothing the checklist could count as open
        return
    items = opened.setdefault(p.user_id, set())
    if closes:
        items.discard(key)
    elif opens:
        items.add(key)
