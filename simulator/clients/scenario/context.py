"""The player as a type's scenario generator sees them (`EventType.generate(ctx, **want)`).

Generators live in the type folders, which may not import clients, so they read this object by its
attributes only: who the player is (user_id, currency, exchange_rate, country), what they hold (wallet:
real, bonus and locked money, Decimal), the scenario's seeded randomness (rng, fake) and clock, and fresh
ids in the run's namespace. Everything random must come from rng and fake, so a seed gives one stream.
"""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from faker import Faker


@dataclass
class PlayerContext:
    user_id: str
    currency: str
    exchange_rate: object  # Decimal: EUR per unit of the currency
    country: str  # ISO 3166 alpha-2
    wallet: object  # journeys.Wallet
    rng: random.Random
    fake: Faker
    clock: Callable[[], datetime]  # the scenario's notion of now (not the timestamp: the sender sets that)
    origin: str
    namespace: str
    _new_id: Callable[[str], str]

    def new_id(self, kind: str) -> str:
        """A fresh id for a kind of thing (payment, bonus ...) unique in the run: "<ns>-payment0000012"."""
        return self._new_id(kind)

    def new_number(self, kind: str) -> int:
        """A fresh whole number for ids the schema wants as digits or integers (cart_id, ticket_id): the
        run's namespace hashed to 9 digits, then a counter of 7, so two runs against one ftsim never meet."""
        n = int(self.new_id(kind)[-7:])
        run = int.from_bytes(hashlib.blake2b(self.namespace.encode(), digest_size=4).digest()) % 10**9
        return (run + 1) * 10**7 + n

    def meta(self) -> dict:
        """The run's mark for types whose schema has `meta`: the runner finds its messages by it (the stream
        numbers meta.seq)."""
        return {"run": self.namespace, "seq": 0}
