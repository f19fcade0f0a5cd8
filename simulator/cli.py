"""The `ftsim` command: a thin shell. `main(argv)` parses; each command's `run` returns an exit code."""
from __future__ import annotations

import argparse
import logging
import sys

from simulator.core.errors import FtsimError

# Each module adds its sub-command with `register(subparsers)`, and sets `func(args) -> exit code`.
COMMAND_MODULES = ["serve", "check", "rules", "types", "scenario", "send", "verify", "report", "operator", "upstream"]


def build_parser() -> argparse.ArgumentParser:
    from importlib import import_module

    parser = argparse.ArgumentParser(prog="ftsim", description="Contract-testing simulator of the Fast Track "
                                                                "CRM Integration API.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        import_module(f".commands.{name}", __package__).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except FtsimError as exc:
        print(f"ftsim: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
