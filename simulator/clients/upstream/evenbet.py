"""Play the platform's event bus (seed 002): EvenBet financial events published to RabbitMQ or Kafka.

Player journeys deposit, play casino rounds (a bet transaction, then OnCasinoRoundClosed with the win's
transaction), transfer to another player (OnP2PTransfer) and withdraw; every move of money is followed by
OnPlayerBalanceChanged with the wallet's old and new balances. Amounts are integers in the currency's
precision (cents; yen have none), currencies integer `moneyType` codes, `createdStamp` is
`YYYY-MM-DD HH:MM:SS`, ids integers: the seed's fields and types. Each event is published with its name as
the type marker (AMQP property / Kafka header `type`), after it was registered with ftsim.
"""
from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from faker import Faker

from simulator.core.timefmt import iso

DEPOSIT, WITHDRAWAL, CASINO_BET = 10, 20, 301  # transactionType codes: the shipped mapping's defaults
MONEY_TYPES = {80: ("EUR", 2), 81: ("USD", 2), 83: ("JPY", 0)}
# scenario -> (casino rounds per journey, P2P transfer share, withdraw share)
SCENARIOS = {"journeys": ((2, 6), 0.3, 0.6), "casino": ((6, 15), 0.0, 0.2), "payments": ((0, 0), 0.2, 0.9)}


@dataclass
class Player:
    id: int
    external_id: str
    money_type: int
    real: int = 0
    bonus: int = 0
    in_play: int = 0

    @property
    def scale(self) -> int:
        return 10 ** MONEY_TYPES[self.money_type][1]


