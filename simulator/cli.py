"""The `ftsim` command: a thin shell. `main(argv)` parses; each command's `run` returns an exit code."""
from __future__ import annotations

import argparse
import logging
import os
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
        code = args.func(args)
        sys.stdout.flush()  # a closed pipe found here, not in the interpreter's flush at exit
        return code
    except FtsimError as exc:
        print(f"ftsim: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `ftsim rules | head -1`: the reader has all it wanted
        return stdout_gone()


# 128 + SIGPIPE, what the shell reports for `cat` or `yes` stopped by a closed pipe, so `set -o pipefail`
# sees ftsim as it sees them; 1 would read as "a check failed" and 2 as "could not run", which this is not.
EXIT_BROKEN_PIPE = 141


def stdout_gone() -> int:
    """Point stdout at /dev/null, so the interpreter's last flush of what is still buffered cannot fail
    again (and print "Exception ignored ... BrokenPipeError"); what Python's signal docs recommend."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # a stdout without a file descriptor (a test's capture): nothing to flush
        pass
    return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
