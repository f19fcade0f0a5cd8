"""`ftsim send`: put messages on any target's wire (ftsim or a staging CRM): files, stdin or a scenario."""
from __future__ import annotations

import hashlib
import sys
from collections import OrderedDict
from pathlib import Path

import orjson

DEFAULT_TARGETS = {"rest": "http://127.0.0.1:8080", "rabbit": "amqp://guest:guest@127.0.0.1:5672/%2F",
                   "kafka": "127.0.0.1:9092"}


def add_channel_options(p) -> None:
    """Options every command that sends shares (send, scenario run)."""
    p.add_argument("--via", choices=["rest", "rabbit", "kafka"], default="rest", help="the channel (default rest)")
    p.add_argument("--target", metavar="URL",
                   help="REST base URL or full URL, AMQP URL, or Kafka bootstrap servers (defaults: "
                        + "; ".join(f"{k} {v}" for k, v in DEFAULT_TARGETS.items()).replace("%", "%%") + ")")
    p.add_argument("--queue", default="ftsim.casino", help="RabbitMQ queue (default exchange) (ftsim.casino)")
    p.add_argument("--exchange", default="", help="RabbitMQ exchange; the queue name is the routing key")
    p.add_argument("--topic", default="ftsim.casino", help="Kafka topic (ftsim.casino)")
    p.add_argument("--api-key", help="REST: send this X-Api-Key")
    p.add_argument("--basic-auth", metavar="USER:PASS", help="REST: send these HTTP Basic credentials")
    p.add_argument("--rate", type=float, metavar="MSG/S",
                   help="a steady rate; default as fast as the target takes them")
    p.add_argument("--count", type=int, metavar="N", help="send at most N messages")
    p.add_argument("--workers", type=int, default=4,
                   help="REST: parallel connections (a user's messages keep their order)")
    p.add_argument("--max-attempts", type=int, default=10, help="REST: attempts per message before giving up (10)")
    p.add_argument("--retry-4xx", action="store_true",
                   help="REST: retry 400/401/404/413/415/422 too (retry until 200, bounded by --max-attempts)")
    p.add_argument("--no-confirm", action="store_true",
                   help="RabbitMQ: publish without publisher confirms (faster; a lost message goes unnoticed)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")


def channel_options(args) -> dict:
    return {"api_key": args.api_key, "basic_auth": args.basic_auth, "workers": args.workers,
            "max_attempts": args.max_attempts, "retry_4xx": args.retry_4xx or None, "queue": args.queue,
            "exchange": args.exchange, "topic": args.topic, "confirm": not args.no_confirm}


def register(sub) -> None:
    p = sub.add_parser("send", help="send messages (files, stdin or a scenario) to ftsim or any CRM endpoint")
    p.add_argument("files", nargs="*", metavar="FILE",
                   help="JSON / JSON Lines files of messages; '-' reads JSON Lines from stdin")
    p.add_argument("--scenario", metavar="NAME", help="send a scenario's stream instead of files")
    p.add_argument("--cut", action="store_true",
                   help="with --scenario: stop at --count exactly, leaving rounds and payments open (by default "
                        "the players' open ones are finished after it, so clean traffic passes the checklist)")
    p.add_argument("--namespace", help="with --scenario: the id prefix (default: random per run)")
    p.add_argument("--scenarios", metavar="DIR", help="another directory of scenario files")
    p.add_argument("--type", default="CASINO",
                   help="the type marker for file messages ('' sends none): over REST each goes to its type's "
                        "method and path; a line {\"marker\": M, \"payload\": {...}} carries its own")
    p.add_argument("--restamp", action="store_true",
                   help="set each file message's timestamp to the time it is sent (replays within the 1 s budget); "
                        "a line sent again (a recorded retry) goes out as the same bytes")
    add_channel_options(p)
    p.set_defaults(func=run)


def file_items(names: list[str], marker: str | None, restamp: bool):
    from simulator.commands.check import read_messages, typed
    from simulator.clients.sender.base import route_of
    from simulator.clients.sender import Outgoing

    restamped = _Restamped() if restamp else None
    for name in names:
        if name == "-":
            rows = ((f"stdin:{n}", line.strip()) for n, line in enumerate(sys.stdin.buffer, 1) if line.strip())
        else:
            rows = read_messages(Path(name))
        for _, line in rows:
            raw, item_marker = typed(line, marker)
            key = route = None
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError:
                obj = None  # sent as it is: the target judges it
            if isinstance(obj, dict):
                key = obj.get("user_id") if isinstance(obj.get("user_id"), str) else None
                if restamped is not None and "timestamp" in obj:
                    raw = orjson.dumps({**obj, "timestamp": restamped.stamp(raw)})
                route = route_of(item_marker, obj)  # a marker with two shapes: the path of the one it fits
            yield Outgoing(raw, item_marker, key, route=route)


class _Restamped:
    """The new timestamps of the lines sent lately: a line that comes again (a recorded retry) gets the one
    it got before, so it goes out as the same bytes; a timestamp of its own would make it another payload
    under the same id, a duplicate where the recording had a retry. The last RECENT lines are remembered
    (about 10 MB), so memory stays flat on long files."""
    RECENT = 100_000

    def __init__(self):
        from simulator.clients.scenario.render import utcnow
        from simulator.core.timefmt import iso

        self._now = lambda: iso(utcnow())
        self._given: OrderedDict[bytes, str] = OrderedDict()

    def stamp(self, raw: bytes) -> str:
        key = hashlib.blake2b(raw, digest_size=16).digest()
        given = self._given.get(key)
        if given is None:
            given = self._given[key] = self._now()
            if len(self._given) > self.RECENT:
                self._given.popitem(last=False)
        return given


def run(args) -> int:
    from simulator.core.errors import ConfigError
    from simulator.clients.sender import deliver, open_channel

    if bool(args.files) == bool(args.scenario):
        raise ConfigError("send: give FILE... or --scenario NAME (one of them)")
    target = args.target or DEFAULT_TARGETS[args.via]
    if args.scenario:
        from simulator.clients.scenario import load_scenario, plan
        from simulator.clients.scenario.render import Renderer
        from simulator.clients.scenario.stream import finished, new_namespace

        sc = load_scenario(args.scenario, args.scenarios)
        planned = plan(sc, args.namespace or new_namespace(), args.via)
        count = args.count or sc.count
        if not args.cut:  # the count is reached, then the players' open rounds and payments are finished
            planned, count = finished(planned, count), None
        items = Renderer(args.via).stream(planned)
    else:
        items = file_items(args.files, args.type or None, args.restamp)
        count = args.count
    try:
        channel = open_channel(args.via, target, **channel_options(args))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    stats = deliver(channel, items, rate=args.rate, count=count, progress=None if args.quiet else sys.stderr,
                    label=f"send via {args.via} to {target}")
    statuses = ", ".join(f"{code}: {n}" for code, n in sorted(stats.statuses.items(), key=lambda kv: str(kv[0])))
    print(f"{stats.sent} sent: {stats.delivered} delivered, {stats.rejected} rejected, {stats.failed} failed, "
          f"{stats.retries} retries" + (f" ({statuses})" if statuses else ""))
    return 0 if stats.delivered == stats.sent else 1
