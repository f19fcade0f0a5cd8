"""`ftsim rules`: every rule id, its severity and what it means."""
from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("rules", help="list every rule with its default severity")
    p.add_argument("--markdown", action="store_true", help="print the README's table of rules")
    p.set_defaults(func=run)


def markdown(catalog) -> str:
    """The README's rules table (kept true by tests/test_readme.py)."""
    lines = ["| rule | default | what it means |", "|---|---|---|"]
    lines += [f"| `{r.id}` | {r.severity} | {r.summary} |" for r in catalog.values()]
    return "\n".join(lines) + "\n"


def run(args) -> int:
    from simulator.contract.catalog import CATALOG

    if getattr(args, "markdown", False):
        print(markdown(CATALOG), end="")
        return 0
    width = max(len(r) for r in CATALOG)
    for r in CATALOG.values():
        print(f"{r.id:<{width}}  {r.severity:<7}  {r.summary}")
    return 0
