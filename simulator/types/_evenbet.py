"""EvenBet's financial events (seed 002), for teams that produce them: the platform's bus contract, not FT's.

Each is an event type of its own, its marker the EvenBet event name, so REST (`POST /v1/integration/evenbet/<name>`),
RabbitMQ and Kafka take it like any other. They have one profile, `strict`, from the seed's field tables
(every profile falls back to it): EvenBet publishes one contract, so there is nothing to choose between.
Their FT counterpart is checked by the pipeline pairing (`simulator/upstream/`), not here.
"""
from __future__ import annotations

from simulator.contract.plugin import EventType
from simulator.contract.registry import load_schema


def evenbet_type(name: str, marker: str, summary: str, ref: str | None = None) -> EventType:
    return EventType(name=f"evenbet_{name}", marker=marker, document=load_schema(f"evenbet/{name}"), method="POST",
                     path=f"/v1/integration/evenbet/{marker}", ref=ref, summary=summary)
