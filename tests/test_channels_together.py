"""REST, RabbitMQ and Kafka at once in one ftsim: one ledger across channels, the same verdicts as `ftsim check`."""
import http.client
import json
import random
from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from simulator.cli import main
from simulator.contract.registry import load_registry
from simulator.store import open_store
from simulator.clients.publish import KafkaPublisher, publish_rabbit

from tests.brokers import api, channel_state, received, wait_for
from tests.conftest import Client, casino_event

pytestmark = pytest.mark.broker

NO_CLOCK = ["latency.budget=off", "timestamp.future=off"]  # what `ftsim check` turns off: a file has no clock
SUMMARY_KEYS = ("received", "valid", "invalid", "duplicates", "by_rule", "states")


@pytest.fixture
def all_channels(start_server, rabbit_url, rabbit_queue, kafka_bootstrap, kafka_topic):
    """ftsim on REST, RabbitMQ and Kafka, returned once its Kafka group has given it the partitions."""
    def start(**flags):
        server = start_server(rabbit=rabbit_url, rabbit_queue=rabbit_queue, kafka=kafka_bootstrap,
                              kafka_topic=kafka_topic, kafka_group=f"g-{kafka_topic}", **flags)
        wait_for(lambda: channel_state(server, "kafka").get("partitions"), 30, what="partitions assigned")
        return server
    return start


def test_a_round_is_built_from_a_bet_on_kafka_and_a_win_on_rest(all_channels, rabbit_url, rabbit_queue,
                                                               kafka_bootstrap, kafka_topic):
    server = all_channels()
    common = {"user_id": "u-cross", "round_id": "r-cross"}
    publisher = KafkaPublisher(kafka_bootstrap)
    publisher.send(kafka_topic, casino_event(activity_id="bet-kafka", **common))
    publisher.close()
    wait_for(lambda: received(server) == 1, what="the Kafka bet judged")
    publish_rabbit(rabbit_url, rabbit_queue, [casino_event(activity_id="bet-rabbit", amount=5.0, wager_amount=5.0,
                                                           **common)])
    wait_for(lambda: received(server) == 2, what="the RabbitMQ bet judged")
    status, _ = Client(server.url).post_event(casino_event(activity_id="win-rest", type="Win", amount=40.0,
                                                           wager_amount=40.0, is_round_end=True, **common))
    assert status == 200
    (rnd,) = api(server, "/api/rounds?user_id=u-cross")["rounds"]
    assert (rnd["status"], rnd["events"]) == ("closed", 3)
    assert (Decimal(rnd["bet_total"]), Decimal(rnd["win_total"])) == (Decimal("25"), Decimal("40"))
    assert api(server, "/api/summary")["by_channel"].keys() == {"kafka", "rabbit", "rest"}


# -- 10,000 mixed messages: ftsim serve on three channels against ftsim check -------------------------

def player_stream(user: str, rng: random.Random):
    """Endless bodies (bytes) for one player, in order: rounds with the faults integrations commonly have."""
    clock = rng.randrange(10**6)
    ids = iter(range(10**9))

    def event(**fields):
        nonlocal clock
        clock += 1
        stamp = f"2026-03-01T{clock // 3600 % 24:02d}:{clock // 60 % 60:02d}:{clock % 60:02d}.000Z"
        fields.setdefault("activity_id", f"{user}-a{next(ids)}")
        return casino_event(user_id=user, timestamp=stamp, **fields)

    def raw(payload):
        return json.dumps(payload).encode()

    for number in range(10**9):
        rnd = {"round_id": f"{user}-r{number}"}
        bet = event(**rnd)
        win = event(type="Win", amount=30.0, wager_amount=30.0, is_round_end=True, **rnd)
        kind = rng.random()
        if kind < 0.60:
            yield from (raw(bet), raw(win))
        elif kind < 0.66:  # the sender retried: the same bytes again
            yield from (raw(bet), raw(bet), raw(win))
        elif kind < 0.71:
            yield raw(win)  # round.win_without_bet
        elif kind < 0.76:  # the bet rolled back by its own activity_id
            yield from (raw(bet), raw({**bet, "status": "Rollback"}), raw(win))
        elif kind < 0.81:
            yield from (raw({**bet, "currency": "EURO"}), raw(win))  # schema.enum, then a win with no bet
        elif kind < 0.85:
            yield from (raw({**bet, "amount": 25.0}), raw(win))  # amount.sum
        elif kind < 0.89:
            yield from (raw({k: v for k, v in bet.items() if k != "game_id"}), raw(win))  # schema.required
        elif kind < 0.93:
            yield from (raw(bet), raw(win), raw(event(**rnd)))  # round.after_end
        elif kind < 0.97:
            yield from (raw(bet), raw({**bet, "amount": 21.0, "wager_amount": 21.0}), raw(win))  # duplicate
        else:
            yield b'{"activity_id": "' + user.encode() + b'", oops'  # json.parse


def mixed_messages(count: int, players: int = 90, seed: int = 7):
    """(channel, user, body) with each player on one channel, so order across channels cannot matter."""
    rng = random.Random(seed)
    channels = ("rest", "rabbit", "kafka")
    streams = [(channels[i % 3], f"p{i}", player_stream(f"p{i}", random.Random(seed + i))) for i in range(players)]
    out = []
    while len(out) < count:
        channel, user, stream = rng.choice(streams)
        out.append((channel, user, next(stream)))
    return out


def post_all(url: str, bodies: list[bytes]) -> None:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        for body in bodies:
            conn.request("POST", "/v1/integration/casino", body=body, headers={"Content-Type": "application/json"})
            conn.getresponse().read()
    finally:
        conn.close()


def test_serve_on_three_channels_gives_the_same_summary_as_check(all_channels, rabbit_url, rabbit_queue,
                                                                kafka_bootstrap, kafka_topic, tmp_path):
    messages = mixed_messages(10_000)
    server = all_channels(severity=NO_CLOCK)
    publish_rabbit(rabbit_url, rabbit_queue, [body for ch, _, body in messages if ch == "rabbit"], confirm=False)
    publisher = KafkaPublisher(kafka_bootstrap)
    for channel, user, body in messages:
        if channel == "kafka":
            publisher.send(kafka_topic, body, key=user)  # one player, one partition: their order holds
    publisher.close()
    post_all(server.url, [body for ch, _, body in messages if ch == "rest"])
    wait_for(lambda: received(server) >= len(messages), 60, what="all 10,000 judged")
    served = api(server, "/api/summary")

    lines = tmp_path / "same.jsonl"
    lines.write_bytes(b"\n".join(body for _, _, body in messages) + b"\n")
    assert main(["check", str(lines), "--db", str(tmp_path / "check.db"), "--quiet"]) == 1  # errors among them
    store = open_store(str(tmp_path / "check.db"), tables=load_registry().tables())
    try:
        checked = store.counts()
    finally:
        store.close()

    assert {k: served[k] for k in SUMMARY_KEYS} == {k: checked[k] for k in SUMMARY_KEYS}
    assert served["received"] == 10_000 and {n["received"] > 3000 for n in served["by_channel"].values()} == {True}
    assert {"json.parse", "schema.enum", "schema.required", "amount.sum", "activity.retry", "activity.duplicate",
            "round.win_without_bet", "round.after_end"} <= set(served["by_rule"])
    assert 0 < served["invalid"] < served["valid"] and served["duplicates"] > 0
