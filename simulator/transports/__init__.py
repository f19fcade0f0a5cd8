"""Broker listeners: each turns its broker's messages into Envelopes and hands them to intake in batches.

A listener has `name`, `run()` (blocks, reconnecting with backoff until stopped) and `stop()`; the loop,
the stop flag and the safe call to intake live in base.py, each broker's session in its own module.
publish.py puts messages on the brokers the way an operator's platform would (tests, demos).
"""
from __future__ import annotations


def build_listeners(settings, runtime) -> list:
    listeners = []
    if settings.rabbit:
        from simulator.transports.rabbit import RabbitListener

        listeners.append(RabbitListener(settings, runtime))
    if settings.kafka:
        from simulator.transports.kafka import KafkaListener

        listeners.append(KafkaListener(settings, runtime))
    return listeners
