"""Event types: one JSON Schema file each, found by its channel marker or its REST path.

Adding a CRM event type (payments, logins ...) is adding `schemas/<name>.json` with an `x-ftsim` block
({"marker": "PAYMENT", "rest_path": "/v1/integration/payment"}) and, if it has any, its rules.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

PROFILES = ("strict", "lenient")


def schema_dir() -> Path:
    """The installed copy of schemas/ in a wheel, or the repository's own in a checkout."""
    packaged = resources.files("simulator") / "_schemas"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "schemas"


@dataclass(frozen=True)
class EventType:
    name: str
    marker: str
    rest_path: str
    document: dict = field(repr=False, compare=False)

    def schema(self, profile: str) -> dict:
        """A self-contained schema for one profile: the file's $defs with the profile as the root."""
        if profile not in PROFILES:
            raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {profile!r}")
        return {"$schema": self.document["$schema"], "$defs": self.document["$defs"],
                "$ref": f"#/$defs/{profile}"}

    def required(self, profile: str) -> frozenset[str]:
        defs = self.document["$defs"]
        names = set(defs["lenient"].get("required", ()))
        if profile == "strict":
            names |= set(defs["strict"].get("required", ()))
        return frozenset(names)

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(self.document["$defs"]["lenient"]["properties"])


class Registry:
    def __init__(self, types: list[EventType]):
        self.types = {t.name: t for t in types}
        self.by_marker = {t.marker: t for t in types}
        self.by_path = {t.rest_path: t for t in types}

    def __iter__(self):
        return iter(self.types.values())


@cache
def load_registry(directory: str | None = None) -> Registry:
    root = Path(directory) if directory else schema_dir()
    types = []
    for path in sorted(root.glob("*.json")):
        doc = json.loads(path.read_text())
        meta = doc.get("x-ftsim")
        if meta:
            types.append(EventType(path.stem, meta["marker"], meta["rest_path"], doc))
    return Registry(types)
