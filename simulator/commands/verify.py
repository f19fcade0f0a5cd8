"""`ftsim verify`: the go-live checklist against a running ftsim or a database file; exit 0 only if it passes.

Exit codes: 0 every item passed, 1 an item failed, 2 ftsim could not be asked (bad flags, unreachable,
refused credentials).
"""
from __future__ import annotations

import sys

from simulator.commands.report import add_source_options, load_document, write
from simulator.report.readiness import example_names

WORDS = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}


def register(sub) -> None:
    p = sub.add_parser("verify", help="run the go-live checklist; exit 0 only when every item passes")
    add_source_options(p)
    p.add_argument("--junit", metavar="FILE", help="also write the checklist as JUnit XML")
    p.add_argument("--quiet", action="store_true", help="print only the verdict line")
    p.set_defaults(func=run)


def print_checklist(doc: dict, out=None, quiet: bool = False) -> None:
    """The verdict, each item, and each broken rule with its first examples: what a CI log should show."""
    out = out or sys.stdout
    c = doc["checklist"]
    failed = [i for i in c["items"] if i["status"] == "failed"]
    verdict = "READY" if c["passed"] else f"NOT READY: {len(failed)} of {len(c['items'])} checks failed"
    print(f"ftsim: {verdict} ({doc['source']}, {doc['summary']['received']} messages)", file=out)
    if quiet:
        return
    width = max(len(i["id"]) for i in c["items"])
    for i in c["items"]:
        print(f"  {WORDS[i['status']]}  {i['id']:<{width}}  {i['title']}: {i['detail']}", file=out)
    broken = [r for r in c["rules"] if r["status"] == "failed"]
    if broken:
        print("broken rules:", file=out)
    for r in broken:
        print(f"  FAIL  {r['rule']}: {r['detail']}", file=out)
        for e in r["examples"]:
            print(f"        message #{e['id']} ({e['channel']}{example_names(e)}) {e['path'] or '/'}: "
                  f"{e['message']}", file=out)
    out.flush()


def run(args, out=None) -> int:
    doc = load_document(args)
    if args.junit:
        write(doc, "junit", args.junit)
    print_checklist(doc, out, args.quiet)
    return 0 if doc["checklist"]["passed"] else 1


# -- CI mode of `ftsim serve` -------------------------------------------------------------------------

def add_ci_options(p) -> None:
    """`ftsim serve` flags for CI: stop when idle, write the reports, exit non-zero if the checklist fails."""
    p.add_argument("--until-idle", type=float, metavar="SECONDS",
                   help="stop once no message arrived for SECONDS (CI mode: report, then exit 1 if not ready)")
    p.add_argument("--checklist", metavar="FILE", help="TOML go-live checklist ([readiness] table)")
    p.add_argument("--fail-on", choices=["error", "warning"], help="the lowest severity that breaks a rule")
    p.add_argument("--junit", metavar="FILE", help="on stop, write the checklist as JUnit XML")
    p.add_argument("--report-html", metavar="FILE", help="on stop, write the HTML report")
    p.add_argument("--report-json", metavar="FILE", help="on stop, write the JSON report")


def serve_checklist(args):
    """The checklist `ftsim serve` judges by; loaded before anything is opened, so a bad file stops it at once."""
    from simulator.report.readiness import load_checklist

    return load_checklist(args.checklist, args.fail_on)


def install_checklist(server, checklist) -> None:
    """The live page, /api/report and the CI verdict all use this checklist."""
    from simulator.transports.rest.live import CHECKLIST_KEY

    server.app.extensions[CHECKLIST_KEY] = checklist


def ci_mode(args) -> bool:
    return any(getattr(args, k, None) for k in ("until_idle", "junit", "report_html", "report_json", "fail_on"))


def finish(server, checklist, args, out=None) -> int:
    """After serving (server: a serve.Server or a group.Group, anything with `runtime` and `url`): write the
    reports asked for, print the checklist, and give the CI exit code."""
    if not ci_mode(args):
        return 0
    from simulator import report

    doc = report.build(server.runtime, checklist, source=server.url)
    for fmt, path in (("junit", args.junit), ("html", args.report_html), ("json", args.report_json)):
        if path:
            write(doc, fmt, path)
    print_checklist(doc, out)
    return 0 if doc["checklist"]["passed"] else 1
