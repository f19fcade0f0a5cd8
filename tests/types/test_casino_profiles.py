"""Casino under its three profiles: the issue's fixes, what differs between strict, lenient and ft, who
demands each check (the source every schema violation names), and the shared rules the ft profile needs
(timestamp.lax, activity.empty_id) — through the validator, through intake, and over real HTTP."""
from __future__ import annotations

import pytest

from simulator.contract.catalog import CATALOG
from simulator.contract.registry import load_registry
from simulator.contract.validate import make_validator
from simulator.types.casino import tables as casino_tables

from tests.conftest import Client, casino_event

CASINO = load_registry().types["casino"]
PROFILES = ("strict", "lenient", "ft")
DOCS_EXAMPLE_STAMP = "2015-03-02T8:27:58.721607Z"  # spec 000's own example: a one-digit hour


def problems(payload, profile, engine="rust"):
    return {(v.rule, v.path) for v in make_validator(CASINO, profile, engine).violations(payload)}


def ft_only_event(**overrides):
    """Valid under ft, refused by strict: values FT's validator takes that ftsim's own judgement does not."""
    return casino_event(game_id=10911, vendor_id=1.5, currency="eur", exchange_rate=0, wager_amount=-1,
                        amount=0, bonus_wager_amount=1, locked_wager_amount=0, **overrides)


def no_sum(event):  # amount.sum is casino's own rule, not a schema verdict: keep it out of the way
    return {k: v for k, v in event.items() if k not in ("wager_amount", "bonus_wager_amount", "locked_wager_amount")}


# (overrides, strict, lenient, ft): the schema rules each profile finds at the field; "" = none
VERDICTS = [
    ({"game_name": ""}, "schema.minLength", "schema.minLength", "schema.minLength"),
    ({"skip_publishing": True, "is_free_money": False}, "", "", ""),
    ({"skip_publishing": "true"}, "schema.type", "schema.type", "schema.type"),
    ({"is_free_money": 0}, "schema.type", "schema.type", "schema.type"),
    ({"game_id": 10911}, "schema.type", "", ""),
    ({"game_id": 7.0}, "schema.type", "", ""),
    ({"game_id": 7.5}, "schema.type", "schema.type", ""),
    ({"game_id": ""}, "schema.minLength", "schema.minLength", ""),
    ({"meta": None}, "", "", ""),
    ({"meta": "x"}, "schema.type", "schema.type", "schema.type"),
    ({"activity_id": ""}, "schema.minLength", "schema.minLength", ""),  # ft: activity.empty_id instead, below
    ({"activity_id": 5}, "schema.type", "schema.type", "schema.type"),
    ({"vendor_id": 1}, "schema.type", "", ""),
    ({"vendor_id": 1.5}, "schema.type", "schema.type", ""),
    ({"currency": "eur"}, "schema.enum", "schema.enum", ""),
    ({"currency": 978}, "schema.enum schema.type", "schema.enum schema.type", "schema.type"),
    ({"exchange_rate": 0}, "schema.exclusiveMinimum", "schema.exclusiveMinimum", ""),
    ({"exchange_rate": -1}, "schema.exclusiveMinimum", "schema.exclusiveMinimum", "schema.minimum"),
    ({"wager_amount": -1}, "schema.minimum", "schema.minimum", ""),
    ({"bonus_wager_amount": -1}, "schema.minimum", "schema.minimum", "schema.minimum"),
    ({"timestamp": DOCS_EXAMPLE_STAMP}, "schema.format", "schema.format", ""),
    ({"timestamp": "2015-03-02"}, "schema.format", "schema.format", ""),
    ({"timestamp": "2015-03-02t08:27:58Z"}, "", "", "schema.format"),
    ({"timestamp": "2016-12-31T23:59:60Z"}, "", "", "schema.format"),  # rust engine: RFC 3339 has leap seconds
    ({"round_id": None}, "schema.required", "", "schema.required"),
    ({"status": "Cancelled"}, "schema.enum", "schema.enum", "schema.enum"),
]


