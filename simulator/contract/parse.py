"""Bytes to a payload: strict JSON with a nesting limit, exact numbers and duplicate keys, each worded at its path.

The hot path is orjson plus a few byte counts (about a microsecond for an event). The stdlib parser, which
can say where and why, runs only when orjson refuses a body or a count says orjson may have hidden something:
a number orjson would round (more than 15 significant digits, an integer beyond 64 bits), a key sent twice.
Nothing here recurses in Python, so no body can raise RecursionError.
"""
from __future__ import annotations

import json
import re
from decimal import Decimal

import jsonschema_rs
import orjson

from ..violations import Violation, pointer
from .describe import json_kind

MAX_DEPTH = 64  # Fast Track events are two or three levels deep; deeper is an attack or a bug in the sender
MAX_DUPLICATES = 5  # duplicate-key warnings per message; the rest are counted in the last one
PATH_TOKENS = 20_000  # tokens the path finder reads for a body too deep for orjson; past that, an offset

# One translation serves two byte counts: digits and dots become 0 (a number orjson may round has 16 or
# more digits, so a run of 16 zeros: a substring search, where a regex costs ~50 ns a byte), and [ becomes {
# (more openers than MAX_DEPTH is the only way to be nested deeper).
_FOLD = bytes.maketrans(b"123456789.[", b"0" * 10 + b"{")
_SIXTEEN = b"0" * 16
_TOKENS = 20_000  # tokens the path finder reads for a body too deep for orjson; past that, an offset

# A number orjson may round has 16 or more digits (dots between them allowed): with digits and dots made
# zeros, a run of 16 zeros is a substring search, a few nanoseconds a byte (a regex costs ~50).
_DIGITS = bytes.maketrans(b"123456789.", b"0" * 10)
_SIXTEEN = b"0" * 16
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{},:]')
_MAX_DOUBLE = Decimal("1.7976931348623157e308")
_INT64 = range(-2 ** 63, 2 ** 64)  # what orjson keeps as an int


def _depth_schema(n: int) -> dict:
    """A schema only bodies within n levels meet; jsonschema-rs checks it in Rust, with the path if not."""
    defs = {f"d{n}": {"not": {"type": ["object", "array"]}}}
    for k in range(n - 1, -1, -1):
        inner = {"$ref": f"#/$defs/d{k + 1}"}
        defs[f"d{k}"] = {"additionalProperties": inner, "items": inner}
    return {"$defs": defs, "$ref": "#/$defs/d0"}


_DEPTH = jsonschema_rs.validator_for(_depth_schema(MAX_DEPTH))


def parse(raw: bytes) -> tuple[dict | None, list[Violation]]:
    """The payload (None when the body cannot be judged) and what is wrong with the body itself."""
    try:
        obj = orjson.loads(raw)  # strict RFC 8259: rejects invalid UTF-8, NaN and Infinity
    except orjson.JSONDecodeError as exc:
        if str(exc).startswith("depth limit exceeded"):
            return None, [_too_deep(raw)]
        return _slow(raw)
    if type(obj) is not dict:
        return None, [_not_object(obj)]
    folded = raw.translate(_FOLD)
    if folded.count(b"{") > MAX_DEPTH and not _DEPTH.is_valid(obj):
        return None, [_too_deep_at(obj)]
    if _SIXTEEN in folded or _may_repeat_keys(raw, obj):
        return _slow(raw)
    return obj, []


def _not_object(obj) -> Violation:
    hint = "; send each event as a message of its own" if isinstance(obj, list) else ""
    return Violation("json.parse", "", f"body: expected a JSON object, got {json_kind(obj)}{hint}")


def _deep_message(where: str) -> Violation:
    return Violation("json.parse", where, f"{where or 'body'}: nested deeper than {MAX_DEPTH} levels "
                                          f"(Fast Track events are a few levels deep)")


def _too_deep_at(obj) -> Violation:
    error = next(iter(_DEPTH.iter_errors(obj)))
    return _deep_message(pointer(error.instance_path))


def _too_deep(raw: bytes) -> Violation:
    """Where a body orjson refused as too deep first goes past MAX_DEPTH, without parsing it."""
    stack: list[list] = []  # [key or index] per open container
    last_string = b""
    for n, m in enumerate(_TOKENS.finditer(raw)):
        if n >= PATH_TOKENS:
            break
        tok = m.group()
        if tok in (b"{", b"["):
            stack.append([None if tok == b"{" else 0])
            if len(stack) > MAX_DEPTH:
                return _deep_message(pointer("?" if s[0] is None else s[0] for s in stack[:-1]))
        elif tok in (b"}", b"]"):
            if stack:
                stack.pop()
        elif tok == b",":
            if stack and isinstance(stack[-1][0], int):
                stack[-1][0] += 1
        elif tok == b":":
            if stack:
                stack[-1][0] = _key(last_string)
        else:
            last_string = tok
    return Violation("json.parse", "", f"body: nested deeper than {MAX_DEPTH} levels "
                                       f"(Fast Track events are a few levels deep)")


