"""An endless supply of scenario messages with their expected verdicts, for load tools (Locust).

Each Feed is one sender's own stream: its own namespace (ids never collide between Locust users or
workers), its messages in order (a player's bet before their win), and its own oracle, so a REST answer
can be checked against the verdict expected for that very message. The oracle forgets players a while
after they leave, so a long session keeps flat memory.
"""
from __future__ import annotations

from simulator.clients.sender.base import Outgoing
from simulator.clients.scenario.expect import Expected, Oracle
from simulator.clients.scenario.render import Renderer
from simulator.clients.scenario.spec import Scenario
from simulator.clients.scenario.stream import new_namespace, plan


class Feed:
    def __init__(self, scenario: Scenario, channel: str, namespace: str | None = None, severity=None,
                 latency_budget: float = 1.0):
        self.namespace = namespace or new_namespace()
        self._planned = plan(scenario, self.namespace, channel)
        oracle = Oracle(channel, latency_budget=latency_budget, keep_departed=4 * scenario.players + 16)
        if severity is not None:
            oracle.severity = severity
        self._oracle = oracle
        self._renderer = Renderer(channel)

    def next(self) -> tuple[Outgoing, Expected]:
        p = next(self._planned)
        return self._renderer.outgoing(p), self._oracle.expect(p)


def judge_answer(expected: Expected, answer: dict) -> str | None:
    """None when ftsim's answer to a REST post is the expected verdict; otherwise why not, in one line.

    A late arrival the sender did not plan (the target was slow) is not held against the verdict.
    """
    got = {v["rule"] for v in answer.get("violations", ())}
    want = set(expected.rules)
    if "latency.budget" not in want:
        got.discard("latency.budget")
    if answer.get("valid") == expected.valid and got == want:
        return None
    return (f"{expected.label}: expected {'valid' if expected.valid else 'invalid'} "
            f"{sorted(want) or '-'}, ftsim said {'valid' if answer.get('valid') else 'invalid'} {sorted(got) or '-'}")