class TestEachProfilesVerdicts:
    @pytest.mark.parametrize("overrides,strict,lenient,ft", VERDICTS)
    def test_per_profile(self, overrides, strict, lenient, ft):
        event = casino_event(**overrides)
        field = next(iter(overrides))
        for profile, rule in zip(PROFILES, (strict, lenient, ft)):
            assert problems(event, profile) == {(r, f"/{field}") for r in rule.split()}, profile

    @pytest.mark.parametrize("engine", ["rust", "python"])
    def test_ft_takes_what_only_ftsims_judgement_refuses(self, engine):
        event = ft_only_event(timestamp=DOCS_EXAMPLE_STAMP)
        assert problems(event, "ft", engine) == set()
        assert problems(event, "strict", engine) == {
            ("schema.type", "/game_id"), ("schema.type", "/vendor_id"), ("schema.enum", "/currency"),
            ("schema.exclusiveMinimum", "/exchange_rate"), ("schema.minimum", "/wager_amount"),
            ("schema.format", "/timestamp")}

    def test_ft_requires_fts_fourteen_fields_lenient_nine(self):
        assert CASINO.required("ft") == CASINO.required("strict")
        assert len(CASINO.required("ft")) == 14 and len(CASINO.required("lenient")) == 9

    def test_status_of_the_wrong_type_is_both_a_type_and_an_enum_error_under_ft(self):
        assert problems(casino_event(status=5), "ft") == {("schema.type", "/status"), ("schema.enum", "/status")}


class TestSources:
    @pytest.mark.parametrize("profile,overrides,source", [
        ("strict", {"round_id": None}, "spec 000"),
        ("strict", {"vendor_id": 1}, "spec 001"),
        ("strict", {"game_id": 1}, "spec 000, spec 001"),
        ("strict", {"user_id": None}, "spec 000, spec 001"),
        ("strict", {"timestamp": DOCS_EXAMPLE_STAMP}, "ftsim (RFC 3339, named by spec 000 and 001)"),
        ("strict", {"currency": "EURO"}, "ftsim (ISO 4217, named by spec 000 and 001)"),
        ("strict", {"wager_amount": -1}, "ftsim (amounts >= 0)"),
        ("strict", {"exchange_rate": 0}, "ftsim (a rate of 0 zeroes every amount)"),
        ("strict", {"activity_id": ""}, "ftsim (an empty activity_id cannot be de-duplicated)"),
        ("strict", {"game_id": ""}, "ftsim (ids non-empty)"),
        ("strict", {"game_name": ""}, "FT's validator"),
        ("strict", {"amount": -1}, "FT's validator"),
        ("strict", {"amount": None}, "spec 000"),
        ("strict", {"skip_publishing": 1}, "FT's validator"),
        ("lenient", {"vendor_id": 1.5}, "ftsim (lenient: spec 000's integer or spec 001's string)"),
        ("lenient", {"meta": []}, "FT's validator"),
        ("ft", {"round_id": None}, "FT's validator"),
        ("ft", {"timestamp": "yesterday"}, "FT's validator"),
    ])
    def test_every_schema_violation_names_who_demands_it_in_source_and_sentence(self, profile, overrides, source):
        [v] = make_validator(CASINO, profile).violations(casino_event(**overrides))
        assert v.source == source
        assert v.message.endswith(f"; source: {source}")
        assert v.as_dict()["source"] == source

    @pytest.mark.parametrize("profile", PROFILES)
    def test_every_violation_of_a_broken_event_has_a_source(self, profile):
        bad = casino_event(amount="x", currency=1, type="Deposit", timestamp="yesterday", user_id=None,
                           meta=3, game_name="", is_free_money="no")
        found = make_validator(CASINO, profile).violations(bad)
        assert len(found) >= 7 and all(v.source for v in found)


