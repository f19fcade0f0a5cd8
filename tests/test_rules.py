"""Every semantic rule, with a message that trips it and one that does not, through the real intake."""
import json

import pytest

from simulator.contract.catalog import CATALOG
from simulator.settings import load_settings

from tests.conftest import casino_event, now_iso


def rules_of(verdict):
    return {v.rule for v in verdict.violations}


def test_a_clean_event_is_valid_with_no_violations(judge):
    verdict = judge(casino_event())
    assert verdict.valid and verdict.violations == [] and verdict.id is not None


@pytest.mark.parametrize("parts,amount,trips", [
    ({"wager_amount": 15, "bonus_wager_amount": 5, "locked_wager_amount": 0}, 20, False),
    ({"wager_amount": 15, "bonus_wager_amount": 5, "locked_wager_amount": 0}, 20.01, False),  # within a cent
    ({"wager_amount": 15, "bonus_wager_amount": 5, "locked_wager_amount": 0}, 20.02, True),
    ({"wager_amount": 0.1, "bonus_wager_amount": 0.2, "locked_wager_amount": None}, 0.3, False),  # no float drift
    ({"wager_amount": 10, "bonus_wager_amount": None, "locked_wager_amount": None}, 20, True),
    ({"wager_amount": None, "bonus_wager_amount": None, "locked_wager_amount": None}, 20, False),  # none sent
])
def test_amount_sum(judge, parts, amount, trips):
    verdict = judge(casino_event(amount=amount, **parts))
    assert ("amount.sum" in rules_of(verdict)) is trips
    assert verdict.valid is not trips


def test_amount_sum_message_shows_the_arithmetic(judge):
    [v] = judge(casino_event(amount=25, wager_amount=15, bonus_wager_amount=5, locked_wager_amount=0)).violations
    assert v.path == "/amount" and "expected 20" in v.message and "got 25" in v.message


def test_amount_sum_shows_money_to_the_cent_as_it_was_sent(judge):
    """5.00 arrives as the double 5.0; the message said 'got 5.0', which no sender wrote."""
    body = casino_event(wager_amount=0, bonus_wager_amount=0, locked_wager_amount=0)
    body["amount"] = 5
    raw = json.dumps(body).replace('"amount": 5', '"amount": 5.00').replace('"wager_amount": 0', '"wager_amount": 0.00')
    [v] = judge(raw.encode()).violations
    assert "expected 0.00 (wager_amount 0.00 + bonus_wager_amount 0 + locked_wager_amount 0), got 5.00: " \
           "differs by 5.00" in v.message  # the integers as integers


def test_unknown_field_is_a_warning_with_a_suggestion(judge):
    verdict = judge(casino_event(wager_ammount=3))
    assert verdict.valid
    [v] = verdict.violations
    assert (v.rule, v.path, v.severity) == ("payload.unknown_field", "/wager_ammount", "warning")
    assert "did you mean 'wager_amount'" in v.message


def test_latency_budget(judge):
    assert "latency.budget" not in rules_of(judge(casino_event(timestamp=now_iso(-0.2))))
    late = judge(casino_event(timestamp=now_iso(-3)))
    assert rules_of(late) == {"latency.budget"} and late.valid  # a warning by default
    assert "expected within 1 s" in late.violations[0].message


def test_latency_budget_is_configurable(make_judge):
    assert make_judge(latency_budget=5)(casino_event(timestamp=now_iso(-3))).violations == []


def test_timestamp_in_the_future(judge):
    assert rules_of(judge(casino_event(timestamp=now_iso(60)))) == {"timestamp.future"}
    assert rules_of(judge(casino_event(timestamp=now_iso(1)))) == set()


@pytest.mark.parametrize("raw,words", [
    (b"not json", "not JSON"), (b"[1, 2]", "got array"), (b'"text"', "got string"), (b"", "not JSON"),
    (b'{"a": NaN}', "NaN"), (b"\xff\xfe{}", "UTF-8"), (b"\xef\xbb\xbf{}", "BOM"),
])
def test_json_parse(judge, raw, words):
    verdict = judge(raw)
    assert not verdict.valid
    [v] = verdict.violations
    assert v.rule == "json.parse" and words in v.message


@pytest.mark.parametrize("marker", [None, "casino", "NO_SUCH_TYPE", ""])
def test_transport_type_marker_must_be_casino(judge, marker):
    verdict = judge(casino_event(), marker=marker, channel="rabbit")
    assert rules_of(verdict) == {"transport.type"} and not verdict.valid
    assert "headers are ignored" in verdict.violations[0].message


def test_transport_type_with_the_right_marker_passes(judge):
    assert judge(casino_event(), marker="CASINO", channel="kafka").valid


def test_every_reported_rule_is_in_the_catalog(judge):
    verdicts = [judge(b"x"), judge(casino_event(amount=1)), judge(casino_event(foo=1)), judge(casino_event(), None)]
    for verdict in verdicts:
        for v in verdict.violations:
            assert v.rule in CATALOG or v.rule.startswith("schema.")


class TestSeverities:
    def test_a_rule_can_be_demoted_so_the_message_is_valid(self, make_judge):
        verdict = make_judge(severity=["amount.sum=warning"])(casino_event(amount=99))
        assert verdict.valid and [v.severity for v in verdict.violations] == ["warning"]

    def test_a_glob_switches_a_family_off(self, make_judge):
        verdict = make_judge(severity=["schema.*=off"])(casino_event(currency="EURO"))
        assert verdict.valid and verdict.violations == []

    def test_a_warning_can_be_promoted_to_an_error(self, make_judge):
        assert not make_judge(severity=["payload.unknown_field=error"])(casino_event(x=1)).valid

    def test_a_bad_level_is_refused(self):
        from simulator.core.errors import ConfigError
        with pytest.raises(ConfigError, match="RULE=LEVEL"):
            load_settings(None, env={}, severity=["amount.sum=fatal"])
