"""Hostile and odd bodies: each gets a stored, specific verdict, costs little, and never stops what follows."""
import json
import logging
import threading
from decimal import Decimal

import pytest

from simulator.contract import rules
from simulator.contract.parse import MAX_DEPTH, canonical, digest, parse, parse_canonical
from simulator.core.envelope import Envelope
from simulator.core.money import to_money
from simulator.core.violations import Violation, capped

from tests.conftest import Client, casino_event

BRACKETS = b"[" * 10000 + b"]" * 10000


def nested(levels: int):
    """An object `levels` deep counted from itself: nested(1) is {}."""
    inner: dict = {}
    for _ in range(levels - 1):
        inner = {"a": inner}
    return inner


def rules_of(verdict) -> list:
    return [v.rule for v in verdict.violations]


def body_with(raw_event: dict, old: str, new: str) -> bytes:
    text = json.dumps(raw_event)
    assert old in text
    return text.replace(old, new, 1).encode()


# -- nesting ------------------------------------------------------------------------------------------

def test_ten_thousand_brackets_get_a_json_parse_verdict(judge):
    verdict = judge(BRACKETS)
    [v] = verdict.violations
    assert v.rule == "json.parse" and f"nested deeper than {MAX_DEPTH} levels" in v.message
    assert v.path == "/0" * MAX_DEPTH and verdict.id is not None and not verdict.valid


def test_a_valid_event_with_a_field_nested_300_deep_gets_a_json_parse_verdict_at_its_path(judge):
    verdict = judge(casino_event(meta=nested(300)))
    [v] = verdict.violations
    assert v.rule == "json.parse" and "nested deeper than 64 levels" in v.message
    assert v.path == "/meta" + "/a" * (MAX_DEPTH - 1)  # the container at level 65 (body 1, meta 2)


def test_the_depth_limit_is_exactly_max_depth(judge):
    assert judge(casino_event(meta=nested(MAX_DEPTH - 1))).valid  # body + meta: 64 levels
    assert rules_of(judge(casino_event(meta=nested(MAX_DEPTH)))) == ["json.parse"]


def test_a_deep_body_that_is_also_broken_is_worded_without_recursing(judge):
    [v] = judge(b"[" * 5000 + b"oops").violations
    assert v.rule == "json.parse" and "nested deeper" in v.message


# -- numbers ------------------------------------------------------------------------------------------

def test_a_number_beyond_a_double_is_a_value_problem_at_its_path(judge):
    [v] = judge(body_with(casino_event(), '"amount": 20.0', '"amount": 1e400')).violations
    assert v.rule == "json.number" and v.path == "/amount"
    assert v.message.startswith("amount: 1e400 is beyond what a JSON number can carry here (double precision")
    assert "not JSON" not in v.message and "Python" not in v.message


def test_a_number_with_100000_digits_is_too_long_at_its_path(judge):
    [v] = judge(body_with(casino_event(), '"amount": 20.0', '"amount": ' + "1" * 100_000)).violations
    assert v.rule == "json.number" and v.path == "/amount"
    assert "a number with 100000 digits: too long" in v.message and "4300" in v.message


def test_an_integer_above_2_64_is_judged_exactly(judge):
    big = 2 ** 64 + 1  # 18446744073709551617: a double reads it as 18446744073709551616
    event = casino_event(wager_amount=0, bonus_wager_amount=0, locked_wager_amount=0)
    off_by_one = body_with(event, '"amount": 20.0', f'"amount": {big}').replace(
        b'"wager_amount": 0', f'"wager_amount": {big - 1}'.encode())
    [v] = judge(off_by_one).violations
    assert v.rule == "amount.sum" and f"got {big}" in v.message and "differs by 1," in v.message
    exact = body_with(event, '"amount": 20.0', f'"amount": {big}').replace(
        b'"wager_amount": 0', f'"wager_amount": {big}'.encode())
    assert judge(exact).valid


def test_a_long_decimal_is_kept_exact_and_short_ones_stay_floats():
    payload, problems = parse(b'{"a": 0.1000000000000000055, "b": 20.55, "c": 9223372036854775807}')
    assert problems == [] and str(to_money(payload["a"])) == "0.1000000000000000055"
    assert type(payload["b"]) is float and to_money(payload["b"]) == to_money(20.55)
    assert payload["c"] == 2 ** 63 - 1


def test_long_digit_runs_inside_strings_keep_the_fast_path(monkeypatch):
    import simulator.contract.parse as parsing

    def no_slow(*args, **kwargs):
        raise AssertionError("the stdlib parser ran")

    monkeypatch.setattr(parsing, "_slow", no_slow)
    raw = b'{"activity_id": "1733232073123456789", "ids": ["12345678901234567890123456789012"], "amount": 20.5}'
    payload, problems = parse(raw)
    assert problems == [] and payload["activity_id"] == "1733232073123456789" and payload["amount"] == 20.5


