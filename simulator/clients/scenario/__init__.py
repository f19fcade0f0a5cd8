"""Scenarios: seeded, Faker-driven casino traffic that knows the verdict ftsim should give each message.

    spec.py      a scenario file (TOML in scenarios/) read into a checked Scenario
    games.py     the game library and currencies players use
    journeys.py  players, wallets, sessions and rounds: the clean stream
    faults.py    named faults, a registry of small functions, injected at the scenario's rates
    stream.py    the numbered, endless, deterministic stream: journeys + faults
    render.py    a planned message to bytes and a type marker, at the moment it is sent
    expect.py    the oracle: expected verdicts and rounds, from a model of the CRM's ledger
    remote.py    a client of ftsim's query API
    compare.py   expected against judged, as a readable diff
    runner.py    send over a channel, wait, read back, compare
    feed.py      an endless supply of (message, expected verdict) pairs for load tools (Locust)

Scenarios are clients of ftsim: they send over the wire through simulator.clients.sender, never through intake.
"""
from __future__ import annotations

from simulator.clients.scenario.spec import Scenario, ScenarioError, list_scenarios, load_scenario
from simulator.clients.scenario.stream import plan, take

__all__ = ["Scenario", "ScenarioError", "list_scenarios", "load_scenario", "plan", "take"]
