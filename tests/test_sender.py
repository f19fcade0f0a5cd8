"""The sender against any target: REST with credentials, retried until 2xx with backoff and bounded;
RabbitMQ with the AMQP property `type`; Kafka with the header `type`; items taken only when sent."""
from __future__ import annotations

import io
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pika
import pytest

from simulator.cli import main
from simulator.clients.sender import Outgoing, deliver, open_channel
from simulator.clients.sender.rest import Backoff, endpoint
from tests.conftest import Client, casino_event

FAST = Backoff(base=0.001, cap=0.005, seed=1)


def body(**fields) -> bytes:
    return json.dumps(casino_event(**fields)).encode()


class Target:
    """A real HTTP server that answers from a script: `answer(n, body) -> status` for its n-th request."""

    def __init__(self, answer):
        self.received: list[tuple[bytes, dict]] = []
        self._lock = threading.Lock()
        target = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                data = self.rfile.read(int(self.headers["Content-Length"]))
                with target._lock:
                    target.received.append((data, dict(self.headers)))
                    status = answer(len(target.received), data)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                if status == 503:
                    self.send_header("Retry-After", "0")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def target():
    made = []

    def make(answer):
        made.append(Target(answer))
        return made[-1]
    yield make
    for t in made:
        t.close()


# -- REST ------------------------------------------------------------------------------------------

def test_rest_with_an_api_key_is_accepted_by_ftsim(start_server):
    server = start_server(api_key="s3cret")
    stats = deliver(open_channel("rest", server.url, api_key="s3cret"), [Outgoing(body()) for _ in range(5)])
    assert (stats.delivered, stats.rejected, stats.statuses) == (5, 0, {200: 5})


def test_rest_with_basic_credentials_is_accepted_by_ftsim(start_server):
    server = start_server(basic_auth="op:pw")
    stats = deliver(open_channel("rest", server.url, basic_auth="op:pw"), [Outgoing(body())])
    assert stats.statuses == {200: 1}


def test_wrong_credentials_are_rejected_once_and_not_retried(start_server):
    server = start_server(api_key="s3cret")
    stats = deliver(open_channel("rest", server.url, api_key="guess", backoff=FAST), [Outgoing(body())] * 3)
    assert (stats.rejected, stats.retries, stats.statuses) == (3, 0, {401: 3})


def test_retries_until_2xx_sending_the_same_bytes(target):
    t = target(lambda n, data: {1: 503, 2: 500, 3: 429}.get(n, 200))
    sent = body()
    stats = deliver(open_channel("rest", t.url, backoff=FAST), [Outgoing(sent)])
    assert (stats.delivered, stats.retries) == (1, 3)
    assert [data for data, _ in t.received] == [sent] * 4


def test_gives_up_after_max_attempts(target):
    t = target(lambda n, data: 503)
    stats = deliver(open_channel("rest", t.url, max_attempts=4, backoff=FAST), [Outgoing(body())])
    assert (stats.delivered, stats.failed, stats.retries, len(t.received)) == (0, 1, 3, 4)


def test_retry_4xx_retries_a_refusal_too(target):
    t = target(lambda n, data: 400 if n < 3 else 200)
    stats = deliver(open_channel("rest", t.url, retry_4xx=True, backoff=FAST), [Outgoing(body())])
    assert (stats.delivered, stats.retries) == (1, 2)


def test_a_target_that_is_not_there_fails_after_bounded_attempts():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once the socket is closed
    stats = deliver(open_channel("rest", f"http://127.0.0.1:{port}", max_attempts=3, backoff=FAST),
                    [Outgoing(body())])
    assert (stats.failed, stats.retries) == (1, 2)


