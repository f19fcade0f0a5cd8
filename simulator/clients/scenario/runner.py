"""`ftsim scenario run`: send a scenario to a running ftsim over one channel, then compare its verdicts.

The runner is a client like any platform: it sends through the sender (REST, RabbitMQ or Kafka) and reads
back through the query API. It first asks the target for its profile, severities, latency budget and how
many messages it holds; then it plans the run (what a fault is depends on the profile), works out the
expected verdicts and rounds, sends, waits until ftsim has judged everything (brokers judge after the
sender is done), and compares.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TextIO

from simulator.clients.sender import Stats, deliver, open_channel
from simulator.core.errors import ConfigError
from simulator.core.violations import Severities
from simulator.clients.scenario.compare import Report, compare_messages, compare_rounds
from simulator.clients.scenario.expect import expect_all
from simulator.clients.scenario.remote import Ftsim
from simulator.clients.scenario.render import Renderer
from simulator.clients.scenario.spec import Scenario
from simulator.clients.scenario.stream import new_namespace, take


@dataclass
class Run:
    scenario: Scenario
    via: str
    namespace: str
    sent: int
    stats: Stats
    seconds: float
    report: Report


def run_scenario(scenario: Scenario, *, via: str, ftsim: Ftsim, target: str | None = None, count: int | None = None,
                 rate: float | None = None, namespace: str | None = None, progress: TextIO | None = None,
                 settle_timeout: float | None = None, **channel_options) -> Run:
    """Send `count` messages of the scenario via the channel and compare; `target` defaults to ftsim's URL."""
    namespace = namespace or new_namespace()
    count = count or scenario.count
    summary = ftsim.summary()
    before = summary["received"]
    budget = float(summary.get("latency_ms", {}).get("budget", 1000.0)) / 1000
    severity = Severities(ftsim.severities()).of
    planned = take(scenario, count, namespace, via, summary.get("profile", "strict"))
    expected, rounds = expect_all(planned, via, severity, budget)
    try:
        channel = open_channel(via, target or ftsim.base, **channel_options)
    except ValueError as exc:  # a bad target, or a broker that refused or is not there: as `ftsim send` says it
        raise ConfigError(str(exc)) from None
    started = time.monotonic()
    stats = deliver(channel, Renderer(via).stream(planned), rate=rate, progress=progress,
                    label=f"{scenario.name} via {via}", count=len(planned))
    report = Report()
    if via != "rest":  # REST answers after storing; a broker's consumer may still be working through the queue
        received = ftsim.wait_received(before + len(planned), settle_timeout or max(30.0, len(planned) / 500))
        if received < before + len(planned):
            report.differ.append(f"ftsim received {received - before} of {len(planned)} messages before the "
                                 f"wait ended")
    seconds = time.monotonic() - started
    stored = ftsim.messages_of_run(namespace, len(planned))
    compare_messages(expected, stored, report)
    compare_rounds(rounds, ftsim.rounds_of({p.user_id for p in planned}), report)
    return Run(scenario, via, namespace, len(planned), stats, seconds, report)
