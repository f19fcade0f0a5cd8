"""`ftsim rules`: every rule id, its severity and what it means."""
from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("rules", help="list every rule with its default severity")
    p.set_defaults(func=run)


def run(args) -> int:
    from simulator.contract.catalog import CATALOG

    width = max(len(r) for r in CATALOG)
    for r in CATALOG.values():
        print(f"{r.id:<{width}}  {r.severity:<7}  {r.summary}")
    return 0
