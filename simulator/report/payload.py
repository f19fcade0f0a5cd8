"""An offending payload as pretty JSON lines, with the lines at the failing JSON Pointers marked.

The report and the live page show a violation's payload this way so the reader's eye lands on the value
the rule is about; a pointer to a field that is absent (schema.required) gets a marked line of its own
where the field was expected.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

MAX_LINES = 120  # beyond this, only the marked lines and their neighbourhood are kept
CONTEXT = 3


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    marked: bool = False
    gap: bool = False  # stands for lines left out


def _key(name) -> str:
    return str(name).replace("~", "~0").replace("/", "~1")


def _unkey(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _hit(pointer: str, targets) -> bool:
    return any(t and (pointer == t or pointer.startswith(t + "/")) for t in targets)


def _missing(value, pointer: str, targets) -> list[str]:
    """Member names the targets point to under this object that it does not have (schema.required)."""
    if not isinstance(value, dict):
        return []
    have = {_key(k) for k in value}
    return [last for parent, _, last in (t.rpartition("/") for t in targets) if parent == pointer and last not in have]


def json_lines(payload, paths) -> list[Line]:
    """Pretty-printed lines of payload (2-space indent), marking every line under one of paths."""
    targets = [p for p in paths if p]
    out: list[Line] = []

    def emit(value, pointer: str, indent: int, prefix: str, comma: str) -> None:
        pad = "  " * indent
        marked = _hit(pointer, targets)
        missing = _missing(value, pointer, targets)
        if isinstance(value, dict) and (value or missing):
            out.append(Line(f"{pad}{prefix}{{", marked))
            # said first, where the eye starts
            out.extend(Line(f"{pad}  // missing here: {json.dumps(_unkey(m), ensure_ascii=False)}", True)
                       for m in missing)
            items = list(value.items())
            for i, (k, v) in enumerate(items):
                emit(v, f"{pointer}/{_key(k)}", indent + 1, json.dumps(k, ensure_ascii=False) + ": ",
                     "," if i < len(items) - 1 else "")
            out.append(Line(f"{pad}}}{comma}", marked))
        elif isinstance(value, list) and value:
            out.append(Line(f"{pad}{prefix}[", marked))
            for i, v in enumerate(value):
                emit(v, f"{pointer}/{i}", indent + 1, "", "," if i < len(value) - 1 else "")
            out.append(Line(f"{pad}]{comma}", marked))
        else:
            out.append(Line(f"{pad}{prefix}{json.dumps(value, ensure_ascii=False)}{comma}", marked))

    emit(payload, "", 0, "", "")
    return _shorten(out)


def _shorten(lines: list[Line]) -> list[Line]:
    if len(lines) <= MAX_LINES:
        return lines
    keep = set(range(10))
    for i, line in enumerate(lines):
        if line.marked:
            keep.update(range(max(0, i - CONTEXT), min(len(lines), i + CONTEXT + 1)))
    out: list[Line] = []
    for i, line in enumerate(lines):
        if i in keep:
            out.append(line)
        elif not out or not out[-1].gap:
            out.append(Line("  ...", gap=True))
    return out
