"""What an event type is to the rest of ftsim: the one object each folder under `simulator/types/` exports.

Intake, the transports, the store and the clients never name an event type; they ask the registry for
the `EventType` behind a marker or a REST path and call what it carries. So adding a CRM event type is
adding its folder (an `EventType` named `TYPE`, or a list named `TYPES`) and its schema file in
`schemas/`, and nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable, Iterable, Protocol

from simulator.core.violations import Violation

PROFILES = ("strict", "lenient", "ft")
# A schema file may leave a profile out: it then means the one named here (FT's validator facts are the
# floor every profile starts from, so a type with no spec disagreement needs only `strict`).
PROFILE_FALLBACK = {"lenient": "strict", "ft": "strict"}


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """One rule id: its default severity and what it means (for `ftsim rules`, the README and reports)."""
    id: str
    severity: str
    summary: str


@dataclass(slots=True)
class Facts:
    """What a stateless rule may look at: the parsed payload and when it arrived."""
    payload: dict
    event_type: "EventType"
    received_at: datetime
    timestamp: datetime | None  # the payload's timestamp, parsed; None when absent or not RFC 3339
    latency_budget: float
    amount_tolerance: Decimal
    profile: str = "strict"
    canonical: bytes | None = None  # the payload's contract/parse.canonical bytes, when parsing wrote them


Rule = Callable[[Facts], Iterable[Violation]]


class State(Protocol):
    """The part of a store transaction a type's book may use: documents by kind and key.

    A document is a JSON object; `user_id`, `status` and `at` are copied into indexed columns so the
    query API can filter and order by them without decoding every document."""

    def get(self, kind: str, key: str) -> dict | None: ...
    def put(self, kind: str, key: str, doc: dict, *, user_id: str | None = None, status: str | None = None,
            at: str | None = None) -> None: ...
    # For a type's own Tables: a statement with ? placeholders, a counter of states by kind (kept in the
    # same transaction), and a dictionary the type may cache in for the length of the transaction.
    def execute(self, sql: str, args: tuple = ()) -> Any: ...
    def executemany(self, sql: str, rows: Iterable[tuple]) -> None: ...
    def count_state(self, kind: str, old: str | None, new: str) -> None: ...
    def before_commit(self, fn: Callable[["State"], None]) -> None: ...  # once, before the commit
    scratch: dict


@dataclass(frozen=True)
class Tables:
    """SQL tables a type keeps beside the state documents, where one document per key will not do (casino's
    rounds are read in orders only columns can index). `ddl` is written once for both dialects, with the
    store's holes {serial}, {blob}, {real}, {without_rowid}; the store creates and clears `names`, and runs
    `recount` (statements that refill `tally_states` from the tables) when it rebuilds its counters. The
    type reads and writes them through `tx.execute(sql, args)` and `store.read(sql, args)`."""
    ddl: str
    names: tuple[str, ...]
    recount: tuple[str, ...] = ()


class Book(Protocol):
    """A type's judgement that needs what came before (rounds, a payment's lifecycle, a user's registration).

    `judge` reads state and says what is wrong and what the event would change; intake calls `apply`
    with that plan only when the message has no error-severity violation, so a refused event never moves
    state, and a retry is counted once. A book may also have `prefetch(tx, [facts])`, which intake calls
    once a batch, before any judge: it reads the rows the batch's events will ask for in a statement or two
    and keeps them for the transaction (casino's activities and rounds); what it finds must be exactly what
    judge would read one event at a time."""

    def judge(self, tx: State, facts: Facts) -> tuple[list[Violation], Any]: ...
    def apply(self, tx: State, plan: Any) -> None: ...


@dataclass(frozen=True)
class ReadinessItem:
    """A checklist item a type adds: `gather` reads evidence from the store (plain JSON), `judge` turns it
    into (passed, detail) — kept apart so `ftsim verify --url` judges facts a server gathered."""
    id: str
    title: str
    gather: Callable[[Any], dict]
    judge: Callable[[dict], tuple[bool, str]]
    explain: Callable[[dict], str] | None = None  # the failure text a CI log shows (JUnit); default: the detail


@dataclass(frozen=True)
class EventType:
    """One CRM event type.

    keys: payload fields copied beside the message for the query API (`user_id` always is). `ref` names
    the field that identifies the event itself (casino's activity_id): retries and lost deliveries are
    judged by it. rules: stateless rules of this type, run after the ones every type shares."""
    name: str  # the schema file's stem: "casino", "login_v2"
    marker: str  # the RabbitMQ property / Kafka header `type`
    document: dict = field(repr=False, compare=False)  # the schema file, profiles in $defs
    method: str | None = None  # the REST method; None with path None: brokers only
    path: str | None = None
    ref: str | None = None
    keys: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    book: Book | None = None
    rule_info: tuple[RuleInfo, ...] = ()
    readiness: tuple[ReadinessItem, ...] = ()
    views: dict = field(default_factory=dict, compare=False)  # name -> callable(store, args): extra query views
    summary: str = ""
    shape: Callable[[dict], bool] | None = None  # for a marker shared by two shapes: does this payload fit?
    # What makes an event this event and no other (payment: payment_id and status). The same identity with
    # the same payload again is a retry (activity.retry, counted once); with another payload a conflicting
    # duplicate (activity.duplicate). None: the type's book judges duplicates itself (casino) or it has none.
    identity: Callable[[dict], str | None] | None = None
    tables: Tables | None = None  # SQL tables of its own (casino's rounds); most types keep documents
    # Part of the integration guide's basic integration (registrations, logins, payments): the checklist's
    # `integration.basic` item holds when each such type arrived valid.
    basic: bool = False
    # Whose contract it is: "ft" for Fast Track's real-time events (the scenarios' journeys send these);
    # another name for a neighbouring system's format ftsim also checks ("evenbet", seed 002).
    family: str = "ft"
    # Scenario traffic for this type (`ftsim scenario`, Locust, the pytest plugin): `generate(ctx, **want)`
    # returns the payloads one step of a player's journey sends, in order, each valid under the strict
    # profile with "timestamp": None (the sender stamps it when the message leaves). ctx is the player as
    # the scenario engine knows them (user_id, currency, exchange_rate, country, wallet, rng, fake, clock,
    # origin, new_id(kind), meta()); want says what the journey needs (payment: kind="deposit", amount=...).
    # The registry takes it from the folder's scenario.py (`generate`) when the type does not set it; None:
    # scenarios cannot send this type.
    generate: Callable[..., list[dict]] | None = field(default=None, compare=False, repr=False)

    def schema(self, profile: str) -> dict:
        """A self-contained schema for one profile: the file's $defs with that profile as the root."""
        return {"$schema": self.document.get("$schema", "https://json-schema.org/draft/2020-12/schema"),
                "$defs": self.document["$defs"], "$ref": f"#/$defs/{self.profile_def(profile)}"}

    def profile_def(self, profile: str) -> str:
        if profile not in PROFILES:
            raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {profile!r}")
        defs = self.document["$defs"]
        while profile not in defs:
            profile = PROFILE_FALLBACK[profile]
        return profile

    def required(self, profile: str) -> frozenset[str]:
        return frozenset(_required(self.document["$defs"], self.profile_def(profile)))

    @cached_property
    def fields(self) -> frozenset[str]:
        """Every field name any profile defines: the rest are unknown fields."""
        out: set[str] = set()
        for name in PROFILES:
            if name in self.document["$defs"]:
                out |= set(_properties(self.document["$defs"], name))
        return frozenset(out)

    @cached_property
    def _derived(self) -> dict:
        """What is read off the schema once per profile (the rules ask on every message)."""
        return {}

    def format_paths(self, profile: str, fmt: str) -> tuple[tuple[str, ...], ...]:
        """The field paths (top level and nested objects) whose schema under the profile has that format."""
        key = ("format", profile, fmt)
        found = self._derived.get(key)
        if found is None:
            defs = self.document["$defs"]
            found = self._derived[key] = tuple(_format_paths(defs, defs[self.profile_def(profile)], (), fmt))
        return found

    def refuses_empty(self, profile: str, field: str) -> bool:
        """Whether the profile's schema refuses "" for a top-level field (minLength >= 1)."""
        key = ("empty", profile, field)
        found = self._derived.get(key)
        if found is None:
            found = self._derived[key] = any(
                node.get("properties", {}).get(field, {}).get("minLength", 0) >= 1
                for node in _resolve(self.document["$defs"], self.profile_def(profile)))
        return found

    def sources(self, profile: str) -> dict[str, str]:
        """Who demands each field's checks under a profile (`x-sources` in the profile's $defs, the profile's
        own entries over the ones it builds on): field name -> "spec 000", "FT's validator" ...; "*" for
        the rest."""
        out: dict[str, str] = {}
        for node in reversed(_resolve(self.document["$defs"], self.profile_def(profile))):
            out.update(node.get("x-sources", {}))
        return out


def _resolve(defs: dict, name: str) -> list[dict]:
    """The profile's own schema and every $def it pulls in through allOf."""
    node = defs[name]
    out = [node]
    for part in node.get("allOf", ()):
        ref = part.get("$ref", "")
        if ref.startswith("#/$defs/"):
            out += _resolve(defs, ref.rsplit("/", 1)[1])
        else:
            out.append(part)
    return out


def _format_paths(defs: dict, node: dict, at: tuple[str, ...], fmt: str, depth: int = 0):
    if depth > 8 or not isinstance(node, dict):
        return
    if node.get("format") == fmt:
        yield at
    ref = node.get("$ref", "")
    if ref.startswith("#/$defs/"):
        yield from _format_paths(defs, defs.get(ref.rsplit("/", 1)[1], {}), at, fmt, depth + 1)
    for part in node.get("allOf", ()):
        yield from _format_paths(defs, part, at, fmt, depth + 1)
    for name, sub in node.get("properties", {}).items():
        yield from _format_paths(defs, sub, (*at, name), fmt, depth + 1)


def _required(defs: dict, name: str) -> set[str]:
    return {r for node in _resolve(defs, name) for r in node.get("required", ())}


def _properties(defs: dict, name: str) -> set[str]:
    return {p for node in _resolve(defs, name) for p in node.get("properties", {})}
