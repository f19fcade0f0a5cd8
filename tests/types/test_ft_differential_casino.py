"""Differential: ftsim's `ft` profile gives FT's validator's schema verdict on every casino message.

The oracle (tests/data/ft_oracle/casino.json) is a draft-07 schema of our own, written from the catalog's
casino facts, evaluated by Python's jsonschema Draft7Validator with FT's reading of `date-time`
(simulator.contract.formats.ft_date_time). A seeded generator builds valid events and single mutations
of them; for each, "ftsim's ft profile has a schema.* error" must equal "the oracle refuses it", for both
engines. The one place ftsim refuses what FT's validator takes is an empty activity_id: not a schema
verdict under `ft` but the shared rule activity.empty_id, accounted for explicitly below.
"""
from __future__ import annotations

import copy
import json
import random
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from jsonschema import Draft7Validator, FormatChecker

from simulator.contract import rules
from simulator.contract.formats import ft_date_time
from simulator.contract.plugin import Facts
from simulator.contract.registry import load_registry
from simulator.contract.validate import make_validator
from simulator.core.timefmt import parse_rfc3339

CASINO = load_registry().types["casino"]
ORACLE_SCHEMA = json.loads((Path(__file__).parents[1] / "data/ft_oracle/casino.json").read_text())
REQUIRED = ORACLE_SCHEMA["required"]
OPTIONAL = sorted(set(ORACLE_SCHEMA["properties"]) - set(REQUIRED))
STRINGS = ["activity_id", "currency", "game_name", "origin", "round_id", "user_id", "game_type", "vendor_name",
           "status", "type", "timestamp", "game_id", "vendor_id"]
NUMBERS = ["amount", "exchange_rate", "balance_after", "balance_before", "wager_amount", "bonus_wager_amount",
           "locked_wager_amount"]
BOOLEANS = ["is_round_end", "is_free_money", "skip_publishing"]
RFC3339_STAMPS = ["2015-03-02T08:27:58.721607Z", "2015-03-02T08:27:58Z", "2015-03-02T08:27:58+01:00",
                  "2015-03-02T08:27:58.123456789-05:30", "2024-02-29T23:59:59Z"]
LAX_STAMPS = ["2015-03-02T8:27:58.721607Z", "2015-03-02T8:27:58.10Z", "2015-03-02", "08:27:58", "8:27:58",
              "08:27:58Z", "08:27:58.5+02:00", "2015-03-02T0:00:00Z"]
BAD_STAMPS = ["2015-03-02t08:27:58Z", "2015-03-02T08:27:58z", "2015-03-02 08:27:58Z", "2015-03-02T08:27:58",
              "2015-02-30T08:27:58Z", "2015-03-02T24:00:00Z", "2016-12-31T23:59:60Z", "1425284878", "",
              "yesterday", "2015-03-02T08:27:58.Z", "2015-3-2T08:27:58Z", "2015-03-02T08:27:58+25:00", "24:00:00",
              "2015-13-01", "2015-03-02T108:27:58Z"]


def oracle() -> Draft7Validator:
    checker = FormatChecker(formats=())
    checker.checks("date-time")(ft_date_time)
    return Draft7Validator(ORACLE_SCHEMA, format_checker=checker)