def test_a_users_messages_keep_their_order_across_workers(target):
    first_of_each = set()

    def answer(n, data):  # the first message of each user fails once: a retry must not let the next overtake
        user = json.loads(data)["user_id"]
        if user in first_of_each:
            return 200
        first_of_each.add(user)
        return 503
    t = target(answer)
    items = [Outgoing(body(user_id=f"u{i % 5}", activity_id=f"a{i}"), key=f"u{i % 5}") for i in range(60)]
    stats = deliver(open_channel("rest", t.url, workers=4, backoff=FAST), items)
    assert stats.delivered == 60
    order = {}
    for data, _ in t.received:
        e = json.loads(data)
        order.setdefault(e["user_id"], []).append(e["activity_id"])
    for user, ids in order.items():
        sent = [f"a{i}" for i in range(60) if f"u{i % 5}" == user]
        assert list(dict.fromkeys(ids)) == sent


def test_credentials_and_content_type_go_with_every_request(target):
    t = target(lambda n, data: 200)
    deliver(open_channel("rest", t.url, basic_auth="op:pw"), [Outgoing(body())])
    headers = t.received[0][1]
    assert headers["Authorization"] == "Basic b3A6cHc=" and headers["Content-Type"] == "application/json"


def test_a_bare_address_gets_the_casino_path():
    assert endpoint("127.0.0.1:8080") == ("http", "127.0.0.1", 8080, None)  # each message to its type's path
    assert endpoint("https://crm.example/v1/integration/casino?x=1")[3] == "/v1/integration/casino?x=1"


def test_backoff_grows_with_jitter_and_honours_retry_after():
    b = Backoff(base=0.1, cap=1.0, seed=3)
    assert all(0 <= b.delay(n) <= min(1.0, 0.1 * 2 ** n) for n in range(8) for _ in range(20))
    assert b.delay(0, retry_after="2") == 2.0


# -- the driver ------------------------------------------------------------------------------------

class Recorder:
    name = "recorder"

    def __init__(self, log):
        from simulator.clients.sender import Stats

        self.stats, self.log = Stats(), log

    def submit(self, item):
        self.log.append(("sent", item.body))
        self.stats.add(delivered=1)

    def close(self):
        self.log.append(("closed", None))


def test_items_are_taken_only_when_it_is_their_turn_to_go():
    log = []

    def items():
        for i in range(3):
            log.append(("made", str(i).encode()))
            yield Outgoing(str(i).encode())
    out = io.StringIO()
    deliver(Recorder(log), items(), count=2, progress=out, label="test")
    assert log == [("made", b"0"), ("sent", b"0"), ("made", b"1"), ("sent", b"1"), ("closed", None)]
    assert "test: sent 2/2, delivered 2, rejected 0, failed 0" in out.getvalue()


def test_a_message_waits_in_the_sender_at_most_its_workers_queues():
    """A message is stamped when it is queued, so what the queue holds is latency ftsim charges to the
    platform: with the target holding every request, the channel takes only one in flight per worker and
    QUEUED more each; the producer then waits rather than stamp messages that would go out late."""
    from simulator.clients.sender.rest import QUEUED

    held, taken = threading.Event(), []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)  # accepted by the kernel, never answered: every worker's request stays in flight
        channel = open_channel("rest", f"http://127.0.0.1:{listener.getsockname()[1]}", workers=2, timeout=30,
                               max_attempts=1)

        def produce():
            for i in range(100):
                channel.submit(Outgoing(str(i).encode(), key=f"u{i}"))
                taken.append(i)
            held.set()
        threading.Thread(target=produce, daemon=True).start()
        held.wait(1.0)  # not reached: the producer is held once the queues are full
        assert not held.is_set() and len(taken) <= 2 * (QUEUED + 1)
        listener.close()  # the held requests fail now, and the queued ones after them
    held.wait(60)
    assert held.is_set() and len(taken) == 100
    channel.close()


# -- brokers ---------------------------------------------------------------------------------------

@pytest.mark.broker
def test_rabbit_carries_the_marker_as_the_type_property(rabbit_url, rabbit_queue):
    items = [Outgoing(b'{"n":1}'), Outgoing(b'{"n":2}', marker=None), Outgoing(b'{"n":3}', marker=None,
                                                                            headers={"type": "CASINO"})]
    stats = deliver(open_channel("rabbit", rabbit_url, queue=rabbit_queue), items)
    assert stats.delivered == 3
    conn = pika.BlockingConnection(pika.URLParameters(rabbit_url))
    try:
        ch = conn.channel()
        got = [ch.basic_get(rabbit_queue, auto_ack=True) for _ in range(3)]
    finally:
        conn.close()
    assert [(props.type, props.headers, data) for _, props, data in got] == [
        ("CASINO", None, b'{"n":1}'), (None, None, b'{"n":2}'), (None, {"type": "CASINO"}, b'{"n":3}')]