class TestFtDateTimeWords:
    @pytest.mark.parametrize("stamp,why", [
        ("2015-03-02t08:27:58Z", "upper case only"), ("2015-03-02 08:27:58Z", "'T', not a space"),
        ("2015-03-02T08:27:58", "time zone is missing"), ("2016-12-31T23:59:60Z", "no leap second"),
        ("2015-02-30T08:27:58Z", "out of range"), ("1425284878", "epoch numbers"), ("soon", "the layout must be"),
    ])
    def test_ft_date_time_failures_say_what_fts_validator_expects_and_why(self, stamp, why):
        [v] = make_validator(CASINO, "ft").violations(casino_event(timestamp=stamp))
        assert v.rule == "schema.format" and v.path == "/timestamp"
        assert v.message.startswith(f"timestamp: expected a date-time FT's validator takes, such as "
                                    f'2015-03-02T08:27:58.721607Z, got string "{stamp}"')
        assert why in v.message


class TestTimestampLax:
    def test_the_docs_example_passes_ft_with_a_warning_saying_why(self, make_judge):
        verdict = make_judge(profile="ft")(casino_event(timestamp=DOCS_EXAMPLE_STAMP))
        assert verdict.valid
        [lax] = [v for v in verdict.violations if v.rule == "timestamp.lax"]
        assert (lax.path, lax.severity) == ("/timestamp", "warning")
        assert "FT's validator takes '2015-03-02T8:27:58.721607Z', but it is not RFC 3339" in lax.message
        assert "the hour has one digit" in lax.message and "latency is not judged" in lax.message
        assert "casino rounds" in lax.message

    def test_an_event_with_a_lax_timestamp_joins_no_round_as_the_warning_says(self, make_settings, tmp_path):
        from simulator.runtime import Runtime
        from tests.conftest import judge_with
        rt = Runtime(make_settings(profile="ft", db=str(tmp_path / "lax.db")))
        try:
            assert judge_with(rt)(casino_event(round_id="r-lax", timestamp=DOCS_EXAMPLE_STAMP)).valid
            assert casino_tables.rounds(rt.store, round_id="r-lax") == []
        finally:
            rt.close()

    @pytest.mark.parametrize("stamp,words", [("2015-03-02", "a bare date"), ("08:27:58", "a bare time"),
                                             ("8:27:58Z", "a bare time, with no date")])
    def test_bare_dates_and_times_are_named(self, make_judge, stamp, words):
        verdict = make_judge(profile="ft")(casino_event(timestamp=stamp))
        assert verdict.valid and words in next(v.message for v in verdict.violations if v.rule == "timestamp.lax")

    def test_an_rfc3339_timestamp_under_ft_is_not_lax(self, make_judge):
        verdict = make_judge(profile="ft")(casino_event())
        assert verdict.valid and verdict.violations == []

    def test_under_strict_the_lax_value_is_a_schema_error_not_a_warning(self, make_judge):
        verdict = make_judge(profile="strict")(casino_event(timestamp=DOCS_EXAMPLE_STAMP))
        assert not verdict.valid and {v.rule for v in verdict.violations} == {"schema.format"}


class TestEmptyActivityId:
    def test_ft_refuses_it_by_rule_saying_fts_validator_accepts_it_and_why_ftsim_does_not(self, make_judge):
        verdict = make_judge(profile="ft")(casino_event(activity_id=""))
        assert not verdict.valid
        assert [(v.rule, v.path, v.severity) for v in verdict.violations] == [
            ("activity.empty_id", "/activity_id", "error")]
        message = verdict.violations[0].message
        assert "FT's validator accepts it" in message and "cannot be de-duplicated" in message

    @pytest.mark.parametrize("profile", ["strict", "lenient"])
    def test_strict_and_lenient_refuse_it_in_the_schema_with_the_same_reason_and_no_second_error(
            self, make_judge, profile):
        verdict = make_judge(profile=profile)(casino_event(activity_id=""))
        assert [(v.rule, v.path) for v in verdict.violations] == [("schema.minLength", "/activity_id")]
        assert "cannot be de-duplicated" in verdict.violations[0].message

    def test_a_non_empty_activity_id_under_ft_trips_nothing(self, make_judge):
        verdict = make_judge(profile="ft")(casino_event(activity_id="0"))
        assert verdict.valid and verdict.violations == []

    def test_a_severity_override_can_let_it_through(self, make_judge):
        verdict = make_judge(profile="ft", severity=["activity.empty_id=warning"])(casino_event(activity_id=""))
        assert verdict.valid and [v.severity for v in verdict.violations] == ["warning"]


