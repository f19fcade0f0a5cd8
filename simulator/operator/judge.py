"""An operator's answer against what FT demands of it: each way it can go wrong is its own rule, so a team
sees at once whether it is the transport (timeout, redirect, cache), the auth or the body's shape."""
from __future__ import annotations

import json
import re
from functools import lru_cache

from simulator.contract.plugin import EventType
from simulator.contract.registry import load_schema
from simulator.contract.validate import make_validator
from simulator.core.violations import Violation
from simulator.operator.endpoints import Endpoint
from simulator.operator.wire import Answer

_MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-)?max-age\s*=\s*\"?(\d+)", re.I)


@lru_cache(maxsize=None)
def validator(schema: str, engine: str = "rust"):
    """A compiled validator for schemas/operator/<schema>.json, built once per process."""
    doc = load_schema(f"operator/{schema}")
    return make_validator(EventType(f"operator.{schema}", "n/a", doc), "strict", engine)


def judge(endpoint: Endpoint, answer: Answer, *, user_id: str | None = None,
          engine: str = "rust") -> tuple[list[Violation], object]:
    """(violations, the parsed body or None). user_id: whom the answer must be about, where it names one."""
    where = f"{endpoint.method} {endpoint.path}"
    if answer.failure == "timeout":
        return [Violation("operator.timeout", "", f"{where}: {answer.detail}")], None
    if answer.status is None:
        return [Violation("operator.unreachable", "", f"{where}: could not connect ({answer.detail})")], None
    status = answer.status
    if 300 <= status < 400:
        location = answer.headers.get("location", "no Location")
        return [Violation("operator.redirect", "", f"{where}: answered {status} to {location}; expected 200 "
                                                   f"from the configured URL (redirects are not followed)")], None
    if status in (401, 403):
        return [Violation("operator.auth", "", f"{where}: answered {status} to ftsim's credentials; expected "
                                               f"200")], None
    if status != 200:
        return [Violation("operator.status", "", f"{where}: expected 200, got {status}{_snippet(answer.body)}")], None
    found: list[Violation] = []
    if endpoint.method == "GET":
        found += cache_violations(where, answer.headers.get("cache-control"))
    if endpoint.schema is None:  # a 200 is the whole contract; a body, if any, is kept, not judged
        return found, _loads(answer.body)
    ctype = answer.headers.get("content-type", "")
    media = ctype.split(";", 1)[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        found.append(Violation("operator.content_type", "", f"{where}: expected Content-Type application/json, "
                                                            f"got {ctype or 'none'}"))
    body = _loads(answer.body)
    if not isinstance(body, dict):
        what = "an empty body" if not answer.body.strip() else (
            "not JSON" if body is None else f"a JSON {type(body).__name__}")
        found.append(Violation("operator.not_json", "", f"{where}: expected a JSON object, got {what}"))
        return found, body
    for v in validator(endpoint.schema, engine).violations(body):
        found.append(Violation("operator." + v.rule, v.path, v.message, v.severity, v.source))
    if user_id is not None and "user_id" in endpoint.schema_fields():
        got = body.get("user_id")
        if isinstance(got, str) and got != user_id:
            found.append(Violation("operator.user_mismatch", "/user_id",
                                   f"{where}: asked about user {user_id!r}, the answer is for {got!r}"))
    return found, body


def cache_violations(where: str, header: str | None) -> list[Violation]:
    if header is None:
        return [Violation("operator.cache", "", f"{where}: no Cache-Control header, so a proxy may cache it; "
                                                f"expected Cache-Control: no-store (FT: must not be cached)")]
    value = header.lower()
    directives = {d.strip().split("=", 1)[0] for d in value.split(",")}
    ages = [int(m) for m in _MAX_AGE.findall(value)]
    if "public" in directives or any(a > 0 for a in ages) or not (
            directives & {"no-store", "no-cache"} or (ages and max(ages) == 0)):
        return [Violation("operator.cache", "", f"{where}: Cache-Control {header!r} lets the answer be cached; "
                                                f"expected no-store (FT: must not be cached)")]
    return []


def _loads(raw: bytes):
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


def _snippet(body: bytes) -> str:
    text = body[:200].decode("utf-8", errors="replace").strip()
    return f" ({text})" if text else ""
