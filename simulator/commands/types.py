"""`ftsim types`: every event type ftsim judges, where it is accepted, and what each profile requires."""
from __future__ import annotations

import json

from simulator.contract.plugin import PROFILES


def register(sub) -> None:
    p = sub.add_parser("types", help="list every event type: marker, REST method and path, required fields")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--markdown", action="store_true", help="print the README's table of types")
    p.set_defaults(func=run)


def describe_types(registry) -> list[dict]:
    return [{"type": t.name, "marker": t.marker, "method": t.method, "path": t.path,
             "channels": ["rest", "rabbit", "kafka"] if t.path else ["rabbit", "kafka"],
             "required": {p: sorted(t.required(p)) for p in PROFILES},
             "rules": sorted(r.id for r in t.rule_info), "summary": t.summary} for t in registry]


def markdown(rows: list[dict]) -> str:
    """The README's table: one row per type (kept true by tests/test_readme.py)."""
    lines = ["| marker | type | REST | required (strict) | rules of its own |", "|---|---|---|---|---|"]
    for row in rows:
        where = f"`{row['method']} {row['path']}`" if row["path"] else "brokers only"
        rules = ", ".join(f"`{r}`" for r in row["rules"]) or "-"
        lines.append(f"| `{row['marker']}` | {row['type']} | {where} | {', '.join(row['required']['strict'])} "
                     f"| {rules} |")
    return "\n".join(lines) + "\n"


def run(args) -> int:
    from simulator.contract.registry import load_registry

    rows = describe_types(load_registry())
    if args.markdown:
        print(markdown(rows), end="")
        return 0
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        where = f"{row['method']} {row['path']}" if row["path"] else "brokers only (no documented REST path)"
        print(f"{row['marker']}  [{row['type']}]  {where}")
        if row["summary"]:
            print(f"  {row['summary']}")
        for profile in PROFILES:
            print(f"  required ({profile}): {', '.join(row['required'][profile]) or '-'}")
        if row["rules"]:
            print(f"  rules: {', '.join(row['rules'])}")
    return 0