@pytest.mark.parametrize("raw", [
    b'{"id": "1733232073123456789", "a": 0.1000000000000000055}',  # a long string beside a long number
    b'{"id": "123456789012345\\u0036", "a": 0.1000000000000000055}',  # an escaped digit makes a run of 16
    b'{"id": "123456789012345\\u002e", "a": 0.1000000000000000055}',  # and an escaped dot
])
def test_a_long_number_is_kept_exact_whatever_strings_stand_beside_it(raw):
    payload, problems = parse(raw)
    assert problems == [] and str(to_money(payload["a"])) == "0.1000000000000000055"


# -- duplicate keys -----------------------------------------------------------------------------------

def test_a_duplicate_key_is_a_warning_that_says_the_last_value_is_taken(judge):
    verdict = judge(body_with(casino_event(), '"amount": 20.0', '"amount": 20.0, "amount": 25.0'))
    dup = [v for v in verdict.violations if v.rule == "json.duplicate_key"]
    assert len(dup) == 1 and dup[0].path == "/amount" and dup[0].severity == "warning"
    assert "25.0, is taken" in dup[0].message and "last" in dup[0].message
    assert "amount.sum" in rules_of(verdict)  # the last value is the one judged


@pytest.mark.parametrize("raw,path", [
    (b'{"a" :1, "a" :2}', "/a"),  # a space before the colon
    (b'{"m": {"k": 1,\n"k"\n: 2}}', "/m/k"),  # nested, with new lines
    (b'{"m": [{"x": ":"}, {"k": 1, "k": 2}]}', "/m/1/k"),
    (b'{"s": "\\u003a", "s": 1}', "/s"),  # an escaped colon
])
def test_duplicate_keys_are_found_however_they_are_written(raw, path):
    payload, problems = parse(raw)
    assert payload is not None and [(v.rule, v.path) for v in problems] == [("json.duplicate_key", path)]


def test_repeated_keys_in_many_objects_list_five_and_count_the_rest():
    raw = json.dumps({"a": [{"k": 1} for _ in range(20)]}).replace('{"k": 1}', '{"k": 0, "k": 1}').encode()
    payload, problems = parse(raw)
    assert payload == {"a": [{"k": 1}] * 20}
    assert [v.path for v in problems[:5]] == [f"/a/{i}/k" for i in range(5)]
    assert len(problems) == 6 and "15 more keys" in problems[-1].message


def test_a_bad_number_deep_in_lists_is_named_by_its_path(judge):
    [v] = judge(body_with(casino_event(meta={"x": [1, [2, 3]]}), "[2, 3]", "[2, 1e999]")).violations
    assert v.rule == "json.number" and v.path == "/meta/x/1/1" and "1e999 is beyond" in v.message


def test_strings_full_of_colons_are_no_duplicates():
    assert parse(b'{"a": "::", "b": {"c": ":\\":"}}') == ({"a": "::", "b": {"c": ':":'}}, [])


@pytest.mark.parametrize("raw", [b'{"b": 1, "a": {"d": [2.5, "x:y"], "c": null}}',
                                 json.dumps(casino_event()).encode()])
def test_the_bytes_parsing_wrote_are_the_canonical_ones_the_digest_is_taken_of(raw):
    """A retry is known by the digest of canonical(); parsing hands over the bytes it wrote to count keys,
    so they must be those bytes, or a retry parsed here would look like a conflicting duplicate."""
    payload, problems, written = parse_canonical(raw)
    assert problems == [] and written == canonical(payload)


def test_a_payload_the_slow_way_kept_exact_has_a_digest_too():
    """Every book's retry check hashes through parse.digest: a long number kept as Decimal is written as its
    text (orjson alone refuses a Decimal, which made a player or wager event with one an internal error)."""
    payload, problems, written = parse_canonical(b'{"user_id": "u1", "n": 1.00000000000000000001}')
    assert problems == [] and written is None and isinstance(payload["n"], Decimal)
    beyond_float = parse_canonical(b'{"user_id": "u1", "n": 1.00000000000000000002}')[0]
    assert digest(payload) != digest(beyond_float)  # kept exact: a float would make these one payload
    assert digest(payload) == digest(parse_canonical(b'{"n": 1.00000000000000000001, "user_id": "u1"}')[0])


@pytest.mark.parametrize("raw", [b'{"a": 1, "a": 2}', b'{"a\\u003a": 1}', b'{"n": 12345678901234567890123}'])
def test_a_body_the_slow_way_reads_hands_over_no_bytes(raw):
    """Repeated keys, an escaped colon or a long number: the payload is not orjson's, so neither are bytes."""
    assert parse_canonical(raw)[2] is None


# -- a bug in judging one message ----------------------------------------------------------------------

def boom_on(activity_id: str):
    def boom(facts):
        if facts.payload.get("activity_id") == activity_id:
            raise KeyError("internal detail /etc/secret")
        return ()
    return boom


