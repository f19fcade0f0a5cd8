"""Bytes to a payload: strict JSON with a nesting limit, exact numbers and duplicate keys, each worded at its path.

The hot path is orjson plus a few byte counts (about 2.5 us for a 500-byte event, bench/hostile.py). The stdlib parser, which
can say where and why, runs only when orjson refuses a body or a count says orjson may have hidden something:
a number orjson would round (16 or more digits, so also an integer beyond 64 bits), a key sent twice.
Nothing here recurses in Python, so no body can raise RecursionError.
"""
from __future__ import annotations

import hashlib
import json
import re
from decimal import Decimal

import jsonschema_rs
import orjson

from simulator.core.violations import Violation, pointer
from simulator.contract.describe import json_kind

MAX_DEPTH = 64  # Fast Track events are two or three levels deep; deeper is an attack or a bug in the sender
MAX_DUPLICATES = 5  # objects whose repeated keys are listed; those in the others are counted in one more
PATH_TOKENS = 20_000  # tokens the path finder reads in a body too deep for orjson; past that, no path

# One translation serves two byte counts: digits and dots become 0 (a number orjson may round has 16 or
# more digits, so a run of 16 zeros: a substring search, where a regex costs ~50 ns a byte), and [ becomes {
# (more openers than MAX_DEPTH is the only way to be nested deeper).
_FOLD = bytes.maketrans(b"123456789.[", b"0" * 10 + b"{")
_SIXTEEN = b"0" * 16
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{},:]')
_MAX_DOUBLE = Decimal("1.7976931348623157e308")


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
    payload, problems, _ = parse_canonical(raw)
    return payload, problems


def parse_canonical(raw: bytes) -> tuple[dict | None, list[Violation], bytes | None]:
    """parse(), and the payload's `canonical` bytes when the hot path wrote them anyway (its count of kept
    keys), so that the digest a retry is known by costs no second dump; None: call canonical() if needed."""
    try:
        obj = orjson.loads(raw)  # strict RFC 8259: rejects invalid UTF-8, NaN and Infinity
    except orjson.JSONDecodeError as exc:
        if str(exc).startswith("depth limit exceeded"):
            return None, [_too_deep(raw)], None
        return *_slow(raw), None
    if type(obj) is not dict:
        return None, [_not_object(obj)], None
    folded = raw.translate(_FOLD)
    if folded.count(b"{") > MAX_DEPTH and not _DEPTH.is_valid(obj):
        return None, [_too_deep_at(obj)], None
    numbers = _SIXTEEN in folded and _long_number_may_hide(raw, folded, obj)
    written = _no_repeated_keys(raw, obj)
    if numbers or written is None:
        return *_slow(raw, numbers, written is None), None
    return obj, [], written


def _not_object(obj) -> Violation:
    hint = "; send each event as a message of its own" if isinstance(obj, list) else ""
    return Violation("json.parse", "", f"body: expected a JSON object, got {json_kind(obj)}{hint}")