def _key(token: bytes) -> str:
    try:
        return json.loads(token.decode("utf-8", "replace"))
    except ValueError:
        return token.decode("utf-8", "replace")[1:-1]


def _may_repeat_keys(raw: bytes, obj: dict) -> bool:
    """False only when no key can be repeated, for about a microsecond. orjson writes one colon per key it
    kept, plus those inside strings; the body has one per key sent, plus those inside its strings, and with
    no colon escaped (\\u003a) its strings hold at least the same colons. So equal counts mean every key
    sent was kept: none came twice. Any doubt goes the slow way, which finds them."""
    return b"\\u003" in raw or raw.count(b":") != orjson.dumps(obj).count(b":")


class _Bad:
    """A number the stdlib parser read that no double-precision parser can carry; found later by its path."""
    __slots__ = ("why",)

    def __init__(self, why: str):
        self.why = why


def _number(text: str):
    mantissa = text.partition("e")[0].partition("E")[0]
    digits = len(mantissa) - mantissa.count("-") - mantissa.count(".")
    if digits > 4300:  # Python's own limit for int(); no CRM parser takes more either
        return _Bad(f"a number with {digits} digits: too long (at most 4300)")
    exact = Decimal(text)
    if abs(exact) > _MAX_DOUBLE:
        shown = text if len(text) <= 24 else text[:21] + "..."
        return _Bad(f"{shown} is beyond what a JSON number can carry here (double precision, "
                    f"at most about 1.8e308)")
    return exact


def _float(text: str):
    value = _number(text)
    if isinstance(value, Decimal):
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else value  # Decimal only where a float rounds
    return value


def _int(text: str):
    value = _number(text)
    if isinstance(value, Decimal):
        return int(value) if int(value) in _INT64 else value  # orjson's digest takes 64-bit ints only
    return value


def _no_constants(name):
    raise ValueError(f"{name} is not a JSON number")


def _slow(raw: bytes) -> tuple[dict | None, list[Violation]]:
    """The stdlib parser with hooks: exact numbers, repeated keys, and the words for a body that is not JSON."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return None, [Violation("json.parse", "", f"body: expected UTF-8 text, got the invalid byte "
                                                  f"0x{raw[e.start]:02x} at offset {e.start}")]
    repeated: dict[int, list] = {}

    def pairs(items):
        obj = {}
        for k, v in items:
            if k in obj:
                repeated.setdefault(id(obj), []).append(k)
            obj[k] = v
        return obj

    try:
        obj = json.loads(text, parse_float=_float, parse_int=_int, parse_constant=_no_constants,
                         object_pairs_hook=pairs)
    except RecursionError:
        return None, [_too_deep(raw)]
    except ValueError as e:
        reason = f"{e.msg} at line {e.lineno} column {e.colno}" if isinstance(e, json.JSONDecodeError) else str(e)
        shown = text[:40] + ("..." if len(text) > 40 else "")
        return None, [Violation("json.parse", "", f"body: expected a JSON object, got text that is not JSON "
                                                  f"({reason}): {shown!r}")]
    if type(obj) is not dict:
        return None, [_not_object(obj)]
    payload, found = _findings(obj, repeated)  # first: a _Bad is no value jsonschema-rs can read
    if payload is not None and not _DEPTH.is_valid(payload):  # jsonschema-rs reads Decimal as a number
        return None, [_too_deep_at(payload)]
    return payload, found


def _findings(obj: dict, repeated: dict[int, list]) -> tuple[dict | None, list[Violation]]:
    """Walk the tree once (it is at most MAX_DEPTH deep): a bad number rejects the body, repeated keys warn."""
    found: list[Violation] = []
    dups = 0
    todo: list[tuple[tuple, object]] = [((), obj)]
    while todo:
        path, o = todo.pop()
        if isinstance(o, _Bad):
            where = pointer(path)
            return None, [Violation("json.number", where, f"{where[1:] or 'body'}: {o.why}")]
        if type(o) is dict:
            for k in repeated.get(id(o), ()):
                dups += 1
                if dups <= MAX_DUPLICATES:
                    where = pointer(path + (k,))
                    found.append(Violation("json.duplicate_key", where,
                                           f"{where[1:] or k}: the key {k!r} is sent more than once; the last "
                                           f"value, {_shown(o[k])}, is taken (as the CRM's parser does)",
                                           "warning"))
            todo.extend((path + (k,), v) for k, v in o.items() if type(v) in _NESTED)
        elif type(o) is list:
            todo.extend((path + (i,), v) for i, v in enumerate(o) if type(v) in _NESTED)
    if dups > MAX_DUPLICATES:
        found.append(Violation("json.duplicate_key", "", f"body: {dups - MAX_DUPLICATES} more keys sent more "
                                                         f"than once (not listed); the last value is taken",
                               "warning"))
    return obj, found


_NESTED = (dict, list, _Bad)


def _shown(value) -> str:
    text = str(value) if isinstance(value, Decimal) else json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."
