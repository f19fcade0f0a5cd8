"""`ftsim operator check URL --user-id ID`: every Operator API endpoint once per user, each violation
printed; exit 0 all good, 1 violations, 2 could not reach it (or a setting is wrong). For CI before go-live."""
from __future__ import annotations

import sys


def add_operator_auth(p, prefix: str = "--operator-") -> None:
    """The authentication flags `ftsim serve` (prefixed) and `ftsim operator check` share."""
    p.add_argument(f"{prefix}api-key", metavar="KEY", help="send X-Api-Key: KEY")
    p.add_argument(f"{prefix}basic", metavar="USER:PASS", help="send HTTP Basic credentials")
    p.add_argument(f"{prefix}oauth", metavar="TOKEN_URL", help="OAuth client credentials from this token endpoint")
    p.add_argument(f"{prefix}client-id", metavar="ID")
    p.add_argument(f"{prefix}client-secret", metavar="SECRET")
    p.add_argument(f"{prefix}oauth-method", choices=("post", "get"),
                   help="post (default): a JSON body; get: query parameters")
    p.add_argument(f"{prefix}timeout", type=float, metavar="SECONDS", help="per call (default 5)")


def operator_flags(args) -> dict:
    return {name: getattr(args, name, None) for name in (
        "operator_api_key", "operator_basic", "operator_oauth", "operator_client_id", "operator_client_secret",
        "operator_oauth_method", "operator_timeout")}


def register(sub) -> None:
    p = sub.add_parser("operator", help="call an operator's API as the CRM does and judge the answers")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    c = verbs.add_parser("check", help="call every endpoint once per user id; exit 0 good, 1 violations, "
                                       "2 unreachable")
    c.add_argument("url", metavar="URL", help="the operator API's base URL")
    c.add_argument("--user-id", action="append", required=True, metavar="ID", help="repeatable")
    c.add_argument("--sid", action="append", metavar="SID",
                   help="a session id for POST /authenticate, paired with --user-id in order (without one, "
                        "authenticate is skipped)")
    c.add_argument("--bonus-code", help="for /bonus/credit (default: the first code /bonus/list offers)")
    c.add_argument("--config", help="TOML file of settings (the operator_* ones are read)")
    c.add_argument("--severity", action="append", metavar="RULE=LEVEL", help="as for serve; repeatable")
    c.add_argument("--junit", metavar="FILE", help="also write the calls as JUnit XML")
    add_operator_auth(c, prefix="--operator-")
    c.set_defaults(func=run)


def run(args, out=None) -> int:
    from simulator.settings import load_settings
    from simulator.operator.check import check_all, junit_xml, print_calls

    out = out or sys.stdout
    settings = load_settings(args.config, operator_api=args.url, severity=args.severity, **operator_flags(args))
    calls = check_all(settings, args.user_id, sids=args.sid or [], bonus_code=args.bonus_code)
    print_calls(calls, out, settings.operator_api)
    if args.junit:
        with open(args.junit, "w", encoding="utf-8") as fh:
            fh.write(junit_xml(calls, settings.operator_api))
    if calls and all(c.status is None and any(v.rule == "operator.unreachable" for v in c.violations)
                     for c in calls):
        return 2
    return 0 if all(not c.violations for c in calls) else 1
