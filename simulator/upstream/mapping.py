"""The mapping: which Fast Track events each upstream input must cause, and how their fields correspond.

One TOML file per source (shipped: `mappings/phoenix.toml`, `mappings/evenbet.toml`); see those for the
format. Loading checks every entry, so a typo in a mapping is a `ConfigError` naming the entry and the
key, never a pairing that silently expects nothing.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cached_property, lru_cache
from decimal import Decimal
from pathlib import Path

from simulator.core.errors import ConfigError
from simulator.core.money import to_money

SHIPPED = Path(__file__).resolve().parent / "mappings"
FIELD_KEYS = {"from", "value", "unit", "text", "table", "zero_unless", "rule"}
EXPECT_KEYS = {"input", "when", "marker", "kind", "key", "fields", "forbid", "currency"}
UNITS = ("major", "minor")
MISSING = object()


@lru_cache(maxsize=1024)
def _steps(path: str) -> tuple:
    """A path split once: (name, pick key, pick value) per step; pick key None for a plain name."""
    out = []
    for part in path.split("."):
        if "[" in part and part.endswith("]"):
            name, _, pick = part[:-1].partition("[")
            k, _, v = pick.partition("=")
            out.append((name, k, v))
        else:
            out.append((part, None, None))
    return tuple(out)


def dig(doc, path: str):
    """A dotted path into a JSON document; `name[key=value]` picks the item of a list whose key matches."""
    node = doc
    for name, k, v in _steps(path):
        node = node.get(name, MISSING) if isinstance(node, dict) else MISSING
        if k is not None:
            if not isinstance(node, list):
                return MISSING
            node = next((i for i in node if isinstance(i, dict) and str(i.get(k)) == v), MISSING)
        if node is MISSING:
            return MISSING
    return node


def _matches(doc, when: dict) -> bool:
    for path, want in when.items():
        got = dig(doc, path)
        if isinstance(want, list):
            if got not in want or isinstance(got, bool) != any(isinstance(w, bool) for w in want):
                return False
        elif got != want or isinstance(got, bool) != isinstance(want, bool):
            return False
    return True


def rule_for(field: str) -> str:
    """The rule a wrong value of an FT field breaks, from its name: user_id, round_id, *amount, *currency."""
    last = field.rsplit(".", 1)[-1]
    if last == "user_id":
        return "pipeline.user"
    if last == "round_id":
        return "pipeline.round"
    if "amount" in last:
        return "pipeline.amount"
    if "currency" in last:
        return "pipeline.currency"
    return "pipeline.field"


@dataclass(frozen=True)
class Want:
    """One FT field's expected value, with what it came from (for the message)."""
    value: object
    source: str  # "data.bet 1.5" / "constant"
    rule: str
    unit: str | None = None
    precision: int | None = None


@dataclass(frozen=True)
class Expect:
    source: str
    input: str
    marker: str
    kind: dict
    key: tuple[str, ...]
    fields: dict
    when: dict
    forbid: bool
    currency: dict | None
    tables: dict
    precision: dict
    where: str  # "phoenix.toml expect[2]" for messages

    def applies(self, kind: str, doc: dict) -> bool:
        return kind == self.input and _matches(doc, self.when)

    def wants(self, doc: dict) -> dict[str, Want]:
        """FT field -> what the input says it must be; a field the input does not carry is left out."""
        currency = self._value(self.currency, doc) if self.currency else None
        digits = self.precision.get(currency, 2) if isinstance(currency, str) else 2
        out = {}
        for name, spec in self.fields.items():
            value = self._value(spec, doc)
            if value is MISSING:
                continue
            rule = spec.get("rule") or rule_for(name)
            src = f"{spec['from']} {_show(dig(doc, spec['from']))}" if "from" in spec else "the mapping's constant"
            unit = spec.get("unit")
            if unit is not None:
                amount = to_money(value)
                if amount is None:
                    continue
                if "zero_unless" in spec and not _matches(doc, spec["zero_unless"]):
                    amount, src = Decimal(0), src + f" (0 unless {_when_text(spec['zero_unless'])})"
                if unit == "minor":
                    amount = amount.scaleb(-digits)
                value = amount
            out[name] = Want(value, src, rule, unit, digits if unit else None)
        return out

    def _value(self, spec: dict, doc: dict):
        if "value" in spec:
            return spec["value"]
        value = dig(doc, spec["from"])
        if value is MISSING:
            return MISSING
        if "table" in spec:
            value = self.tables[spec["table"]].get(str(value), MISSING)
        if spec.get("text") and not isinstance(value, (dict, list)) and value is not MISSING:
            value = str(value)
        return value

    def sees(self, marker: str, payload: dict) -> bool:
        """Is this FT event of the kind this entry produces?"""
        return marker == self.marker and all(payload.get(k) == v for k, v in self.kind.items())

    def key_of(self, values: dict, fields=None) -> tuple:
        return tuple(_text(values.get(f)) for f in (fields or self.key))

    def label(self) -> str:
        return self.marker + "".join(f" {v}" for v in self.kind.values())


