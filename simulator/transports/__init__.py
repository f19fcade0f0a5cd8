"""Broker listeners: each turns its broker's messages into Envelopes and hands them to intake in batches.

A listener has `name`, `run()` (blocks, reconnecting with backoff until stopped) and `stop()`.
"""
from __future__ import annotations


def build_listeners(settings, runtime) -> list:
    listeners = []
    if settings.rabbit:
        from .rabbit import RabbitListener

        listeners.append(RabbitListener(settings, runtime))
    if settings.kafka:
        from .kafka import KafkaListener

        listeners.append(KafkaListener(settings, runtime))
    return listeners
