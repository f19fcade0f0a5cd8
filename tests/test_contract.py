"""The casino contract: what each profile requires, how each schema problem is reported, and that the
fast engine (jsonschema-rs) gives the same verdicts as the reference (jsonschema)."""
import json
import random
from pathlib import Path

import pytest

from simulator.contract.registry import load_registry
from simulator.contract.validate import make_validator

from tests.conftest import casino_event

CASINO = load_registry().types["casino"]
SPEC_EXAMPLES = [json.loads(line) for line in (Path(__file__).parent / "data/spec_examples.jsonl").open()]
BOTH_REQUIRE = {"activity_id", "currency", "exchange_rate", "game_id", "origin", "timestamp", "type", "user_id",
                "vendor_id"}
ONLY_000_REQUIRES = {"amount", "game_name", "is_round_end", "round_id", "status"}


def problems(payload, profile="strict", engine="rust"):
    return {(v.rule, v.path) for v in make_validator(CASINO, profile, engine).violations(payload)}


def test_casino_is_registered_by_marker_and_rest_path():
    registry = load_registry()
    assert registry.routes["/v1/integration/casino"] == {"POST": CASINO}
    assert registry.for_marker("CASINO") is CASINO
    assert CASINO.marker == "CASINO"


def test_a_complete_event_passes_both_profiles():
    assert problems(casino_event()) == set()
    assert problems(casino_event(), "lenient") == set()


@pytest.mark.parametrize("field", sorted(BOTH_REQUIRE))
def test_fields_both_versions_require_are_required_in_both_profiles(field):
    event = casino_event(**{field: None})
    assert problems(event) == {("schema.required", f"/{field}")}
    assert problems(event, "lenient") == {("schema.required", f"/{field}")}


@pytest.mark.parametrize("field", sorted(ONLY_000_REQUIRES))
def test_fields_only_spec_000_requires_are_required_only_in_strict(field):
    event = casino_event(**{field: None})
    assert problems(event) == {("schema.required", f"/{field}")}
    assert problems(event, "lenient") == set()


def test_strict_takes_the_tighter_vendor_id_type_lenient_takes_both():
    assert problems(casino_event(vendor_id=1)) == {("schema.type", "/vendor_id")}
    assert problems(casino_event(vendor_id=1), "lenient") == set()
    assert problems(casino_event(vendor_id=1.5), "lenient") == {("schema.type", "/vendor_id")}


@pytest.mark.parametrize("stamp,ok", [
    ("2015-03-02T08:27:58.721607Z", True), ("2015-03-02T08:27:58Z", True), ("2015-03-02T08:27:58+01:00", True),
    ("2015-03-02T08:27:58.123456789Z", True), ("2015-03-02t08:27:58z", True),
    ("2015-03-02T8:27:58.721607Z", False),  # spec 000's own example: one-digit hour
    ("2015-03-02T8:27:58.10Z", False),  # spec 001's own example
    ("2015-03-02 08:27:58Z", False), ("2015-03-02T08:27:58", False), ("2015-02-30T08:27:58Z", False),
    ("2015-03-02T08:27:58.Z", False), ("1425284878", False), ("2015-03-02T24:00:00Z", False),
])
def test_timestamps_are_checked_as_rfc3339(stamp, ok):
    assert (problems(casino_event(timestamp=stamp)) == set()) is ok


@pytest.mark.parametrize("code,ok", [("EUR", True), ("SEK", True), ("JPY", True), ("EURO", False),
                                     ("eur", False), ("XXX", False), ("BTC", False), ("", False)])
def test_currency_must_be_an_iso_4217_code(code, ok):
    assert (problems(casino_event(currency=code)) == set()) is ok


@pytest.mark.parametrize("field,value,rule", [
    ("amount", "20", "schema.type"), ("amount", -1, "schema.minimum"), ("wager_amount", -0.01, "schema.minimum"),
    ("exchange_rate", 0, "schema.exclusiveMinimum"), ("is_round_end", "false", "schema.type"),
    ("type", "bet", "schema.enum"), ("status", "Cancelled", "schema.enum"), ("user_id", 52530, "schema.type"),
    ("activity_id", "", "schema.minLength"), ("meta", "x", "schema.type"), ("game_id", None, "schema.required"),
])
def test_each_schema_keyword_gives_its_rule_id_and_pointer(field, value, rule):
    assert problems(casino_event(**{field: value})) == {(rule, f"/{field}")}


def test_every_problem_is_reported_at_once():
    bad = casino_event(amount="x", currency="EURO", type="Deposit", timestamp="yesterday", user_id=None)
    assert problems(bad) == {("schema.type", "/amount"), ("schema.enum", "/currency"), ("schema.enum", "/type"),
                             ("schema.format", "/timestamp"), ("schema.required", "/user_id")}


@pytest.mark.parametrize("overrides,words", [
    ({"timestamp": "2015-03-02T8:27:58.721607Z"},
     ["timestamp", "RFC 3339", "2015-03-02T8:27:58.721607Z", "two digits"]),
    ({"vendor_id": 1}, ["vendor_id", "expected a string", "got integer 1", '"1"']),
    ({"amount": "20"}, ["amount", "expected a number", 'got string "20"', "unquoted"]),
    ({"currency": "EURO"}, ["currency", "ISO 4217", '"EURO"', "did you mean EUR"]),
    ({"type": "bet"}, ["type", '"Bet", "Win"', '"bet"', "case-sensitive"]),
    ({"round_id": None}, ["round_id", "missing", "spec 000", "lenient"]),
    ({"amount": -5}, ["amount", ">= 0", "-5"]),
])
def test_messages_say_what_was_expected_what_arrived_and_where(overrides, words):
    [violation] = make_validator(CASINO, "strict").violations(casino_event(**overrides))
    for word in words:
        assert word in violation.message


def mutations(rng: random.Random, base: dict):
    """Generated messages: one to three random breakages of a valid event."""
    values = [None, "", "x", 0, -1, 1.5, True, [], {}, "2015-03-02T8:27:58Z", "EURO", "Bet", "2024-01-01T00:00:00Z"]
    keys = sorted(base)
    for _ in range(400):
        event = dict(base)
        for _ in range(rng.randint(1, 3)):
            key = rng.choice(keys + ["extra_field"])
            value = rng.choice(values)
            if value is None:
                event.pop(key, None)
            else:
                event[key] = value
        yield event


@pytest.mark.parametrize("profile", ["strict", "lenient"])
def test_rust_engine_agrees_with_the_reference_engine(profile):
    rust, python = make_validator(CASINO, profile, "rust"), make_validator(CASINO, profile, "python")
    corpus = SPEC_EXAMPLES + [casino_event()] + list(mutations(random.Random(7), casino_event()))
    disagreements = []
    for event in corpus:
        a = [(v.rule, v.path, v.message) for v in rust.violations(event)]
        b = [(v.rule, v.path, v.message) for v in python.violations(event)]
        if sorted(a) != sorted(b):
            disagreements.append((event, a, b))
    assert disagreements == []


def test_engines_differ_only_on_leap_seconds_which_rfc3339_allows():
    leap = casino_event(timestamp="2016-12-31T23:59:60Z")
    assert problems(leap, engine="rust") == set()
    assert problems(leap, engine="python") == {("schema.format", "/timestamp")}
