"""`ftsim upstream phoenix|evenbet`: play the game provider or the platform's event bus against the
operator's platform, and (with --ftsim) have the ftsim that receives the platform's FT events pair them.

Exit codes for CI: 0 the pipeline is clean, 1 an error-severity pipeline.* or upstream.* violation,
2 a configuration error.
"""
from __future__ import annotations

import random
import sys


def register(sub) -> None:
    p = sub.add_parser("upstream", help="drive the platform as its game provider or event bus; pair what reaches ftsim")
    which = p.add_subparsers(dest="upstream", required=True, metavar="SOURCE")

    ph = which.add_parser("phoenix", help="Phoenix Gambling provider callbacks (start / finish) to a callback URL")
    ph.add_argument("--callback-url", required=True, help="the operator's callback endpoint")
    ph.add_argument("--scenario", default="mixed", help="mixed (default), mines, roulette, highroller")
    ph.add_argument("--timeout", type=float, default=5.0, help="seconds an answer may take (5)")
    ph.add_argument("--concurrency", type=int, default=4, help="connections in parallel (4)")
    _common(ph, "rounds (a start, and a finish when taken)")
    ph.set_defaults(func=run_phoenix)

    eb = which.add_parser("evenbet", help="EvenBet financial events published to RabbitMQ or Kafka")
    eb.add_argument("--via", choices=("rabbit", "kafka"), required=True)
    eb.add_argument("--target", required=True, help="amqp://... URL, or Kafka bootstrap host:port")
    eb.add_argument("--queue", default="evenbet.events", help="RabbitMQ queue (evenbet.events)")
    eb.add_argument("--topic", default="evenbet.events", help="Kafka topic (evenbet.events)")
    eb.add_argument("--scenario", default="journeys", help="journeys (default), casino, payments")
    eb.add_argument("--players", type=int, default=30)
    _common(eb, "events")
    eb.set_defaults(func=run_evenbet)


def _common(p, what: str) -> None:
    p.add_argument("--count", type=int, default=100, help=f"how many {what} (100)")
    p.add_argument("--rate", type=float, default=50.0, help="inputs per second, about (50; 0: as fast as it goes)")
    p.add_argument("--seed", type=int, help="the inputs' seed (default: a new one each run, printed): the same seed "
                   "sends the same ids, which an ftsim that saw them takes as retries")
    p.add_argument("--ftsim", metavar="URL", help="the ftsim receiving the platform's FT events: pair them there")
    p.add_argument("--api-key", help="ftsim's X-Api-Key")
    p.add_argument("--basic-auth", metavar="USER:PASS", help="ftsim's Basic credentials")
    p.add_argument("--settle", type=float, default=30.0,
                   help="seconds to wait, after the last input, for ftsim to judge every pair (30)")


def _seed(args, name: str) -> int:
    """A fresh seed unless one was given. With a fixed default, a second run against the same ftsim (the
    README's walkthrough: restart the adapter with a bug switch, run the driver again) sent the first run's
    ids again; ftsim took its inputs as retries and refused its FT events as duplicates, and the planted bug
    came out clean, exit 0."""
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1, 1_000_000)
    print(f"{name}: seed {args.seed} (--seed {args.seed} sends these inputs again)", flush=True)
    return args.seed


def _link(args):
    from simulator.clients.upstream.link import FtsimLink

    return FtsimLink(args.ftsim, api_key=args.api_key, basic_auth=args.basic_auth)


def run_phoenix(args) -> int:
    from simulator.clients.upstream.phoenix import Provider

    link = _link(args)
    try:
        provider = Provider(args.callback_url, link, scenario=args.scenario, seed=_seed(args, "phoenix"),
                            timeout=args.timeout)
    except ValueError as exc:
        print(f"ftsim upstream phoenix: {exc}", file=sys.stderr)
        return 2
    provider.run(args.count, args.rate, args.concurrency)
    a = provider.answers
    print(f"phoenix: {a.sent} callbacks sent, {a.refused} starts answered result:false", flush=True)
    for line in a.examples:
        print(f"  {line}")
    return _finish(link, args, a.counts)


def run_evenbet(args) -> int:
    from simulator.clients.upstream.evenbet import Bus, Publisher

    link = _link(args)
    try:
        bus = Bus(seed=_seed(args, "evenbet"), scenario=args.scenario, players=args.players)
        if args.via == "rabbit":
            from simulator.clients.sender.rabbit import RabbitChannel

            channel = RabbitChannel(args.target, queue=args.queue)
        else:
            from simulator.clients.sender.kafka import KafkaChannel

            channel = KafkaChannel(args.target, topic=args.topic)
    except ValueError as exc:
        print(f"ftsim upstream evenbet: {exc}", file=sys.stderr)
        return 2
    publisher = Publisher(channel, link)
    try:
        publisher.run(bus.events(args.count), args.rate)
    finally:
        channel.close()
    stats = channel.stats
    print(f"evenbet: {publisher.sent} events published via {args.via}, {stats.delivered} taken by the broker",
          flush=True)
    lost = {"upstream.publish (rejected)": stats.rejected, "upstream.publish (failed)": stats.failed}
    return _finish(link, args, {k: v for k, v in lost.items() if v})


def _finish(link, args, answers: dict) -> int:
    from simulator.clients.upstream.link import failed, report_lines

    found = None
    if link.url is not None:
        found = link.settled(args.settle)
        for line in report_lines(found, answers):
            print(line)
        problems = link.pipeline(verdict="problem", limit=20)
        for row in problems["inputs"]:
            for v in row["violations"] + [v for e in row["events"] for v in e["violations"]]:
                print(f"  {v['severity']} {v['rule']}: {v['message']}")
    return 1 if failed(found, sum(answers.values())) else 0
