"""Sub-commands of `ftsim`, one module each."""
from __future__ import annotations


def add_contract_options(p, db_default: str = "ftsim.db") -> None:
    """Options every command that judges messages shares."""
    p.add_argument("--config", help="TOML file of settings (see README)")
    p.add_argument("--profile", choices=["strict", "lenient", "ft"],
                   help="which spec reading to hold senders to (ft: exactly FT's published validator)")
    p.add_argument("--severity", action="append", metavar="RULE=LEVEL",
                   help="error|warning|info|off for a rule id or glob (schema.*); repeatable")
    p.add_argument("--latency-budget", type=float, metavar="SECONDS", help="default 1")
    p.add_argument("--engine", choices=["rust", "python"], help="schema engine (default rust)")
    p.add_argument("--db", help=f"SQLite file or postgresql:// URL (default {db_default})")


def contract_flags(args) -> dict:
    return {"profile": args.profile, "severity": args.severity, "latency_budget": args.latency_budget,
            "engine": args.engine, "db": args.db}
