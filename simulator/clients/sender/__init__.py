"""The sender: puts casino messages on the wire of any target, ftsim or a real CRM, as a platform would.

It is a client. It never imports intake or the store: it sends over REST (API key or Basic, retried until
2xx with backoff), RabbitMQ (the AMQP property `type`) or Kafka (the header `type`), at a steady rate or
as fast as the target takes them, and counts what happened. `open_channel` builds a channel, `deliver`
feeds it from any iterable of `Outgoing` and shows progress.
"""
from __future__ import annotations

from simulator.clients.sender.base import Outgoing, Stats
from simulator.clients.sender.drive import deliver


def open_channel(via: str, target: str, *, stats: Stats | None = None, **options):
    """A channel for `via` (rest, rabbit or kafka) to `target` (a URL, an AMQP URL, a bootstrap list)."""
    stats = stats or Stats()
    if via == "rest":
        from simulator.clients.sender.rest import RestChannel

        return RestChannel(target, stats=stats, **_only(options, RestChannel.OPTIONS))
    if via == "rabbit":
        from simulator.clients.sender.rabbit import RabbitChannel

        return RabbitChannel(target, stats=stats, **_only(options, RabbitChannel.OPTIONS))
    if via == "kafka":
        from simulator.clients.sender.kafka import KafkaChannel

        return KafkaChannel(target, stats=stats, **_only(options, KafkaChannel.OPTIONS))
    raise ValueError(f"via: expected rest, rabbit or kafka, got {via!r}")


def _only(options: dict, names) -> dict:
    return {k: v for k, v in options.items() if k in names and v is not None}


__all__ = ["Outgoing", "Stats", "deliver", "open_channel"]