@pytest.mark.broker
def test_kafka_carries_the_marker_as_the_type_header_keyed_by_user(kafka_bootstrap, kafka_topic):
    from kafka import KafkaConsumer

    stats = deliver(open_channel("kafka", kafka_bootstrap, topic=kafka_topic),
                    [Outgoing(b'{"n":1}', key="u1"), Outgoing(b'{"n":2}', marker="casino", key="u1")])
    assert stats.delivered == 2
    consumer = KafkaConsumer(kafka_topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest",
                             consumer_timeout_ms=5000)
    try:
        got = [(m.key, m.headers, m.value) for _, m in zip(range(2), consumer)]
    finally:
        consumer.close()
    assert got == [(b"u1", [("type", b"CASINO")], b'{"n":1}'), (b"u1", [("type", b"casino")], b'{"n":2}')]


# -- the command -----------------------------------------------------------------------------------

def test_send_restamps_a_recorded_file_so_it_arrives_within_the_budget(start_server, tmp_path, capsys):
    server = start_server()
    client = Client(server.url)
    as_recorded, restamped = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for path in (as_recorded, restamped):
        path.write_text("\n".join(json.dumps(casino_event(timestamp="2024-05-01T10:00:00.000Z")) for _ in range(3)))
    assert main(["send", str(as_recorded), "--target", server.url, "--quiet"]) == 0
    assert main(["send", str(restamped), "--target", server.url, "--restamp", "--quiet"]) == 0
    assert "3 sent: 3 delivered, 0 rejected, 0 failed" in capsys.readouterr().out
    status, late = client.get("/api/messages?rule=latency.budget")
    assert late["total"] == 3  # the first three, as recorded; the restamped ones arrived in time


def test_a_recorded_retry_is_restamped_as_the_same_bytes_and_stays_a_retry(start_server, tmp_path, capsys):
    """Each line got its own new timestamp, so a recording's exact retry went out as another payload under the
    same activity_id: activity.duplicate, a 400 where the platform had sent a retry."""
    server = start_server()
    first, second = (json.dumps(casino_event(timestamp="2024-05-01T10:00:00.000Z")) for _ in range(2))
    recording = tmp_path / "retries.jsonl"
    recording.write_text("\n".join([first, second, first, first]))
    assert main(["send", str(recording), "--target", server.url, "--restamp", "--quiet"]) == 0
    assert "4 sent: 4 delivered, 0 rejected, 0 failed" in capsys.readouterr().out
    retries = Client(server.url).get("/api/messages?rule=activity.retry")[1]
    assert retries["total"] == 2 and not Client(server.url).get("/api/messages?rule=activity.duplicate")[1]["total"]


def test_send_exits_one_when_the_target_refuses_a_message(start_server, tmp_path, capsys):
    server = start_server()
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(casino_event(amount=999)) + "\n" + json.dumps(casino_event()))
    assert main(["send", str(bad), "--target", server.url, "--quiet"]) == 1
    assert "2 sent: 1 delivered, 1 rejected, 0 failed, 0 retries (200: 1, 400: 1)" in capsys.readouterr().out


def test_send_a_scenario_to_ftsim(start_server, capsys):
    server = start_server()
    client = Client(server.url)
    assert main(["send", "--scenario", "steady", "--count", "120", "--target", server.url, "--quiet"]) == 0
    sent = int(capsys.readouterr().out.split()[0])  # 120, then the open rounds finished
    assert sent > 120 and client.get("/api/summary")[1]["valid"] == sent


@pytest.mark.parametrize("argv", [["send", "--help"], ["scenario", "run", "--help"]])
def test_the_commands_explain_their_options(argv, capsys):
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 0
    assert "amqp://guest:guest@127.0.0.1:5672/%2F" in capsys.readouterr().out