@dataclass
class Bus:
    """Makes the events; `events()` yields (name, body, partition key) until `count` events were made."""
    seed: int = 1
    scenario: str = "journeys"
    players: int = 30
    rng: random.Random = field(init=False)

    def __post_init__(self):
        if self.scenario not in SCENARIOS:
            raise ValueError(f"scenario: expected one of {', '.join(SCENARIOS)}, got {self.scenario!r}")
        self.rng = random.Random(self.seed)
        fake = Faker()
        fake.seed_instance(self.seed)
        codes = (80, 80, 80, 81, 83)
        self.pool = [Player(fake.unique.random_int(10_000, 9_999_999), fake.bothify("EXT-#####??").upper(),
                            self.rng.choice(codes)) for _ in range(self.players)]
        self._tx = self.rng.randint(300_000, 90_000_000)  # wide: runs with fresh seeds rarely share an id
        self._round = 0

    def events(self, count: int):
        """Journeys of random players, interleaved one step at a time, until count events."""
        rounds, p2p, withdraw = SCENARIOS[self.scenario]
        journeys = []
        made = 0
        while made < count:
            while len(journeys) < max(1, self.players // 3):
                journeys.append(self._journey(self.rng.choice(self.pool), rounds, p2p, withdraw))
            j = self.rng.randrange(len(journeys))
            try:
                for event in next(journeys[j]):
                    yield event
                    made += 1
                    if made >= count:
                        return
            except StopIteration:
                journeys.pop(j)

    def _journey(self, p: Player, rounds, p2p_share, withdraw_share):
        """One player's story, one step (a list of events that belong together) per next()."""
        unit = p.scale
        yield self._transaction(p, DEPOSIT, self.rng.randint(10, 500) * unit, credit=True)
        for _ in range(self.rng.randint(*rounds) if rounds[1] else 0):
            if p.real < unit:
                break
            bet = min(p.real, self.rng.randint(1, 20) * unit // self.rng.choice((1, 2, 4)) or unit)
            self._round += 1
            round_id = f"{self.rng.randint(100000, 999999)}-{self._round}"
            yield self._transaction(p, CASINO_BET, bet, credit=False, session=round_id)
            win = bet * self.rng.choice((0, 0, 0, 1, 2, 3, 5)) + (self.rng.randint(0, unit) if unit > 1 else 0)
            win = 0 if self.rng.random() < 0.45 else win
            yield self._round_closed(p, round_id, win)
        if self.rng.random() < p2p_share and p.real >= unit:
            others = [o for o in self.pool if o is not p and o.money_type == p.money_type]
            if others:
                yield self._p2p(p, self.rng.choice(others), self.rng.randint(1, max(1, p.real // unit // 2)) * unit)
        if self.rng.random() < withdraw_share and p.real > 0:
            yield self._transaction(p, WITHDRAWAL, self.rng.randint(1, p.real), credit=False)

    # -- the four events ---------------------------------------------------------------------------------

    def _balance(self, p: Player, delta: int) -> tuple:
        old = p.real
        p.real += delta
        return ("OnPlayerBalanceChanged", {
            "playerId": p.id, "externalId": p.external_id, "externalSystemCode": "default", "skinId": 0,
            "moneyType": p.money_type, "oldAmount": old, "newAmount": p.real, "oldBonusAmount": p.bonus,
            "newBonusAmount": p.bonus, "newInPlayAmount": p.in_play}, str(p.id))

    def _transaction(self, p: Player, kind: int, amount: int, *, credit: bool, session: str = "") -> list:
        self._tx += 1
        body = {"transactionId": self._tx, "paramPlayerId": p.id, "paramExternalId": p.external_id,
                "paramExternalSystemCode": "default", "skinId": 0, "moneyType": p.money_type, "amount": amount,
                "transactionType": kind, "transactionSubType": {DEPOSIT: 1, WITHDRAWAL: 2, CASINO_BET: 113}[kind],
                "spendingPriority": 0, "paramTableId": 0, "paramTournamentId": 0, "notes": "",
                "createdStamp": stamp(), "paramExternalSessionId": session}
        return [("OnTransactionNotification", body, str(p.id)), self._balance(p, amount if credit else -amount)]

    def _round_closed(self, p: Player, round_id: str, win: int) -> list:
        self._tx += 1
        body = {"provider": "MyProvider", "externalRoundId": round_id, "playerId": p.id,
                "externalId": p.external_id, "externalSystemCode": "default", "skinId": 0, "closeMethod": 1,
                "closedByPlayerId": p.id, "hasTransaction": True,
                "transaction": {"playerId": p.id, "moneyType": p.money_type, "amount": win, "subtype": 114,
                                "notes": "", "isReverse": False, "isResultSuccess": True, "resultText": "",
                                "resultTransactionId": self._tx, "spendingPriority": 0, "entityType": 3,
                                "entityId": self._round, "skipCreation": False},
                "hasRoundExtInfo": False, "creditBalancePriority": 0,
                "betMultiplier": 0, "betType": 0, "oldRoundCloseMethod": 0, "objectId": p.id}
        out = [("OnCasinoRoundClosed", body, str(p.id))]
        if win:
            out.append(self._balance(p, win))
        return out

    def _p2p(self, sender: Player, receiver: Player, amount: int) -> list:
        body = {"senderId": sender.id, "senderExternalId": sender.external_id, "senderExternalSystemCode": "default",
                "senderSkinId": 0, "receiverId": receiver.id, "receiverExternalId": receiver.external_id,
                "receiverExternalSystemCode": "default", "receiverSkinId": 0, "moneyType": sender.money_type,
                "amount": amount, "request": False, "success": True}
        return [("OnP2PTransfer", body, str(sender.id)), self._balance(sender, -amount), self._balance(receiver, amount)]


def stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


class Publisher:
    """Publishes the bus's events through a sender channel (RabbitMQ or Kafka), registering each batch
    with ftsim first so its FT events find their input waiting."""

    def __init__(self, channel, link, *, batch: int = 50):
        self.channel, self.link, self.batch = channel, link, batch
        self.sent = 0
        self._n = 0

    def run(self, events, rate: float) -> None:
        from simulator.clients.sender.base import Outgoing

        interval = 1.0 / rate if rate > 0 else 0.0
        next_at = time.monotonic()
        pending: list = []
        for name, body, key in events:
            pending.append((name, body, key))
            if len(pending) >= self.batch:
                next_at = self._publish(pending, Outgoing, next_at, interval)
                pending = []
        if pending:
            self._publish(pending, Outgoing, next_at, interval)

    def _publish(self, batch, Outgoing, next_at, interval):
        now = iso(datetime.now(timezone.utc))
        for name, body, key in batch:
            self._n += 1
            self.link.add({"id": f"{name}:{self._n}", "source": "evenbet", "kind": name, "sent_at": now, "body": body})
        self.link.flush()
        for name, body, key in batch:
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            next_at = max(next_at, time.monotonic() - 1.0) + interval
            self.channel.submit(Outgoing(json.dumps(body).encode(), marker=name, key=key, name=name))
            self.sent += 1
        return next_at
