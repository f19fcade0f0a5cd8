"""An example operator integration: consumes EvenBet financial events from RabbitMQ and publishes Fast Track
events to Kafka (header `type` = the FT marker, keyed by user so a player's events keep their order).

    python examples/evenbet_adapter.py --rabbit amqp://guest:guest@127.0.0.1:5672/%2F --queue evenbet.events
                                       --kafka 127.0.0.1:9092 --topic ftsim.casino [--bug ...]

  OnPlayerBalanceChanged           -> USER_BALANCES_UPDATE (real_money and bonus_money, in units)
  OnTransactionNotification 10/20  -> PAYMENT Credit/Debit Approved
  OnTransactionNotification 301    -> CASINO Bet (round: paramExternalSessionId)
  OnCasinoRoundClosed              -> CASINO Win (the transaction's amount, is_round_end true)
  OnP2PTransfer                    -> nothing (the two balance changes carry it)
Amounts arrive as integers in the currency's precision and leave as units; moneyType becomes ISO 4217.

Bug switches: cents (amounts left in minor units), drop-win (a won round's Win never sent), late (every FT
event leaves 1.5 s late), round-id (the Win's round is EvenBet's internal entityId, not the provider's).
"""
from __future__ import annotations

import argparse
import heapq
import json
import logging
import sys
import threading
import time
from datetime import datetime, timezone
from decimal import Decimal

import pika
from kafka import KafkaProducer

BUGS = ("cents", "drop-win", "late", "round-id")
LATE_SECONDS = 1.5
MONEY = {80: ("EUR", 2), 81: ("USD", 2), 82: ("GBP", 2), 83: ("JPY", 0)}


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Mapper:
    def __init__(self, bugs: set[str]):
        self.bugs = bugs

    def units(self, amount: int, money_type: int) -> float:
        if "cents" in self.bugs:
            return float(amount)
        return float(Decimal(amount).scaleb(-MONEY[money_type][1]))

    def ft_events(self, name: str, e: dict) -> list[tuple[str, dict]]:
        if name == "OnPlayerBalanceChanged":
            currency = MONEY[e["moneyType"]][0]
            return [("USER_BALANCES_UPDATE", {
                "user_id": str(e["playerId"]), "origin": "evenbet.example.com", "timestamp": now(),
                "balances": [{"key": "real_money", "amount": self.units(e["newAmount"], e["moneyType"]),
                              "currency": currency, "exchange_rate": 1},
                             {"key": "bonus_money", "amount": self.units(e["newBonusAmount"], e["moneyType"]),
                              "currency": currency, "exchange_rate": 1}]})]
        if name == "OnTransactionNotification":
            kind = e["transactionType"]
            currency = MONEY[e["moneyType"]][0]
            if kind in (10, 20):
                return [("PAYMENT", {"payment_id": str(e["transactionId"]), "user_id": str(e["paramPlayerId"]),
                                     "amount": self.units(e["amount"], e["moneyType"]), "currency": currency,
                                     "exchange_rate": 1, "origin": "evenbet.example.com", "status": "Approved",
                                     "timestamp": now(), "type": "Credit" if kind == 10 else "Debit",
                                     "vendor_id": "evenbet", "vendor_name": "EvenBet"})]
            if kind == 301:
                return [("CASINO", self._casino("Bet", str(e["paramPlayerId"]), e["paramExternalSessionId"],
                                                e["amount"], e["moneyType"], e["transactionId"], False))]
            return []
        if name == "OnCasinoRoundClosed" and e.get("hasTransaction"):
            t = e["transaction"]
            if t.get("isReverse"):
                return []
            if "drop-win" in self.bugs and t["amount"] > 0:
                return []
            round_id = str(t["entityId"]) if "round-id" in self.bugs else e["externalRoundId"]
            return [("CASINO", self._casino("Win", str(e["playerId"]), round_id, t["amount"], t["moneyType"],
                                            t.get("resultTransactionId"), True))]
        return []

    def _casino(self, kind, user, round_id, amount, money_type, tx, end) -> dict:
        return {"activity_id": f"{kind.lower()}-{tx}", "amount": self.units(amount, money_type),
                "currency": MONEY[money_type][0], "exchange_rate": 1, "game_id": "evenbet-casino",
                "game_name": "EvenBet casino", "is_round_end": end, "origin": "evenbet.example.com",
                "round_id": round_id, "status": "Approved", "timestamp": now(), "type": kind, "user_id": user,
                "vendor_id": "evenbet"}


class Delayed(threading.Thread):
    """Sends each FT event at its due time, in the order they were made."""

    def __init__(self, producer: KafkaProducer, topic: str):
        super().__init__(daemon=True)
        self.producer, self.topic = producer, topic
        self.queue: list = []
        self.cond = threading.Condition()
        self.n = 0

    def put(self, marker: str, event: dict, due: float) -> None:
        with self.cond:
            self.n += 1
            heapq.heappush(self.queue, (due, self.n, marker, event))
            self.cond.notify()

    def run(self) -> None:
        while True:
            with self.cond:
                while not self.queue or self.queue[0][0] > time.monotonic():
                    self.cond.wait(None if not self.queue else max(0.0, self.queue[0][0] - time.monotonic()))
                _, _, marker, event = heapq.heappop(self.queue)
            self.producer.send(self.topic, json.dumps(event).encode(), key=event["user_id"].encode(),
                               headers=[("type", marker.encode())])
            if not self.queue:
                self.producer.flush()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rabbit", required=True)
    p.add_argument("--queue", default="evenbet.events")
    p.add_argument("--kafka", required=True)
    p.add_argument("--topic", default="ftsim.casino")
    p.add_argument("--bug", action="append", choices=BUGS, default=[])
    args = p.parse_args(argv)
    logging.getLogger("kafka").setLevel(logging.WARNING)
    mapper = Mapper(set(args.bug))
    producer = KafkaProducer(bootstrap_servers=args.kafka.split(","), acks="all", linger_ms=5,
                             max_in_flight_requests_per_connection=1)
    sender = Delayed(producer, args.topic)
    sender.start()
    conn = pika.BlockingConnection(pika.URLParameters(args.rabbit))
    ch = conn.channel()
    ch.queue_declare(args.queue, durable=True)
    ch.basic_qos(prefetch_count=200)
    delay = LATE_SECONDS if "late" in args.bug else 0.0

    def on_message(channel, method, props, body):
        try:
            for marker, event in mapper.ft_events(props.type or "", json.loads(body)):
                sender.put(marker, event, time.monotonic() + delay)
        except (ValueError, KeyError, TypeError) as exc:  # an event it cannot map: logged, not retried forever
            print(f"evenbet adapter: cannot map {props.type}: {exc}", file=sys.stderr, flush=True)
        channel.basic_ack(method.delivery_tag)

    ch.basic_consume(args.queue, on_message)
    print(f"evenbet adapter consuming {args.queue}, publishing to {args.topic} "
          f"(bugs: {', '.join(args.bug) or 'none'})", flush=True)
    try:
        ch.start_consuming()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