def _deep_message(where: str) -> Violation:
    shown = where[1:] if len(where) <= 41 else f"{where[1:20]}...{where[-20:]}"  # the path field has it all
    return Violation("json.parse", where, f"{shown or 'body'}: nested deeper than {MAX_DEPTH} levels "
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


def _long_number_may_hide(raw: bytes, folded: bytes, obj: dict) -> bool:
    """False when every run of 16 digits in the body is inside a string (an id of a nanosecond clock, a
    snowflake): the strings, keys included, hold as many 16-blocks as the whole body, so no number does.
    With no digit or dot escaped (\\u00..), a string's runs are the same in the body and in the payload;
    any doubt goes the slow way."""
    if b"\\u00" in raw:
        return True
    in_strings, todo = 0, [obj]
    while todo:
        v = todo.pop()
        if type(v) is dict:
            for k, x in v.items():
                if len(k) >= 16:
                    in_strings += _runs(k)
                todo.append(x)
        elif type(v) is list:
            todo += v
        elif type(v) is str and len(v) >= 16:
            in_strings += _runs(v)
    return folded.count(_SIXTEEN) != in_strings


def _runs(text: str) -> int:
    return text.encode("utf-8", "surrogatepass").translate(_FOLD).count(_SIXTEEN)


def _no_repeated_keys(raw: bytes, obj: dict) -> bytes | None:
    """obj's canonical bytes when no key can have been repeated, found in about a microsecond; None when
    one may. orjson writes one colon per key it kept, plus those inside strings; the body has one per key
    sent, plus those inside its strings, and with no colon escaped (\\u003a) its strings hold at least the
    same colons. So equal counts mean every key sent was kept: none came twice. Any doubt goes the slow way,
    which finds them. The keys are written sorted, as `canonical` writes them, so the bytes serve the
    digest too."""
    if b"\\u003" in raw:
        return None
    written = orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
    return written if raw.count(b":") == written.count(b":") else None


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


def _exact_float(text: str):
    """A float where its shortest text is the sender's, else the exact Decimal (or a _Bad)."""
    value = _number(text)
    if isinstance(value, Decimal):
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else value
    return value


def _int(text: str):
    """Only when some integer has more than 4300 digits (int() refuses it): to say which one."""
    return int(text) if len(text) <= 4300 else _number(text)


def _no_constants(name):
    raise ValueError(f"{name} is not a JSON number")


def _slow(raw: bytes, numbers: bool = True, keys: bool = True, ints: bool = False):
    """The stdlib parser with hooks: exact numbers (numbers), repeated keys (keys), and the words for a body
    that is not JSON. Each hook is a Python call per float or per object, so only those needed run.
    Integers need none: the stdlib reads them exactly (Python int) unless they pass 4300 digits (ints)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return None, [Violation("json.parse", "", f"body: expected UTF-8 text, got the invalid byte "
                                                  f"0x{raw[e.start]:02x} at offset {e.start}")]
    # Repeated keys are found bottom-up, as the parser closes each object: an object's own, then those its
    # children carried up, each with its path relative to it; the root ends with full paths, and no walk
    # of the tree is needed. Only the first few objects with repeats are listed; the others are counted.
    below: dict[int, list] = {}  # id of a container not yet claimed by its parent -> [(path, key, value)]
    listed = [0]
    more = [0]
    bad: list = []

    def claim(key, value, into: list) -> None:
        todo = [((key,), value)]
        while todo:
            path, v = todo.pop()
            entries = below.pop(id(v), None)
            if entries:
                into += [(path + p, k, kept) for p, k, kept in entries]
            if type(v) is list and below:  # lists have no hook: the object holding one claims its items
                todo += [(path + (i,), x) for i, x in enumerate(v) if id(x) in below or type(x) is list]

    def pairs(items):
        obj = dict(items)
        entries: list = []
        if len(obj) != len(items):
            if listed[0] < MAX_DUPLICATES:
                listed[0] += 1
                seen: set = set()
                entries = [((k,), k, obj[k]) for k, _ in items if k in seen or seen.add(k)]
            else:
                more[0] += len(items) - len(obj)
        if below:
            for k, v in obj.items():
                if type(v) is dict or type(v) is list or type(v) is _Bad:
                    claim(k, v, entries)
        if entries:
            below[id(obj)] = entries
        return obj

    def parse_float(text):
        if len(text) < 16:  # at most 15 digits: the double's shortest text is the sender's text
            value = float(text)
            if value - value == 0:  # finite
                return value
        value = _exact_float(text)
        if type(value) is _Bad:
            bad.append(value)
            below[id(value)] = [((), None, value)]  # carried up like a repeated key, to learn its path
        return value

    def parse_int(text):
        value = _int(text)
        if type(value) is _Bad:
            bad.append(value)
            below[id(value)] = [((), None, value)]
        return value

    hooks = {"parse_constant": _no_constants}
    if numbers:
        hooks["parse_float"] = parse_float
    if ints:
        hooks["parse_int"] = parse_int
    if keys:
        hooks["object_pairs_hook"] = pairs
    try:
        obj = json.loads(text, **hooks)
    except RecursionError:
        return None, [_too_deep(raw)]
    except ValueError as e:
        if not ints and "Exceeds the limit" in str(e):
            return _slow(raw, numbers, keys, ints=True)
        reason = f"{e.msg} at line {e.lineno} column {e.colno}" if isinstance(e, json.JSONDecodeError) else str(e)
        shown = text[:40] + ("..." if len(text) > 40 else "")
        return None, [Violation("json.parse", "", f"body: expected a JSON object, got text that is not JSON "
                                                  f"({reason}): {shown!r}")]
    if type(obj) is not dict:
        return None, [_not_object(obj)]
    mine = below.get(id(obj), ())
    if bad:
        carried = next((kept for path, k, kept in mine if k is None), None)
        if carried is None:  # no object hook ran (keys=False): walk the tree for it
            return None, [_bad_number(obj)]
        where = pointer(next(path for path, k, kept in mine if k is None))
        return None, [Violation("json.number", where, f"{where[1:] or 'body'}: {carried.why}")]
    found = [Violation("json.duplicate_key", pointer(path), f"{pointer(path)[1:]}: the key {k!r} is sent more "
                       f"than once; the last value, {_shown(kept)}, is taken (as the CRM's parser does)",
                       "warning") for path, k, kept in sorted(mine, key=lambda e: e[0])]
    if more[0]:
        found.append(Violation("json.duplicate_key", "", f"body: {more[0]} more keys sent more than once in "
                                                         f"other objects (not listed); the last value is taken",
                               "warning"))
    payload = obj
    if payload is not None and raw.translate(_FOLD).count(b"{") > MAX_DEPTH and not _DEPTH.is_valid(payload):
        return None, [_too_deep_at(payload)]  # jsonschema-rs reads Decimal as a number
    return payload, found


def _bad_number(obj):
    """The json.number violation for the first number no double holds, found by a walk in document order
    (such a body is refused, so the walk is paid only once per bad body)."""
    todo: list[tuple[tuple, object]] = [((), obj)]
    while todo:
        path, o = todo.pop()
        if type(o) is _Bad:
            where = pointer(path)
            return Violation("json.number", where, f"{where[1:] or 'body'}: {o.why}")
        items = o.items() if type(o) is dict else enumerate(o)
        todo += reversed([(path + (k,), v) for k, v in items if type(v) in _NESTED])
    raise AssertionError("a bad number was parsed but is not in the tree")


_NESTED = (dict, list, _Bad)


def _shown(value) -> str:
    text = str(value) if isinstance(value, Decimal) else json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def canonical(payload: dict) -> bytes:
    """Sorted compact JSON. contract/parse.py keeps numbers a double would round exactly: a Decimal is
    written as its text, an integer beyond 64 bits (which orjson refuses) by the stdlib."""
    try:
        return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS, default=str)
    except orjson.JSONEncodeError:
        return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def digest(payload: dict, written: bytes | None = None) -> str:
    """What a retry is told from a conflicting duplicate by: a hash of canonical(payload), or of `written`,
    those bytes as parse_canonical handed them over."""
    return hashlib.blake2b(written or canonical(payload), digest_size=16).hexdigest()
