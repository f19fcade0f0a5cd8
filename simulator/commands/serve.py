"""`ftsim serve`: REST, RabbitMQ and Kafka at once, until a signal (or --until-idle)."""
from __future__ import annotations

from simulator.commands import add_contract_options, contract_flags
from simulator.commands.operator import add_operator_auth, operator_flags
from simulator.commands.verify import add_ci_options, finish, install_checklist, serve_checklist


def register(sub) -> None:
    p = sub.add_parser("serve", help="receive on REST (and RabbitMQ/Kafka when configured)")
    add_contract_options(p)
    p.add_argument("--host", help="default 127.0.0.1")
    p.add_argument("--port", type=int, help="default 8080; 0 picks a free port")
    p.add_argument("--api-key", help="require this X-Api-Key")
    p.add_argument("--basic-auth", metavar="USER:PASS", help="require these HTTP Basic credentials")
    p.add_argument("--insecure", action="store_true", default=None,
                   help="allow a non-loopback address without credentials")
    p.add_argument("--accept-invalid", action="store_true", default=None,
                   help="answer 200 to invalid messages too (for senders that retry a 400 forever)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="HTTP worker processes around one ledger (default, or 0: one per CPU); 1: everything in one "
                        "process")
    p.add_argument("--max-body", type=int, metavar="BYTES", help="default 1048576")
    p.add_argument("--session-idle", type=float, metavar="SECONDS", help="gap that ends a game session (1800)")
    p.add_argument("--rabbit", metavar="URL", help="consume RabbitMQ, e.g. amqp://guest:guest@127.0.0.1:5672/")
    p.add_argument("--rabbit-queue", help="default ftsim.casino (declared durable if missing)")
    p.add_argument("--rabbit-prefetch", type=int, metavar="N", help="unacked messages in flight (default 1000)")
    p.add_argument("--kafka", metavar="BOOTSTRAP", help="consume Kafka, e.g. 127.0.0.1:9092")
    p.add_argument("--kafka-topic", help="default ftsim.casino")
    p.add_argument("--kafka-group", help="consumer group id (default ftsim)")
    p.add_argument("--batch-max", type=int, metavar="N",
                   help="most broker messages judged in one transaction (default 500)")
    p.add_argument("--durability", choices=("full", "normal"),
                   help="full (default): each commit is on disk before it is acknowledged; normal: faster, "
                        "a power loss may undo the last acknowledged commits")
    p.add_argument("--operator-api", metavar="URL",
                   help="call the operator's API (GetUserDetails, GetConsents, GetBlocks) as the CRM does when "
                        "user events arrive, and judge the answers")
    add_operator_auth(p)
    p.add_argument("--operator-queue", type=int, metavar="N", help="events waiting for their calls (default 1000)")
    p.add_argument("--operator-workers", type=int, metavar="N", help="calls in parallel (default 4)")
    p.add_argument("--operator-rate", type=float, metavar="PER_SECOND", help="calls a second at most (default 20)")
    p.add_argument("--pipeline-mapping", metavar="NAMES|FILES",
                   help="upstream mappings to pair inputs by: shipped names or TOML files, comma-separated "
                        "(phoenix,evenbet)")
    p.add_argument("--pipeline-grace", type=float, metavar="SECONDS",
                   help="how long an upstream input waits for its FT events (each mapping's own: 5)")
    p.add_argument("--pipeline-max-pending", type=int, metavar="N", help="inputs waiting at most (100000)")
    add_ci_options(p)
    p.set_defaults(func=run)


def settings_from(args):
    from simulator.settings import load_settings

    return load_settings(args.config, **contract_flags(args), host=args.host, port=args.port,
                         api_key=args.api_key, basic_auth=args.basic_auth, insecure=args.insecure,
                         workers=args.workers,
                         accept_invalid=args.accept_invalid, max_body=args.max_body,
                         session_idle=args.session_idle, rabbit=args.rabbit, rabbit_queue=args.rabbit_queue,
                         rabbit_prefetch=args.rabbit_prefetch, kafka=args.kafka, kafka_topic=args.kafka_topic,
                         kafka_group=args.kafka_group, batch_max=args.batch_max,
                         durability=args.durability, operator_api=args.operator_api,
                         operator_queue=args.operator_queue, operator_workers=args.operator_workers,
                         operator_rate=args.operator_rate, pipeline_mapping=args.pipeline_mapping,
                         pipeline_grace=args.pipeline_grace, pipeline_max_pending=args.pipeline_max_pending,
                         **operator_flags(args))


def run(args) -> int:
    from simulator.serve import give_back_big_blocks

    give_back_big_blocks()
    settings, checklist = settings_from(args), serve_checklist(args)
    if settings.worker_count > 1 and _group_can_run(settings):
        return _run_group(args, settings, checklist)
    from simulator.serve import Server

    server = Server(settings)
    install_checklist(server, checklist)
    server.start()
    _listening(server.url)
    try:
        server.wait(until_idle=args.until_idle)
        return _finish(server, checklist, args)
    finally:
        server.stop()


def _finish(server, checklist, args) -> int:
    if server.runtime.operator is not None:  # the reports include the calls the last events caused
        server.runtime.operator.wait_idle(60)
    return finish(server, checklist, args)


def _group_can_run(settings) -> bool:
    """Workers by default (one per CPU) fall back to one process where granian cannot run them, saying so;
    workers asked for by number do not (Group refuses with the reason)."""
    from simulator.group import available

    why = available()
    if why is not None and not settings.workers:
        import logging

        logging.getLogger("ftsim").warning("serving in one process: %s, so no HTTP workers", why)
        return False
    return True


def _run_group(args, settings, checklist) -> int:
    import logging

    from simulator.group import Group

    group = Group(settings, settings.worker_count, checklist=checklist,
                  log_level=logging.getLogger().getEffectiveLevel())
    try:
        group.run(until_idle=args.until_idle, ready=lambda: _listening(group.url, group.workers))
    finally:
        group.stop_listeners()
    try:
        return _finish(group, checklist, args)
    finally:
        group.close()


def _listening(url: str, workers: int = 1) -> None:
    many = f", {workers} workers" if workers > 1 else ""
    print(f"ftsim listening on {url}  (POST /v1/integration/casino, GET /api/summary, live page /{many}; "
          f"Ctrl-C stops)", flush=True)
