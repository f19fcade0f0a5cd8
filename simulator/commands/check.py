"""`ftsim check FILE...`: the same intake, offline, over JSON or JSON Lines files of messages."""
from __future__ import annotations

import difflib
import json
import sys
from pathlib import Path

from simulator.core.envelope import Envelope
from simulator.core.errors import ConfigError
from simulator.commands import add_contract_options, contract_flags


def register(sub) -> None:
    p = sub.add_parser("check", help="judge messages in JSON / JSON Lines files; exit 1 on any error")
    add_contract_options(p, db_default="none: judged in memory; a file keeps the verdicts, and the history "
                                       "the next check judges against")
    p.add_argument("files", nargs="+", metavar="FILE", help="a JSON object, a JSON array of them, or JSON Lines")
    p.add_argument("--type", default="CASINO",
                   help="the type marker the messages carry (default CASINO); a JSON Lines line "
                        '{"marker": "PAYMENT", "payload": {...}} carries its own')
    p.add_argument("--quiet", action="store_true", help="print only the totals")
    p.set_defaults(func=run)


def typed(raw: bytes, marker: str | None) -> tuple[bytes, str | None]:
    """A line may carry its own type: {"marker": "PAYMENT", "payload": {...}} (for mixed-type files);
    anything else is the payload itself, of the type given on the command line."""
    if raw[:1] != b"{" or b'"marker"' not in raw:
        return raw, marker
    try:
        obj = json.loads(raw)
    except ValueError:
        return raw, marker
    if isinstance(obj, dict) and set(obj) == {"marker", "payload"} and isinstance(obj["marker"], str):
        return json.dumps(obj["payload"]).encode(), obj["marker"]
    return raw, marker


def read_messages(path: Path):
    """(location, raw bytes) per message. A file that parses as one JSON array gives its elements."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror}") from None
    try:
        whole = json.loads(data)
    except ValueError:
        whole = None
    if isinstance(whole, list):
        for i, item in enumerate(whole):
            yield f"{path}:[{i}]", json.dumps(item).encode()
        return
    if isinstance(whole, dict):
        yield f"{path}:1", data.strip()
        return
    for number, line in enumerate(data.splitlines(), 1):
        if line.strip():
            yield f"{path}:{number}", line.strip()


def run(args, out=None) -> int:
    from simulator.runtime import Runtime
    from simulator.settings import load_settings

    out = out or sys.stdout
    flags = contract_flags(args)
    flags["db"] = flags["db"] or ":memory:"
    # A file has no receipt time: latency rules only judge when asked for explicitly.
    flags["severity"] = ["latency.budget=off", "timestamp.future=off"] + (args.severity or [])
    runtime = Runtime(load_settings(args.config, **flags))
    errors = warnings = total = invalid = 0
    try:
        _known_marker(args.type, runtime.registry)
        for name in args.files:
            for where, line in read_messages(Path(name)):
                raw, marker = typed(line, args.type)
                verdict = runtime.intake.one(Envelope("file", raw, marker, source=where))
                total += 1
                invalid += not verdict.valid
                for v in verdict.violations:
                    errors += v.severity == "error"
                    warnings += v.severity == "warning"
                    if not args.quiet:
                        print(f"{where}: {v.severity} {v.rule} {v.path or '/'}: {v.message}", file=out)
    finally:
        runtime.close()
    if not total:  # an empty export passing a CI check would say nothing was wrong with what was never read
        raise ConfigError(f"{', '.join(args.files)}: no message to check")
    print(f"{total} messages: {total - invalid} valid, {invalid} invalid; {errors} errors, {warnings} warnings",
          file=out)
    return 1 if errors else 0


def _known_marker(marker: str, registry) -> None:
    """--type is the command's own setting: a marker no type has judged every message transport.type, exit
    1, as if the data were wrong. ('' is allowed: messages without a marker, which is what it tests.)"""
    markers = registry.markers()
    if not marker or marker in markers:
        return
    near = registry.marker_like(marker) or next(iter(difflib.get_close_matches(marker, markers, n=1)), None)
    hint = f"; did you mean {near!r}?" if near else f"; one of {', '.join(markers)}"
    raise ConfigError(f"--type {marker!r}: no event type has that marker{hint}")
