"""`--profile ft` holds FT's verdicts for USER_CREATE_V2 and LOGIN_V2: the differential test.

The oracle is our own draft-07 schema per type, written from shared/ft-catalog.md (tests/data/ft_oracle/),
evaluated with Python jsonschema's Draft7Validator and a FormatChecker whose `date-time` is what FT's
validator takes (`ft_date_time`). Seeded generators make valid messages and single mutations of them; for
every message ftsim's schema verdict under `--profile ft` (any `schema.*` error, through intake, with either
engine) must equal the oracle's.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from faker import Faker
from jsonschema import Draft7Validator, FormatChecker

from simulator.contract.formats import ft_date_time
from simulator.core.envelope import Envelope
from simulator.runtime import Runtime

ORACLES = Path(__file__).resolve().parents[1] / "data" / "ft_oracle"
MARKERS = {"user_create_v2": "USER_CREATE_V2", "login_v2": "LOGIN_V2"}
SEED = 20260301
VALID_PER_TYPE = 60

# Times FT's validator takes, and ones it refuses (the oracle decides; these only steer the generator).
GOOD_TIMES = ["2026-03-01T08:27:58.721607Z", "2026-03-01T08:27:58Z", "2026-03-01T08:27:58+02:00",
              "2015-03-02T8:27:58.721607Z", "2026-03-01", "2024-02-29", "08:27:58", "8:27:58", "23:59:59Z",
              "08:27:58+01:00", "2026-03-01T08:27:58.123456789-05:30"]
BAD_TIMES = ["", "2026-03-01 08:27:58Z", "2026-03-01T08:27:58", "2026-03-01t08:27:58z", "2026-13-01T00:00:00Z",
             "2026-02-29", "2026-03-01T24:00:00Z", "2026-03-01T23:59:60Z", "1700000000", "2026-3-1",
             "2026-03-01T08:27Z", "08:27", "2026-03-01T08:27:58+2:00", "2026-03-01T08:27:58.Z", "now",
             "2026-03-01T108:27:58Z", "2026-03-01T08:27:58+24:00"]
WRONG_VALUES = [None, 0, 7, 7.0, -1.5, True, False, [], ["x"], {}, {"k": "v"}, "", "true", "1", "12.5"]


def oracle(name: str) -> Draft7Validator:
    schema = json.loads((ORACLES / f"{name}.json").read_text(encoding="utf-8"))
    Draft7Validator.check_schema(schema)
    checker = FormatChecker()
    checker.checks("date-time")(ft_date_time)
    return Draft7Validator(schema, format_checker=checker)


def valid_messages(name: str, fake: Faker, rng: random.Random) -> list[dict]:
    out = []
    for _ in range(VALID_PER_TYPE):
        msg = {"user_id": rng.choice([fake.uuid4(), str(fake.random_int(1, 10**9)), fake.user_name(), "é😀"]),
               "timestamp": rng.choice(GOOD_TIMES + [fake.date_time_this_decade().strftime("%Y-%m-%dT%H:%M:%SZ")]),
               "origin": rng.choice([fake.domain_name(), "", "sub.example.com"])}
        optional = {"ip_address": rng.choice([fake.ipv4(), fake.ipv6(), "not an ip"]),
                    "user_agent": fake.user_agent()}
        if name == "user_create_v2":
            optional["note"] = fake.sentence()
        else:
            optional.update(is_impersonated=fake.pybool(), is_verified=fake.pybool(), skip_publishing=fake.pybool(),
                            meta={"campaign": fake.word()}, user_details={"country": fake.country_code()})
        for key, value in optional.items():
            if rng.random() < 0.6:
                msg[key] = value
        if rng.random() < 0.2:
            msg["country"] = fake.country_code()  # a field FT does not define: passes both
        out.append(msg)
    return out


def mutations(msg: dict, fields: list[str], required: list[str], rng: random.Random):
    """Single changes of one valid message: each required field dropped, each field given each wrong kind
    of value, the timestamp made good-but-lax or bad."""
    for name in required:
        yield {k: v for k, v in msg.items() if k != name}
    for name in fields:
        for value in rng.sample(WRONG_VALUES, 6):
            yield {**msg, name: value}
    for value in rng.sample(BAD_TIMES, 5) + rng.sample(GOOD_TIMES, 2):
        yield {**msg, "timestamp": value}


def corpus(name: str) -> list[dict]:
    fake = Faker()
    fake.seed_instance(SEED)
    rng = random.Random(SEED)
    schema = json.loads((ORACLES / f"{name}.json").read_text(encoding="utf-8"))
    fields, required = sorted(schema["properties"]), schema["required"]
    out = []
    for msg in valid_messages(name, fake, rng):
        out.append(msg)
        out += mutations(msg, fields, required, rng)
    return out


@pytest.mark.parametrize("engine", ["rust", "python"])
@pytest.mark.parametrize("name", sorted(MARKERS))
def test_ft_profile_schema_verdicts_equal_the_oracle(name, engine, make_settings):
    messages = corpus(name)
    judge = oracle(name)
    runtime = Runtime(make_settings(profile="ft", engine=engine))
    try:
        verdicts = runtime.intake.judge([Envelope("rest", json.dumps(m).encode(), MARKERS[name]) for m in messages])
    finally:
        runtime.close()
    expected = [judge.is_valid(m) for m in messages]
    got = [not any(v.rule.startswith("schema.") for v in verdict.violations) for verdict in verdicts]
    differ = [(m, e) for m, e, g in zip(messages, expected, got) if e != g]
    assert not differ, f"{len(differ)} of {len(messages)} differ, e.g. {differ[:3]}"
    # The corpus is worth something: hundreds of messages, both verdicts well represented.
    assert len(messages) >= 500 and 0.1 < sum(expected) / len(expected) < 0.9


def test_the_oracle_takes_what_ft_takes_and_refuses_what_it_refuses():
    """The oracle itself, on the catalog's own examples: the docs' one-digit hour, a bare date, unknown fields."""
    login = oracle("login_v2")
    assert login.is_valid({"user_id": "1", "timestamp": "2015-03-02T8:27:58.721607Z", "origin": "", "x": 1})
    assert login.is_valid({"user_id": "1", "timestamp": "2026-03-01", "origin": "o", "ip_address": "nope"})
    assert not login.is_valid({"user_id": "", "timestamp": "2026-03-01", "origin": "o"})
    assert not login.is_valid({"user_id": "1", "timestamp": "2026-03-01 08:00:00Z", "origin": "o"})
    assert not oracle("user_create_v2").is_valid({"user_id": "1", "timestamp": "2026-03-01", "origin": None})
