"""PAYMENT under --profile ft gives FT's validator's schema verdict on every message.

The oracle is our own draft-07 writing of the catalog's facts (tests/data/ft_oracle/payment.json), judged by
Python jsonschema's Draft7Validator with `date-time` read as FT's Go validator reads it. The corpus: seeded
valid payments in every shape FT takes, and single mutations of them (each required field dropped, each
field null or of a wrong type, empty strings, values outside the enums, lax and broken date-times, ids as
numbers and strings, negative numbers, unknown fields). ftsim's verdict is "any schema.* error or none",
read from intake's answer (a runtime on --profile ft) and from both schema engines directly.
"""
from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import pytest
from jsonschema import Draft7Validator, FormatChecker

from simulator.contract.formats import ft_date_time
from simulator.contract.validate import make_validator
from simulator.core.envelope import Envelope
from simulator.runtime import Runtime
from simulator.types.payment import TYPE

ORACLE = json.loads((Path(__file__).parents[1] / "data" / "ft_oracle" / "payment.json").read_text())
SEED = 20260
BASES = 24

REQUIRED = ("amount", "currency", "origin", "payment_id", "status", "timestamp", "type", "user_id", "vendor_id")
STATUSES = ("Approved", "Cancelled", "Rejected", "Requested", "Rollback")
TYPES = ("Authorization", "Capture", "Credit", "Debit", "Void")
NUMBERS = ("amount", "deposit_count", "exchange_rate", "fee_amount", "withdraw_count")
STRINGS = ("bonus_code", "currency", "note", "origin", "user_id", "vendor_name")
# Date-times FT's validator takes: RFC 3339 with and without a fraction or offset, nanoseconds, the docs'
# one-digit hour, a bare date, a bare time with and without a zone.
GOOD_TIMES = ("2026-12-03T07:27:58Z", "2026-12-03T07:27:58.721607Z", "2026-12-03T07:27:58.123456789+02:00",
              "2015-03-02T8:27:58.721607Z", "2015-03-02", "08:27:58", "8:27:58Z", "23:59:59-05:30",
              "2024-02-29T00:00:00Z", "2026-12-03T07:27:58.1-00:00")
BAD_TIMES = ("2026-12-03 07:27:58Z", "2026-12-03T07:27:58", "2026-12-03t07:27:58z", "2026-13-03T07:27:58Z",
             "2025-02-29", "24:00:00", "2026-12-03T07:27:60Z", "1764746878", "2026-12-03T07:27:58+0100",
             "2026-12-03T07:7:58Z", "", "now", "2026-12-03T07:27:58.Z", "2026-12-03T007:27:58Z",
             "2026-12-03T07:27:58+24:00", "03/12/2026")
WRONG_TYPES = (None, True, False, [], {}, "10", 10, 10.5, -3, [1], {"a": 1})


def oracle_verdict() -> "callable":
    checker = FormatChecker()
    checker.checks("date-time")(ft_date_time)
    validator = Draft7Validator(ORACLE, format_checker=checker)
    return validator.is_valid


def valid_payments(rng: random.Random):
    """Seeded payments FT's validator takes, in every shape its facts allow."""
    for n in range(BASES):
        event = {
            "amount": rng.choice([0, 1, 10.5, 99999.99, 0.01, 250]),
            "currency": rng.choice(["EUR", "SEK", "eur", "BTC", "", "EURO"]),
            "origin": rng.choice(["sub.example.com", "x", "www.brand.com"]),
            "payment_id": rng.choice([f"pay-{n}", n, n + 0.5, "", -n - 1, f"{n:06d}"]),
            "status": rng.choice(STATUSES),
            "timestamp": rng.choice(GOOD_TIMES),
            "type": rng.choice(TYPES),
            "user_id": rng.choice(["52530", "u", "user-7"]),
            "vendor_id": rng.choice([562, "562", 0, 0.5, "", "-1", "Skrill"]),
        }
        for name, values in (("vendor_name", ["Skrill", ""]), ("bonus_code", ["XMAS", ""]),
                             ("note", ["a note", ""]), ("deposit_count", [0, 3, 2.5]),
                             ("withdraw_count", [0, 1]), ("exchange_rate", [0, 1, 0.1]),
                             ("fee_amount", [0, 2.5]), ("meta", [{}, {"k": "v"}]),
                             ("skip_publishing", [True, False])):
            if rng.random() < 0.5:
                event[name] = rng.choice(values)
        yield event


