"""`ftsim scenario list|show|run`: the scenarios in scenarios/, their messages, and a self-test run."""
from __future__ import annotations

import json
import sys

from simulator.commands.send import DEFAULT_TARGETS, add_channel_options, channel_options


def register(sub) -> None:
    p = sub.add_parser("scenario", help="list, show or run seeded casino traffic scenarios")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")

    ls = verbs.add_parser("list", help="every scenario with its one-line description")
    ls.add_argument("--scenarios", metavar="DIR", help="another directory of scenario files")
    ls.set_defaults(func=run_list)

    show = verbs.add_parser("show", help="print a scenario's messages as JSON Lines (timestamps: now)")
    show.add_argument("name", metavar="NAME", help="a scenario name or a .toml file")
    show.add_argument("--count", type=int, help="messages to print (default the scenario's count)")
    show.add_argument("--namespace", help="id prefix (default: random)")
    show.add_argument("--expected", action="store_true", help="print each message's expected verdict to stderr")
    show.add_argument("--via", choices=["rest", "rabbit", "kafka"], default="rest",
                      help="the channel the stream is for (marker faults exist on brokers only; over "
                           "rest journeys leave out the brokers-only types)")
    show.add_argument("--scenarios", metavar="DIR", help="another directory of scenario files")
    show.set_defaults(func=run_show)

    r = verbs.add_parser("run", help="send a scenario to a running ftsim and compare its verdicts with the expected")
    r.add_argument("name", metavar="NAME", help="a scenario name or a .toml file")
    r.add_argument("--ftsim", default=DEFAULT_TARGETS["rest"], metavar="URL",
                   help="the ftsim whose query API is read (and the REST target) (http://127.0.0.1:8080)")
    r.add_argument("--namespace", help="id prefix (default: random, so runs never collide)")
    r.add_argument("--scenarios", metavar="DIR", help="another directory of scenario files")
    add_channel_options(r)
    r.set_defaults(func=run_run)


def run_list(args) -> int:
    from simulator.clients.scenario import list_scenarios

    found = list_scenarios(args.scenarios)
    width = max((len(s.name) for s in found), default=0)
    for s in found:
        faults = ", ".join(s.faults) or "no faults"
        print(f"{s.name:<{width}}  {s.description}  [{s.players} players, {faults}]")
    return 0


def run_show(args) -> int:
    from simulator.clients.scenario import load_scenario, take
    from simulator.clients.scenario.expect import expect_all
    from simulator.clients.scenario.render import Renderer
    from simulator.clients.scenario.stream import new_namespace

    sc = load_scenario(args.name, args.scenarios)
    planned = take(sc, args.count or sc.count, args.namespace or new_namespace(), args.via)
    renderer = Renderer(args.via)
    expected = expect_all(planned, args.via)[0] if args.expected else None
    out = sys.stdout.buffer
    typed = sc.journey is not None  # many types: each line carries its marker, as `ftsim send` reads it
    for i, p in enumerate(planned):
        body = renderer.body(p)
        if typed:
            body = b'{"marker":' + json.dumps(p.marker).encode() + b',"payload":' + body + b"}"
        out.write(body + b"\n")
        if expected:
            e = expected[i]
            print(f"{e.label}: {'valid' if e.valid else 'invalid'} {', '.join(sorted(e.rules)) or '-'}"
                  + (f" [fault {e.fault}]" if e.fault else ""), file=sys.stderr)
    out.flush()
    return 0


def run_run(args) -> int:
    from simulator.clients.scenario import load_scenario
    from simulator.clients.scenario.remote import Ftsim
    from simulator.clients.scenario.runner import run_scenario

    sc = load_scenario(args.name, args.scenarios)
    ftsim = Ftsim(args.ftsim, api_key=args.api_key, basic_auth=args.basic_auth)
    target = args.target or (args.ftsim if args.via == "rest" else DEFAULT_TARGETS[args.via])
    result = run_scenario(sc, via=args.via, ftsim=ftsim, target=target, count=args.count, rate=args.rate,
                          namespace=args.namespace, progress=None if args.quiet else sys.stderr,
                          **channel_options(args))
    s = result.stats
    print(f"scenario {sc.name} via {args.via}: run {result.namespace}, seed {sc.seed}, {result.sent} messages "
          f"in {result.seconds:.1f} s; sender: {s.delivered} delivered, {s.rejected} rejected, {s.failed} failed")
    for line in result.report.lines():
        print(line)
    ok = result.report.ok and s.failed == 0
    print("OK: ftsim judged every message and round as expected" if ok else "DIFFERENT: see above")
    return 0 if ok else 1
