"""Load ftsim (or a staging CRM) with scenario traffic: one Locust user class per channel.

    locust -f locustfile.py --headless -u 20 -r 5 -t 1m RestUser      # CI: no UI, stops after a minute
    locust -f locustfile.py                                           # web UI on http://127.0.0.1:8089
    locust -f locustfile.py --master                                  # distributed: one master ...
    locust -f locustfile.py --worker --master-host 127.0.0.1          # ... and a worker per core

Each simulated user plays its own copy of the scenario (its own ids, its players' events in order).
RestUser checks every answer against the verdict the scenario expects for that message (a 400 for a
message meant to be invalid is a success; a 200 for it is a failure). RabbitUser and KafkaUser report
each publish (confirmed by the broker) to Locust's statistics. Options: --scenario, --user-rate,
--api-key, --basic-auth, --rabbit-url, --rabbit-queue, --kafka-bootstrap, --kafka-topic.
"""
from __future__ import annotations

import gevent
import orjson
from locust import FastHttpUser, User, constant_throughput, events, task

from simulator.clients.scenario import load_scenario
from simulator.clients.scenario.feed import Feed, judge_answer
from simulator.clients.sender.base import route_of
from simulator.clients.sender.rest import auth_headers


@events.init_command_line_parser.add_listener
def _options(parser):
    parser.add_argument("--scenario", default="steady", include_in_web_ui=True,
                        help="scenario name or .toml file (ftsim scenario list)")
    parser.add_argument("--user-rate", type=float, default=0, include_in_web_ui=True,
                        help="messages per second per user (0: as fast as each user can)")
    parser.add_argument("--api-key", default="", help="REST: X-Api-Key to send")
    parser.add_argument("--basic-auth", default="", help="REST: USER:PASS for HTTP Basic")
    parser.add_argument("--rabbit-url", default="amqp://guest:guest@127.0.0.1:5672/%2F", include_in_web_ui=True)
    parser.add_argument("--rabbit-queue", default="ftsim.casino", include_in_web_ui=True)
    parser.add_argument("--kafka-bootstrap", default="127.0.0.1:9092", include_in_web_ui=True)
    parser.add_argument("--kafka-topic", default="ftsim.casino", include_in_web_ui=True)


def feed_for(user, channel: str, **expectations) -> Feed:
    return Feed(load_scenario(user.environment.parsed_options.scenario), channel, **expectations)


_judging: dict[str, dict] = {}


def judging_of(host: str, opts) -> dict:
    """The target's own severities and latency budget when it is an ftsim, so expectations match its
    configuration; the contract's defaults for any other target. Asked once per host."""
    if host not in _judging:
        from simulator.clients.scenario.remote import Ftsim, RemoteError
        from simulator.core.violations import Severities

        ftsim = Ftsim(host, api_key=opts.api_key or None, basic_auth=opts.basic_auth or None, timeout=5)
        try:
            budget = float(ftsim.summary()["latency_ms"]["budget"]) / 1000
            _judging[host] = {"severity": Severities(ftsim.severities()).of, "latency_budget": budget}
        except (RemoteError, KeyError, TypeError, ValueError):
            _judging[host] = {}
    return _judging[host]


def paced(user) -> float:
    """The wait between two messages of a user: --user-rate per second, or none."""
    rate = user.environment.parsed_options.user_rate
    return constant_throughput(rate)(user) if rate else 0


class RestUser(FastHttpUser):
    """Each message to its type's method and path (POST /v1/integration/casino for casino); a verdict other
    than the expected one is a failure."""
    host = "http://127.0.0.1:8080"
    wait_time = paced

    def on_start(self):
        opts = self.environment.parsed_options
        self.headers = {"Content-Type": "application/json",
                        **auth_headers(opts.api_key or None, opts.basic_auth or None)}
        self.feed = feed_for(self, "rest", **judging_of(self.host, opts))

    @task
    def send_event(self):
        item, expected = self.feed.next()
        method, path = item.route or route_of(item.marker)
        with self.client.request(method, path, data=item.body, headers=self.headers, name=item.name,
                                 catch_response=True) as response:
            try:
                answer = orjson.loads(response.content or b"{}")
            except orjson.JSONDecodeError:
                answer = {}
            if "violations" not in answer:  # not ftsim (a staging CRM): only a 2xx counts
                if not 200 <= response.status_code < 300:
                    response.failure(f"HTTP {response.status_code}")
                return
            problem = judge_answer(expected, answer)
            if problem:
                response.failure(problem)
            else:
                response.success()


class _BrokerUser(User):
    """Publishes through simulator.clients.sender's channel; each outcome becomes a Locust request event."""
    abstract = True
    wait_time = paced
    via = ""

    def on_start(self):
        self.feed = feed_for(self, self.via)
        self.channel = self.open_channel(self.environment.parsed_options)

    def _observe(self, item, outcome, ms, error):
        if outcome != "delivered" and error is None:
            error = RuntimeError(outcome)
        self.environment.events.request.fire(request_type=self.via.upper(), name=item.name, response_time=ms,
                                             response_length=len(item.body), exception=error, context={})

    @task
    def publish(self):
        item, _expected = self.feed.next()
        self.channel.submit(item)
        gevent.sleep(0)  # Kafka's send does not block: let the other users (and its I/O thread) run

    def on_stop(self):
        self.channel.close()


class RabbitUser(_BrokerUser):
    """Publishes with the AMQP property type=CASINO, each publish confirmed by the broker."""
    via = "rabbit"

    def open_channel(self, opts):
        from simulator.clients.sender.rabbit import RabbitChannel

        return RabbitChannel(opts.rabbit_url, queue=opts.rabbit_queue, observe=self._observe)


class KafkaUser(_BrokerUser):
    """Produces with the header type=CASINO, keyed by user id; each acknowledged send is reported."""
    via = "kafka"

    def open_channel(self, opts):
        from simulator.clients.sender.kafka import KafkaChannel

        return KafkaChannel(opts.kafka_bootstrap, topic=opts.kafka_topic, observe=self._observe)