def mutations(event: dict):
    """(what, message) for each single mutation of a valid payment."""
    for name in REQUIRED:
        yield f"drop {name}", {k: v for k, v in event.items() if k != name}
    for name in sorted(ORACLE["properties"]):
        for value in WRONG_TYPES:
            yield f"{name}={value!r}", {**event, name: copy.deepcopy(value)}
    for name in STRINGS:
        yield f"{name} empty", {**event, name: ""}
    for name, values in (("status", ["approved", "Pending", "Rolled back", "", "APPROVED"]),
                         ("type", ["Deposit", "Withdrawal", "credit", "", "Refund"])):
        for value in values:
            yield f"{name}={value!r}", {**event, name: value}
    for value in BAD_TIMES + GOOD_TIMES:
        yield f"timestamp={value!r}", {**event, "timestamp": value}
    for value in (-1, -0.5, 0, 7, 1.5, 1e20, "abc", "", "-1", "7"):
        yield f"vendor_id={value!r}", {**event, "vendor_id": value}
        yield f"payment_id={value!r}", {**event, "payment_id": value}
    for name in NUMBERS:
        for value in (-1, -0.01, -1e9):
            yield f"{name}={value!r}", {**event, name: value}
    yield "unknown field", {**event, "channel": "web", "amount_eur": -5}
    yield "meta null", {**event, "meta": None}


def corpus() -> list[tuple[str, dict]]:
    rng = random.Random(SEED)
    out = []
    for n, event in enumerate(valid_payments(rng)):
        out.append((f"valid #{n}", event))
        out += [(f"#{n} {what}", m) for what, m in mutations(event)]
    return out


CORPUS = corpus()
is_valid_for_ft = oracle_verdict()


def test_the_corpus_is_large_and_the_oracle_takes_every_base_and_refuses_many_mutations():
    verdicts = [is_valid_for_ft(m) for _, m in CORPUS]
    assert len(CORPUS) > 2000
    assert all(is_valid_for_ft(m) for what, m in CORPUS if what.startswith("valid"))
    assert 0.3 < verdicts.count(False) / len(verdicts) < 0.9


@pytest.mark.parametrize("engine", ["rust", "python"])
def test_each_schema_engine_under_ft_gives_the_oracle_verdict(engine):
    validator = make_validator(TYPE, "ft", engine)
    differ = [(what, m) for what, m in CORPUS
              if is_valid_for_ft(m) != (not any(v.rule.startswith("schema.") for v in validator.violations(m)))]
    assert differ == []


def test_intake_on_profile_ft_gives_the_oracle_verdict_for_every_message(make_settings):
    runtime = Runtime(make_settings(profile="ft"))
    try:
        verdicts = []
        for start in range(0, len(CORPUS), 256):
            chunk = CORPUS[start:start + 256]
            verdicts += runtime.intake.judge(
                [Envelope("rest", json.dumps(m).encode(), "PAYMENT", type_name="payment") for _, m in chunk])
    finally:
        runtime.close()
    differ = [(what, [v.rule for v in verdict.violations])
              for (what, m), verdict in zip(CORPUS, verdicts)
              if is_valid_for_ft(m) != (not any(v.rule.startswith("schema.") and v.severity == "error"
                                               for v in verdict.violations))]
    assert differ == []


def test_strict_disagrees_with_the_oracle_somewhere():
    """The profiles differ on purpose: the same corpus under strict does not match FT (a test that the
    differential test could fail)."""
    strict = make_validator(TYPE, "strict")
    assert any(is_valid_for_ft(m) != (not strict.violations(m)) for _, m in CORPUS)
