"""The event types ftsim knows, found by marker or by REST method and path: a dictionary look-up each.

Every package under `simulator/types/` that exports `TYPE` (or `TYPES`, for a marker with two shapes)
is an event type; nothing else lists them. Tests build a `Registry` of their own from `EventType`s
defined in the test, which is how a throwaway type proves that a folder is all a new type needs.
"""
from __future__ import annotations

import importlib
import importlib.util
import json
import pkgutil
from dataclasses import replace
from functools import cache
from importlib import resources
from pathlib import Path

from simulator.contract.plugin import EventType


def schema_dir() -> Path:
    """The installed copy of schemas/ in a wheel, or the repository's own in a checkout."""
    packaged = resources.files("simulator") / "_schemas"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "schemas"


def load_schema(name: str) -> dict:
    """schemas/<name>.json, for a type's folder to hand to its EventType, with the shared definitions of
    schemas/_common.json (ISO 4217 currencies ...) merged into its $defs (its own of the same name win)."""
    doc = json.loads((schema_dir() / f"{name}.json").read_text(encoding="utf-8"))
    common = json.loads((schema_dir() / "_common.json").read_text(encoding="utf-8"))["$defs"]
    doc["$defs"] = {**common, **doc.get("$defs", {})}
    return doc


class Registry:
    """shared: books that judge every event of every type after its own book (a user never registered)."""

    def __init__(self, types, shared=()):
        types = list(types)
        self.shared = tuple(shared)
        self.types: dict[str, EventType] = {}
        self.by_marker: dict[str, tuple[EventType, ...]] = {}
        self.routes: dict[str, dict[str, EventType]] = {}  # path -> method -> type
        for t in types:
            if t.name in self.types:
                raise ValueError(f"event type {t.name!r} is defined twice")
            self.types[t.name] = t
            self.by_marker[t.marker] = self.by_marker.get(t.marker, ()) + (t,)
            if t.path:
                methods = self.routes.setdefault(t.path, {})
                if t.method in methods:
                    raise ValueError(f"{t.method} {t.path} is claimed by {methods[t.method].name} and {t.name}")
                methods[t.method] = t
        self._by_lower = {m.lower(): m for m in self.by_marker}

    def __iter__(self):
        return iter(self.types.values())

    def __len__(self):
        return len(self.types)

    def for_marker(self, marker: str | None, payload: dict | None = None) -> EventType | None:
        """The type behind a broker marker; where two shapes share one marker, the one the payload fits
        (the last listed when it fits neither, so its schema says what is missing)."""
        found = self.by_marker.get(marker) if marker is not None else None
        if not found:
            return None
        if len(found) == 1 or payload is None:
            return found[-1] if len(found) > 1 else found[0]
        return next((t for t in found if t.shape is not None and t.shape(payload)), found[-1])

    def markers(self) -> list[str]:
        return sorted(self.by_marker)

    def marker_like(self, text: str) -> str | None:
        """The marker `text` names in another case or with stray spaces ('casino' for CASINO), or None:
        markers are case-sensitive, and what a sender got wrong is worth saying. A dictionary look-up, since
        intake asks it for every message with a marker no type has."""
        return self._by_lower.get(text.strip().lower())

    def views(self, name: str) -> list:
        """Every type's view of that name (summary, player ...), in type order."""
        return [t.views[name] for t in self.types.values() if name in t.views]

    def view(self, name: str):
        """The one view of that name (rounds, sessions: casino's), or None when no type offers it."""
        found = self.views(name)
        return found[0] if found else None

    def tables(self) -> list:
        """The SQL tables the types bring, for the store to create and clear."""
        return [t.tables for t in self.types.values() if t.tables is not None]


def discover() -> tuple[list[EventType], list]:
    """Every EventType exported by a package under simulator/types/ (`TYPE` or `TYPES`), in name order,
    and the shared books they export (`SHARED`)."""
    import simulator.types as package

    found: list[EventType] = []
    shared: list = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        own = ([module.TYPE] if hasattr(module, "TYPE") else []) + list(getattr(module, "TYPES", ()))
        found += [_with_generator(t, f"{package.__name__}.{info.name}") for t in own]
        shared += list(getattr(module, "SHARED", ()))
    return sorted(found, key=lambda t: t.name), shared


def _with_generator(t: EventType, package: str) -> EventType:
    """The type with its folder's scenario generator (scenario.py's `generate`), if it offers one and the
    type sets none itself: scenario traffic is optional, so most folders need not know about it."""
    if t.generate is not None or importlib.util.find_spec(f"{package}.scenario") is None:
        return t
    generate = getattr(importlib.import_module(f"{package}.scenario"), "generate", None)
    return t if generate is None else replace(t, generate=generate)


@cache
def load_registry() -> Registry:
    types, shared = discover()
    return Registry(types, shared)