def test_a_bug_in_judging_one_message_gives_it_a_stored_internal_verdict_and_the_batch_goes_on(
        runtime, monkeypatch, caplog):
    monkeypatch.setattr(rules, "RULES", rules.RULES + [boom_on("bad")])
    events = [casino_event(activity_id=a) for a in ("before", "bad", "after")]
    with caplog.at_level(logging.ERROR, logger="ftsim"):
        verdicts = runtime.intake.judge([Envelope("rabbit", json.dumps(e).encode(), "CASINO") for e in events])
    assert [v.valid for v in verdicts] == [True, False, True] and all(v.id for v in verdicts)
    [v] = verdicts[1].violations
    assert v.rule == "ftsim.internal" and v.severity == "error" and "KeyError" in v.message
    assert "bug in ftsim" in v.message and "secret" not in v.message
    incident = v.message.split("incident ")[1].split()[0]
    assert any(incident in r.getMessage() and r.exc_info for r in caplog.records)
    assert runtime.store.counts()["received"] == 3


def test_a_bug_in_storing_one_message_leaves_the_others_stored(runtime, monkeypatch):
    """A store that raises something other than StoreError cannot be made on demand: injected."""
    real_batch = runtime.store.batch

    class Tx:
        def __init__(self, tx):
            self._tx = tx

        def __getattr__(self, name):
            return getattr(self._tx, name)

        def add_message(self, record):
            if record.activity_id == "bad":  # a record stored unjudged has no activity_id: that one goes in
                raise TypeError("cannot store this one")
            return self._tx.add_message(record)

    from contextlib import contextmanager

    @contextmanager
    def batch(**how):
        with real_batch(**how) as tx:
            yield Tx(tx)

    monkeypatch.setattr(runtime.store, "batch", batch)
    events = [casino_event(activity_id=a) for a in ("first", "bad", "last")]
    verdicts = runtime.intake.judge([Envelope("rabbit", json.dumps(e).encode(), "CASINO") for e in events])
    assert [v.valid for v in verdicts] == [True, False, True]
    assert rules_of(verdicts[1]) == ["ftsim.internal"] and runtime.store.counts()["received"] == 3


def short_name(i: int) -> str:
    """Three letters for each of 100,000 keys: such a body fits under the 1 MiB limit (about 800 KB)."""
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "".join(letters[i // 52 ** k % 52] for k in range(3))


# -- cost caps ----------------------------------------------------------------------------------------

def test_100000_unknown_fields_give_five_suggestions_and_one_summary(judge):
    event = casino_event(amuont=1)
    event.update({f"extra_{i}": 1 for i in range(100_000)})
    verdict = judge(event)
    unknown = [v for v in verdict.violations if v.rule == "payload.unknown_field"]
    assert len(unknown) == 6 and "did you mean 'amount'?" in unknown[0].message
    assert unknown[-1].path == "" and "99996 more fields" in unknown[-1].message
    assert "'extra_4'" in unknown[-1].message and verdict.valid


def test_a_message_keeps_at_most_50_violations_and_a_summary(runtime, monkeypatch):
    def many(facts):
        return (Violation("amount.sum", f"/x{i}", "made up") for i in range(1000))
    monkeypatch.setattr(rules, "RULES", rules.RULES + [many])
    verdict = runtime.intake.one(Envelope("rest", json.dumps(casino_event()).encode(), "CASINO"))
    assert len(verdict.violations) == 51 and not verdict.valid
    last = verdict.violations[-1]
    assert last.rule == "ftsim.truncated" and last.severity == "error" and "950 more" in last.message


def test_capped_keeps_short_lists_as_they_are():
    few = [Violation("a.b", "", "m", "warning")] * 50
    assert capped(few) is few


# -- over REST ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [BRACKETS, json.dumps(casino_event(meta=nested(300))).encode()])
def test_deep_bodies_over_rest_get_400_and_are_recorded(server, client, body):
    status, answer = client.request("POST", "/v1/integration/casino", body)
    assert status == 400 and answer["violations"][0]["rule"] == "json.parse"
    assert "nested deeper than 64 levels" in answer["violations"][0]["message"]
    assert server.runtime.store.counts()["received"] == 1


def test_a_500_names_an_incident_and_never_the_exception_text(server, client, monkeypatch, caplog):
    def broken(envelope):
        raise RuntimeError("password=hunter2 in /srv/ftsim")
    monkeypatch.setattr(server.runtime.intake, "one", broken)
    with caplog.at_level(logging.ERROR):
        status, answer = client.post_event(casino_event())
    assert status == 500 and "hunter2" not in json.dumps(answer) and "RuntimeError" not in json.dumps(answer)
    assert answer["incident"] in answer["message"]
    assert any(answer["incident"] in r.getMessage() for r in caplog.records)


def test_a_normal_post_is_answered_while_a_100000_key_body_is_judged(server, client):
    hostile = casino_event()
    hostile.update({short_name(i): 1 for i in range(100_000)})
    body = json.dumps(hostile, separators=(",", ":")).encode()  # 1.8 MB with json.dumps' spaces
    assert len(body) < server.runtime.settings.max_body
    answers = []
    attack = threading.Thread(target=lambda: answers.append(Client(server.url).post_event(body)[0]))
    attack.start()
    status, _ = client.post_event(casino_event())
    attack.join(timeout=60)
    assert status == 200 and answers == [200]