def valid_event(rng: random.Random) -> dict:
    """A message FT's validator takes, varying what its facts leave open."""
    n = rng.randrange(10 ** 6)
    amount = rng.choice([0, 20, 20.5, 1e6])
    event = {"activity_id": rng.choice([f"act-{n}", "2019020103308257480", "x"]), "amount": amount,
             "currency": rng.choice(["EUR", "SEK", "eur", "EURO", "BTC", "", "XXX"]),
             "exchange_rate": rng.choice([1, 0.1, 0, 11.25]),
             "game_id": rng.choice(["10911", 10911, 7.0, 7.5, "", -3]),
             "game_name": rng.choice(["Dead or Alive", "x"]), "is_round_end": rng.choice([True, False]),
             "origin": rng.choice(["sub.example.com", "b"]), "round_id": rng.choice([f"round-{n}", "r"]),
             "status": rng.choice(["Approved", "Rollback"]),
             "timestamp": rng.choice(RFC3339_STAMPS + LAX_STAMPS), "type": rng.choice(["Bet", "Win"]),
             "user_id": rng.choice(["52530", "u"]), "vendor_id": rng.choice(["1", 1, 1.5, "", -2, 0])}
    for name in OPTIONAL:
        if rng.random() < 0.6:
            event[name] = {
                "balance_after": rng.choice([174.03, -5, 0]), "balance_before": rng.choice([194.03, -1]),
                "wager_amount": rng.choice([20, 0, -20]), "bonus_wager_amount": rng.choice([0, 5.5]),
                "locked_wager_amount": rng.choice([0, 1]), "game_type": rng.choice(["Slots", ""]),
                "vendor_name": rng.choice(["Netent", ""]), "is_free_money": rng.choice([True, False]),
                "skip_publishing": rng.choice([True, False]),
                "meta": rng.choice([None, {}, {"key1": "value1"}, {"n": [1, {"x": None}]}])}[name]
    if rng.random() < 0.2:
        event["some_extension"] = rng.choice([1, "x", None])  # unknown fields pass FT's validator
    return event


WRONG_TYPES = ["x", 1, 1.5, True, None, [], {}, [1], {"a": 1}]


def mutations(event: dict, rng: random.Random):
    """Single mutations of a valid event, each with its kind (for the failure report)."""
    for name in REQUIRED + OPTIONAL:
        if name in event:
            yield f"drop {name}", {k: v for k, v in event.items() if k != name}
    for name in REQUIRED + OPTIONAL:
        for value in rng.sample(WRONG_TYPES, 3):
            yield f"{name}={value!r}", {**event, name: copy.deepcopy(value)}
    for name in STRINGS:
        yield f"{name} empty", {**event, name: ""}
    for name in ("activity_id", "user_id", "round_id", "game_id", "vendor_id", "origin", "game_name", "currency"):
        yield f"{name} number", {**event, name: rng.choice([52530, 7.0, 0, -1, 1.5])}
    for name in NUMBERS:
        yield f"{name} negative", {**event, name: rng.choice([-1, -0.01, -1e9])}
        yield f"{name} zero", {**event, name: 0}
        yield f"{name} quoted", {**event, name: "20"}
    for name, values in (("status", ["approved", "Cancelled", "", "Approved "]), ("type", ["bet", "Deposit", "WIN"])):
        for value in values:
            yield f"{name}={value!r}", {**event, name: value}
    for value in rng.sample(BAD_STAMPS, 4) + rng.sample(LAX_STAMPS, 2) + rng.sample(RFC3339_STAMPS, 1):
        yield f"timestamp={value!r}", {**event, "timestamp": value}
    yield "meta null", {**event, "meta": None}
    yield "skip_publishing string", {**event, "skip_publishing": "true"}
    yield "is_free_money number", {**event, "is_free_money": 0}
    yield "exchange_rate zero", {**event, "exchange_rate": 0}


def corpus(seed=20261203, valid=25) -> list[tuple[str, dict]]:
    rng = random.Random(seed)
    out = []
    for i in range(valid):
        event = valid_event(rng)
        out.append((f"valid #{i}", event))
        out += [(f"#{i} {kind}", m) for kind, m in mutations(event, rng)]
    return out


CORPUS = corpus()
ORACLE = oracle()


def test_the_corpus_is_large_and_exercises_both_verdicts():
    """Several thousand messages, hundreds on each side of FT's verdict."""
    refused = sum(not ORACLE.is_valid(m) for _, m in CORPUS)
    assert len(CORPUS) >= 2000 and 500 <= refused <= len(CORPUS) - 500