class TestFieldsNoLongerUnknown:
    @pytest.mark.parametrize("profile", PROFILES)
    def test_skip_publishing_and_is_free_money_are_fields_not_unknown(self, make_judge, profile):
        verdict = make_judge(profile=profile)(casino_event(skip_publishing=True, is_free_money=True))
        assert verdict.valid and verdict.violations == []

    def test_a_real_unknown_field_still_warns_under_ft(self, make_judge):
        verdict = make_judge(profile="ft")(casino_event(skip_publish=True))
        assert verdict.valid and [(v.rule, v.severity) for v in verdict.violations] == [
            ("payload.unknown_field", "warning")]
        assert "did you mean 'skip_publishing'?" in verdict.violations[0].message


class TestNumericGameIdInRounds:
    @pytest.mark.parametrize("profile,first,second", [("lenient", 10911, "10911"), ("ft", 7.0, 7)])
    def test_a_number_joins_the_round_of_its_text(self, make_judge, profile, first, second):
        send = make_judge(profile=profile)
        assert send(casino_event(round_id="r1", activity_id="a1", game_id=first)).valid
        verdict = send(casino_event(round_id="r1", activity_id="a2", game_id=second, type="Win",
                                    is_round_end=True))
        assert verdict.valid and "round.game_mismatch" not in {v.rule for v in verdict.violations}

    def test_the_round_stores_game_id_as_text(self, make_settings, tmp_path):
        from simulator.runtime import Runtime
        from tests.conftest import judge_with
        rt = Runtime(make_settings(profile="ft", db=str(tmp_path / "g.db")))
        try:
            assert judge_with(rt)(casino_event(round_id="r9", game_id=10911.0)).valid
            [rnd] = casino_tables.rounds(rt.store, round_id="r9")
            assert rnd.game_id == "10911"
        finally:
            rt.close()

    def test_another_number_is_another_game(self, make_judge):
        send = make_judge(profile="ft")
        send(casino_event(round_id="r1", activity_id="a1", game_id=10911))
        verdict = send(casino_event(round_id="r1", activity_id="a2", game_id=10912))
        assert [v.rule for v in verdict.violations] == ["round.game_mismatch"]


class TestOverHttp:
    def test_ft_server_accepts_what_ft_takes_and_refuses_what_it_refuses(self, start_server):
        client = Client(start_server(profile="ft").url)
        status, body = client.post_event(no_sum(ft_only_event(timestamp=DOCS_EXAMPLE_STAMP)))
        assert status == 200 and body["valid"]
        assert [v["rule"] for v in body["violations"]] == ["timestamp.lax"]
        status, body = client.post_event(casino_event(game_name=""))
        assert status == 400
        assert [(v["rule"], v["path"], v["source"]) for v in body["violations"]] == [
            ("schema.minLength", "/game_name", "FT's validator")]

    def test_strict_server_refuses_the_same_ft_only_event(self, start_server):
        client = Client(start_server(profile="strict").url)
        status, body = client.post_event(no_sum(ft_only_event()))
        assert status == 400
        assert {v["path"] for v in body["violations"]} == {"/game_id", "/vendor_id", "/currency", "/exchange_rate"}
        assert {v["source"] for v in body["violations"]} >= {"spec 001", "ftsim (ISO 4217, named by spec 000 and 001)"}

    def test_a_wrong_method_gets_405_naming_post(self, start_server):
        client = Client(start_server(profile="ft").url)
        status, body = client.request("PUT", "/v1/integration/casino", casino_event())
        assert status == 405 and "POST for CASINO" in body["message"]


class TestRuleCatalog:
    @pytest.mark.parametrize("rule,severity", [("timestamp.lax", "warning"), ("activity.empty_id", "error")])
    def test_the_shared_rules_are_listed_with_their_default_severity(self, rule, severity):
        assert CATALOG[rule].severity == severity and CATALOG[rule].summary