def _text(v):
    return None if v is None or v is MISSING else str(v)


def _show(v) -> str:
    return "absent" if v is MISSING else repr(v) if isinstance(v, str) else str(v).lower() if isinstance(
        v, bool) else str(v)


def _when_text(when: dict) -> str:
    return ", ".join(f"{k} = {v!r}" for k, v in when.items())


@dataclass(frozen=True, eq=False)
class Mapping:
    source: str
    grace: float
    latency_budget: float
    expects: tuple[Expect, ...]
    where: str

    def for_input(self, kind: str, doc: dict) -> list[Expect]:
        return [e for e in self._by_input.get(kind, ()) if _matches(doc, e.when)]

    @cached_property
    def _by_input(self) -> dict[str, list[Expect]]:
        out: dict[str, list[Expect]] = {}
        for e in self.expects:
            out.setdefault(e.input, []).append(e)
        return out

    def inputs(self) -> set[str]:
        return {e.input for e in self.expects}


def load_mapping(name_or_path: str) -> Mapping:
    """A shipped mapping by source name (phoenix, evenbet) or a TOML file of one's own."""
    path = SHIPPED / f"{name_or_path}.toml" if "/" not in name_or_path and not name_or_path.endswith(
        ".toml") else Path(name_or_path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"pipeline mapping {path}: {exc}") from None
    return mapping_from(doc, path.name)


def mapping_from(doc: dict, where: str = "mapping") -> Mapping:
    source = doc.get("source")
    if not isinstance(source, str) or not source:
        raise ConfigError(f"{where}: source: expected the input's source name (phoenix, evenbet ...)")
    tables = {"money_types": {str(k): v for k, v in doc.get("money_types", {}).items()}}
    precision = {str(k): int(v) for k, v in doc.get("precision", {}).items()}
    expects = []
    for i, e in enumerate(doc.get("expect", [])):
        at = f"{where} expect[{i}]"
        unknown = set(e) - EXPECT_KEYS
        if unknown:
            raise ConfigError(f"{at}: unknown key {sorted(unknown)[0]!r}; expected one of {', '.join(sorted(EXPECT_KEYS))}")
        for req in ("input", "marker", "key", "fields"):
            if req not in e:
                raise ConfigError(f"{at}: {req} is required")
        fields = e["fields"]
        for name, spec in fields.items():
            if not isinstance(spec, dict) or ("from" in spec) == ("value" in spec):
                raise ConfigError(f"{at}: fields.{name}: expected a table with `from` (a path) or `value`")
            bad = set(spec) - FIELD_KEYS
            if bad:
                raise ConfigError(f"{at}: fields.{name}: unknown key {sorted(bad)[0]!r}")
            if spec.get("unit") not in (None, *UNITS):
                raise ConfigError(f"{at}: fields.{name}: unit: expected major or minor, got {spec['unit']!r}")
            if "table" in spec and spec["table"] not in tables:
                raise ConfigError(f"{at}: fields.{name}: table: expected one of {', '.join(tables)}")
        key = tuple(e["key"])
        if not key or any(k not in fields for k in key):
            raise ConfigError(f"{at}: key: every key field must be one of the entry's fields")
        expects.append(Expect(source, e["input"], e["marker"], dict(e.get("kind", {})), key, dict(fields),
                              dict(e.get("when", {})), bool(e.get("forbid", False)), e.get("currency"), tables,
                              precision, at))
    if not expects:
        raise ConfigError(f"{where}: no [[expect]] entry")
    grace, budget = float(doc.get("grace", 5.0)), float(doc.get("latency_budget", 1.0))
    if grace <= 0 or budget <= 0:
        raise ConfigError(f"{where}: grace and latency_budget: expected seconds > 0")
    return Mapping(source, grace, budget, tuple(expects), where)