def test_every_generated_valid_event_passes_the_oracle():
    bad = [kind for kind, m in CORPUS if kind.startswith("valid") and not ORACLE.is_valid(m)]
    assert bad == []


@pytest.mark.parametrize("engine", ["rust", "python"])
def test_ft_profile_schema_verdict_equals_the_oracle_on_every_message(engine):
    ftsim, fact = make_validator(CASINO, "ft", engine), ORACLE
    disagree = []
    for kind, message in CORPUS:
        refused_by_ftsim = any(v.rule.startswith("schema.") for v in ftsim.violations(message))
        refused_by_ft = not fact.is_valid(message)
        if refused_by_ftsim != refused_by_ft:
            disagree.append((kind, refused_by_ftsim, refused_by_ft))
    assert disagree == []


def test_the_comparison_has_teeth_strict_disagrees_with_the_oracle():
    """The same comparison against `strict`, from an event both take, finds the documented differences
    (exchange_rate 0, negative wager_amount, lax timestamps, numeric game_id) and not the fixed ones."""
    strict = make_validator(CASINO, "strict")
    base = {"activity_id": "a1", "amount": 20, "currency": "EUR", "exchange_rate": 1, "game_id": "10911",
            "game_name": "Dead or Alive", "is_round_end": False, "origin": "b.com", "round_id": "r1",
            "status": "Approved", "timestamp": "2015-03-02T08:27:58Z", "type": "Bet", "user_id": "u1",
            "vendor_id": "1", "meta": {}}
    assert not strict.violations(base) and ORACLE.is_valid(base)
    kinds = {kind for kind, m in mutations(base, random.Random(1))
             if any(v.rule.startswith("schema.") for v in strict.violations(m)) != (not ORACLE.is_valid(m))}
    assert {"exchange_rate zero", "wager_amount negative", "game_id number"} <= kinds
    assert any(k.startswith("timestamp=") for k in kinds)
    assert not {"meta null", "game_name empty", "skip_publishing string", "is_free_money number"} & kinds


def _rule_ids(message: dict, profile: str = "ft") -> set[str]:
    facts = Facts(message, CASINO, datetime.now(timezone.utc), parse_rfc3339(message.get("timestamp")), 1e9,
                  Decimal("0.01"), profile)
    return {v.rule for v in rules.check(facts)}


def test_the_one_deliberate_difference_is_an_empty_activity_id_refused_by_a_rule_not_the_schema():
    """FT's validator takes activity_id "", so the ft schema does too; activity.empty_id refuses it, and
    fires on no other message of the corpus."""
    ftsim = make_validator(CASINO, "ft")
    empty = [(k, m) for k, m in CORPUS if m.get("activity_id") == ""]
    assert len(empty) >= 20
    for kind, message in CORPUS:
        fired = "activity.empty_id" in _rule_ids(message)
        assert fired is (message.get("activity_id") == ""), kind
    for kind, message in empty:
        schema_rules = {v.rule for v in ftsim.violations(message)}
        assert "schema.minLength" not in schema_rules, kind
        assert ORACLE.is_valid(message) is not any(r.startswith("schema.") for r in schema_rules), kind


def test_timestamp_lax_fires_exactly_on_values_ft_takes_that_rfc3339_does_not():
    seen = 0
    for kind, message in CORPUS:
        stamp = message.get("timestamp")
        lax = isinstance(stamp, str) and ft_date_time(stamp) and parse_rfc3339(stamp) is None
        seen += lax
        assert ("timestamp.lax" in _rule_ids(message)) is lax, kind
    assert seen >= 100


def test_both_engines_word_every_ft_violation_alike():
    rust, python = make_validator(CASINO, "ft", "rust"), make_validator(CASINO, "ft", "python")
    differ = [kind for kind, m in CORPUS
              if sorted((v.rule, v.path, v.message, v.source) for v in rust.violations(m))
              != sorted((v.rule, v.path, v.message, v.source) for v in python.violations(m))]
    assert differ == []
