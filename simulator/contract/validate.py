"""Schema validation behind one interface, with two engines.

`rust` (jsonschema-rs) is the default: about a hundred times faster than `python` (jsonschema) on our
events, see bench/. `python` stays as the reference the differential test holds the default to. Both
collect every error and hand them to describe.py, so the words are the same whichever engine ran.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Iterator

from simulator.contract.formats import FORMATS
from simulator.contract.describe import Problem, to_violation
from simulator.contract.plugin import EventType
from simulator.core.violations import Violation

_RS_EXPECTED = {"type": "types", "enum": "options", "format": "format", "required": "property",
                "minimum": "limit", "exclusiveMinimum": "limit", "minLength": "limit"}

_QUOTED = re.compile(r"^'(.*)' is a required property$")
_SPEC_NOTES = "strict profile: spec 000 requires it, spec 001 does not; --profile lenient accepts its absence"


class SchemaValidator:
    engine = "?"

    def __init__(self, event_type: EventType, profile: str):
        self.event_type = event_type
        self.profile = profile
        strict_only = event_type.required("strict") - event_type.required("lenient")
        self._required_by = {f: _SPEC_NOTES for f in strict_only} if profile == "strict" else {}
        self._sources = event_type.sources(profile)
        self._compile(event_type.schema(profile))

    def violations(self, payload: dict) -> list[Violation]:
        if self._is_valid(payload):
            return []
        # A profile that tightens a type fails both its own and the base's check: keep the tighter words.
        best: dict[tuple[str, str], Violation] = {}
        for problem in self._problems(payload):
            v = to_violation(problem, self._required_by)
            seen = best.get((v.rule, v.path))
            if seen is None or len(v.message) < len(seen.message):
                best[(v.rule, v.path)] = v
        if self._sources:
            best = {k: self._sourced(v) for k, v in best.items()}
        return sorted(best.values(), key=lambda v: v.path)

    def _sourced(self, v: Violation) -> Violation:
        """The violation naming who demands the check, in `source` and at the end of its sentence.

        An `x-sources` entry is a source for every check of its field, or a map keyword -> source
        ("required": "spec 000", "*": the field's other checks); "*" at the top covers the other fields."""
        field = v.path.split("/", 2)[1].replace("~1", "/").replace("~0", "~") if v.path else "*"
        entry = self._sources.get(field) or self._sources.get("*", "")
        if isinstance(entry, dict):
            entry = entry.get(v.rule.removeprefix("schema.")) or entry.get("*") or self._sources.get("*", "")
        return replace(v, source=entry, message=f"{v.message}; source: {entry}") if entry else v

    def _compile(self, schema: dict) -> None:
        raise NotImplementedError

    def _is_valid(self, payload: dict) -> bool:
        raise NotImplementedError

    def _problems(self, payload: dict) -> Iterator[Problem]:
        raise NotImplementedError


class RustValidator(SchemaValidator):
    engine = "rust"

    def _compile(self, schema):
        import jsonschema_rs

        self._v = jsonschema_rs.validator_for(schema, validate_formats=True, formats=FORMATS)

    def _is_valid(self, payload):
        return self._v.is_valid(payload)

    def _problems(self, payload):
        for e in self._v.iter_errors(payload):
            keyword = e.schema_path[-1] if e.schema_path else e.kind.name
            details = e.kind.as_dict()
            expected = details.get(_RS_EXPECTED.get(keyword, ""), e.message)
            yield Problem(str(keyword), tuple(e.instance_path), e.instance, expected)


class PythonValidator(SchemaValidator):
    engine = "python"

    def _compile(self, schema):
        from jsonschema import Draft202012Validator, FormatChecker

        checker = FormatChecker()
        for name, fn in FORMATS.items():
            checker.checks(name)(fn)
        self._v = Draft202012Validator(schema, format_checker=checker)

    def _is_valid(self, payload):
        return self._v.is_valid(payload)

    def _problems(self, payload):
        for e in self._v.iter_errors(payload):
            if e.validator == "required":
                # jsonschema reports one error per missing name and keeps the name only in its message.
                name = _QUOTED.match(e.message).group(1)
                yield Problem("required", tuple(e.absolute_path), e.instance, name)
            else:
                yield Problem(e.validator, tuple(e.absolute_path), e.instance, e.validator_value)


ENGINES = {"rust": RustValidator, "python": PythonValidator}


def make_validator(event_type: EventType, profile: str, engine: str = "rust") -> SchemaValidator:
    return ENGINES[engine](event_type, profile)
