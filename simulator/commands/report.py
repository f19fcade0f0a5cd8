"""`ftsim report --format html|junit|json [--out FILE]`: the report of a running ftsim or a database file.

The document comes from the running ftsim's /api/report (--url) or is built from the store in a database
file (--db); with --checklist or --fail-on the checklist is evaluated again here, with the caller's config.
"""
from __future__ import annotations

import base64
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from simulator.core.errors import ConfigError


def add_source_options(p) -> None:
    """Where the evidence comes from, and the checklist to judge it by (verify and report share these)."""
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--url", help="a running ftsim, e.g. http://127.0.0.1:8080")
    src.add_argument("--db", help="a database ftsim wrote: SQLite file or postgresql:// URL")
    p.add_argument("--api-key", help="with --url: the X-Api-Key ftsim requires")
    p.add_argument("--basic-auth", metavar="USER:PASS", help="with --url: the Basic credentials ftsim requires")
    p.add_argument("--config", help="with --db: ftsim's TOML settings (latency budget, session idle, severities)")
    p.add_argument("--checklist", metavar="FILE", help="TOML go-live checklist (its [readiness] table)")
    p.add_argument("--fail-on", choices=["error", "warning"], help="the lowest severity that breaks a rule")


def register(sub) -> None:
    p = sub.add_parser("report", help="write the report (html, junit or json) of a running ftsim or a database")
    add_source_options(p)
    p.add_argument("--format", choices=["html", "junit", "json"], default="html", help="default html")
    p.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    p.add_argument("--channel", help="narrow the charts and tables to one channel")
    p.add_argument("--rule", help="narrow the charts and tables to messages that broke this rule")
    p.add_argument("--user", dest="user_id", help="narrow the charts and tables to one user_id")
    p.set_defaults(func=run)


def fetch_json(url: str, path: str, params: dict, *, api_key=None, basic_auth=None, timeout=60.0):
    query = urllib.parse.urlencode({k: v for k, v in params.items() if v})
    headers = {"Accept": "application/json"}
    if api_key:
        headers["X-Api-Key"] = api_key
    if basic_auth:
        headers["Authorization"] = "Basic " + base64.b64encode(basic_auth.encode()).decode()
    target = url.rstrip("/") + path + (f"?{query}" if query else "")
    try:
        with urllib.request.urlopen(urllib.request.Request(target, headers=headers), timeout=timeout) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as err:
        hint = ("" if err.code != 401 else "; the credentials given were refused" if api_key or basic_auth
                else "; give --api-key or --basic-auth")
        raise ConfigError(f"{target}: HTTP {err.code} {err.reason}{hint}") from None
    except (urllib.error.URLError, OSError) as err:
        raise ConfigError(f"cannot reach ftsim at {url}: {getattr(err, 'reason', err)}") from None
    except ValueError:
        raise ConfigError(f"{target}: the answer is not JSON; is this ftsim?") from None


def load_document(args, *, filters: dict | None = None) -> dict:
    from simulator.report import readiness
    from simulator import report

    checklist = readiness.load_checklist(args.checklist, args.fail_on)
    filters = filters or {}
    if args.url:
        doc = fetch_json(args.url, "/api/report", filters, api_key=args.api_key, basic_auth=args.basic_auth)
        if not isinstance(doc, dict) or "facts" not in doc:
            raise ConfigError(f"{args.url}/api/report: not an ftsim report document")
        if args.checklist or args.fail_on:
            doc["checklist"] = readiness.evaluate(doc["facts"], checklist)
        return doc
    from simulator.runtime import Runtime
    from simulator.settings import load_settings

    if "://" not in args.db and not Path(args.db).is_file():
        raise ConfigError(f"--db {args.db}: no such file")
    runtime = Runtime(load_settings(args.config, db=args.db))
    try:
        return report.build(runtime, checklist, **filters, source=args.db)
    finally:
        runtime.close()


def write(doc: dict, fmt: str, out: str | None) -> None:
    from simulator import report

    body = report.render(doc, fmt)
    if out is None or out == "-":
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
        return
    try:
        Path(out).write_bytes(body)
    except OSError as exc:
        raise ConfigError(f"{out}: {exc.strerror}") from None


def run(args) -> int:
    doc = load_document(args, filters={"channel": args.channel, "rule": args.rule, "user_id": args.user_id})
    write(doc, args.format, args.out)
    return 0
