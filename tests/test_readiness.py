"""The go-live checklist: a clean run passes every item; each kind of fault fails its own item, with evidence."""
import json

import pytest

from simulator.report import query
from simulator.report import readiness
from simulator.core.envelope import Envelope, utcnow
from simulator.core.errors import ConfigError
from simulator.report.readiness import Checklist

from tests.conftest import casino_event, now_iso


def verdict(runtime, config: Checklist | None = None) -> dict:
    return readiness.evaluate(readiness.gather(runtime, query.summary(runtime)), config)


def items(result: dict) -> dict:
    return {i["id"]: i for i in result["items"]}


def play_round(judge, user="u1", round_id="r1", channel="rest"):
    """A Bet and the Win that ends its round: what a healthy sender sends."""
    judge(casino_event(user_id=user, round_id=round_id, activity_id=f"{round_id}-bet"), channel=channel)
    judge(casino_event(user_id=user, round_id=round_id, activity_id=f"{round_id}-win", type="Win",
                       is_round_end=True), channel=channel)


class TestACleanRun:
    def test_passes_every_item(self, runtime, judge):
        for n in range(3):
            play_round(judge, round_id=f"r{n}")
        result = verdict(runtime)
        assert result["passed"] and result["failed"] == []
        assert {k: i["status"] for k, i in items(result).items()} == {
            "violations": "passed", "duplicates.retries": "passed", "retries.lost": "passed",
            "rounds.closed": "passed", "payments.settled": "passed", "latency.p99": "passed",
            "channel.rest": "passed", "users.registered": "passed", "integration.basic": "skipped"}
        assert {r["status"] for r in result["rules"] if r["severity"] != "off"} == {"passed"}  # user.unknown: off
        assert "casino-only run" in items(result)["integration.basic"]["detail"]

    def test_nothing_received_is_not_ready(self, runtime):
        result = verdict(runtime)
        assert not result["passed"]
        assert set(result["failed"]) == {"latency.p99", "channel.rest"}
        assert items(result)["latency.p99"]["detail"].startswith("no latency measured")


class TestEachFaultFailsItsItem:
    def test_error_violations_fail_with_counts_and_the_first_examples(self, runtime, judge):
        play_round(judge)
        for n in range(4):
            judge(casino_event(activity_id=f"bad-{n}", currency="EURO", is_round_end=True))
        result = verdict(runtime)
        item = items(result)["violations"]
        assert item["status"] == "failed" and result["failed"] == ["violations", "retries.lost"]
        [broken] = item["evidence"]["broken"]
        assert broken["rule"] == "schema.enum" and broken["counts"] == {"error": 4}
        assert [e["activity_id"] for e in broken["examples"]] == ["bad-0", "bad-1", "bad-2"]
        assert broken["examples"][0]["path"] == "/currency" and broken["examples"][0]["payload"]["currency"] == "EURO"
        [rule] = [r for r in result["rules"] if r["status"] == "failed"]
        assert rule["rule"] == "schema.enum" and rule["detail"] == "4 messages at error"

    def test_warnings_fail_only_when_the_checklist_fails_on_warnings(self, runtime, judge):
        play_round(judge)
        judge(casino_event(is_round_end=True, colour="red"))
        assert verdict(runtime)["passed"]
        strict = verdict(runtime, Checklist(fail_on="warning"))
        assert strict["failed"] == ["violations"]
        assert items(strict)["violations"]["title"] == "No error or warning violations"
        assert [r["rule"] for r in strict["rules"] if r["status"] == "failed"] == ["payload.unknown_field"]

    def test_duplicates_pass_as_exact_retries_and_fail_as_a_reused_id(self, runtime, judge):
        bet = casino_event(activity_id="B", round_id="R", is_round_end=True)
        judge(bet)
        judge(bet)
        assert items(verdict(runtime))["duplicates.retries"]["detail"] == "1 duplicate, all exact retries"
        judge({**bet, "amount": 30, "wager_amount": 30})
        item = items(verdict(runtime))["duplicates.retries"]
        assert item["status"] == "failed" and item["evidence"]["conflicts"] == 1
        assert item["evidence"]["examples"][0]["activity_id"] == "B"

    def test_an_event_never_delivered_valid_is_a_lost_retry(self, runtime, judge):
        judge(casino_event(activity_id="fixed", currency="EURO", is_round_end=True))
        judge(casino_event(activity_id="fixed", is_round_end=True))  # the sender corrected and resent it
        assert items(verdict(runtime))["retries.lost"]["status"] == "passed"
        judge(casino_event(activity_id="given-up", amount=-1, wager_amount=-1, is_round_end=True))
        judge(casino_event(activity_id="given-up", amount=-1, wager_amount=-1, is_round_end=True))
        item = items(verdict(runtime))["retries.lost"]
        assert item["status"] == "failed" and item["evidence"]["count"] == 1
        [lost] = item["evidence"]["examples"]
        assert lost["activity_id"] == "given-up" and lost["deliveries"] == 2
        assert {v["rule"] for v in lost["violations"]} == {"schema.minimum"}

    def test_an_open_round_fails_rounds_closed(self, runtime, judge):
        play_round(judge, round_id="done")
        judge(casino_event(user_id="u7", round_id="left-open"))
        item = items(verdict(runtime))["rounds.closed"]
        assert item["status"] == "failed" and item["detail"] == "1 of 2 rounds still open: u7/left-open"

    def test_p99_over_the_budget_fails_and_a_looser_budget_in_the_file_passes(self, runtime, judge):
        for n in range(3):
            judge(casino_event(round_id=f"late{n}", is_round_end=True, timestamp=now_iso(-5)))
        result = verdict(runtime)
        item = items(result)["latency.p99"]
        assert item["status"] == "failed" and item["evidence"]["p99"] > 1000
        assert "3 of 3 messages over it" in item["detail"]
        assert result["failed"] == ["latency.p99"]  # latency.budget is a warning: no rule broken
        assert items(verdict(runtime, Checklist(latency_budget_ms=60_000)))["latency.p99"]["status"] == "passed"

    def test_required_channels_and_their_minimums_come_from_the_checklist(self, runtime, judge):
        play_round(judge)
        config = Checklist(channels={"rest": 3, "kafka": 1})
        result = items(verdict(runtime, config))
        assert result["channel.rest"]["detail"] == "2 messages on rest, at least 3 required"
        assert result["channel.kafka"]["status"] == "failed"
        play_round(judge, round_id="k", channel="kafka")
        judge(casino_event(is_round_end=True))
        result = items(verdict(runtime, config))
        assert result["channel.rest"]["status"] == result["channel.kafka"]["status"] == "passed"

    def test_by_default_the_broker_channels_ftsim_listens_on_are_required(self, runtime, judge):
        play_round(judge)
        runtime.channel("rabbit")  # what a RabbitMQ listener registers when it starts
        result = items(verdict(runtime))
        assert "channel.rest" not in result and result["channel.rabbit"]["status"] == "failed"

    def test_refused_requests_break_their_rule_but_the_pages_own_do_not(self, runtime, judge):
        play_round(judge)
        runtime.store.add_rejection("api", utcnow(), "transport.auth", "GET / from 127.0.0.1")
        assert verdict(runtime)["passed"]
        runtime.store.add_rejection("rest", utcnow(), "transport.auth", "POST /v1/integration/casino")
        result = verdict(runtime)
        [rule] = [r for r in result["rules"] if r["status"] == "failed"]
        assert (rule["rule"], rule["refused"], rule["detail"]) == ("transport.auth", 1, "1 refused request at error")


class TestTuning:
    def test_clean_rules_fail_at_any_severity_and_ignore_rules_never_fail(self, runtime, judge):
        play_round(judge)
        judge(casino_event(is_round_end=True, colour="red"))
        result = verdict(runtime, Checklist(clean_rules=("payload.*",)))
        assert result["failed"] == ["violations"]
        judge(casino_event(is_round_end=True, currency="EURO", activity_id="x"))
        result = verdict(runtime, Checklist(ignore_rules=("schema.*",), skip=("retries.lost",)))
        assert result["passed"]
        assert items(result)["retries.lost"]["status"] == "skipped"
        assert [r["detail"] for r in result["rules"] if r["rule"] == "schema.enum"] == [
            "ignored by the checklist (1 message)"]

    def test_a_rule_switched_off_is_reported_skipped(self, make_settings):
        from simulator.runtime import Runtime

        rt = Runtime(make_settings(severity=["round.game_mismatch=off"]))
        try:
            [rule] = [r for r in verdict(rt)["rules"] if r["rule"] == "round.game_mismatch"]
            assert rule["status"] == "skipped"
        finally:
            rt.close()


class TestChecklistFile:
    def test_the_readiness_table_of_a_shared_toml_file(self, tmp_path):
        path = tmp_path / "ftsim.toml"
        path.write_text('[ftsim]\nprofile = "lenient"\n\n[readiness]\nfail_on = "warning"\n'
                        'clean-rules = ["latency.budget"]\nlatency_budget_ms = 1500\nskip = ["rounds.closed"]\n'
                        '[readiness.channels]\nrest = 100\nkafka = 50\n')
        c = readiness.load_checklist(str(path))
        assert c == Checklist(fail_on="warning", clean_rules=("latency.budget",), latency_budget_ms=1500.0,
                              channels={"rest": 100, "kafka": 50}, skip=("rounds.closed",))
        assert readiness.load_checklist(str(path), fail_on="error").fail_on == "error"

    def test_a_file_of_its_own_needs_no_table(self, tmp_path):
        path = tmp_path / "checklist.toml"
        path.write_text('ignore_rules = ["round.game_mismatch"]\n')
        assert readiness.load_checklist(str(path)).ignore_rules == ("round.game_mismatch",)

    @pytest.mark.parametrize("text,words", [
        ('latency = 3', "unknown key 'latency'"),
        ('fail_on = "fatal"', "fail_on: expected error or warning"),
        ('[channels]\nrest = "many"', "channels: expected a table"),
        ('latency_budget_ms = 0', "latency_budget_ms: expected milliseconds > 0"),
        ('skip = ["violations"]', "use ignore_rules"),
        ('clean_rules = "schema.*"', "clean_rules: expected a list of strings"),
        ('fail_on = ', "checklist"),
    ])
    def test_mistakes_are_named(self, tmp_path, text, words):
        path = tmp_path / "bad.toml"
        path.write_text(text + "\n")
        with pytest.raises(ConfigError, match=words.replace("(", r"\(")):
            readiness.load_checklist(str(path))


def test_the_evidence_travels_as_json(runtime, judge):
    """verify --url evaluates facts a server gathered: they must survive JSON unchanged in meaning."""
    play_round(judge)
    judge(casino_event(currency="EURO"))
    facts = readiness.gather(runtime, query.summary(runtime))
    assert readiness.evaluate(json.loads(json.dumps(facts))) == readiness.evaluate(facts)


def test_examples_of_huge_payloads_are_cut(runtime):
    raw = json.dumps(casino_event(game_name="x" * 100_000, currency="EURO")).encode()
    runtime.intake.one(Envelope("rest", raw, "CASINO"))
    facts = readiness.gather(runtime, query.summary(runtime))
    [ex] = facts["examples"]["schema.enum"]
    assert "payload" not in ex and len(ex["raw"]) < 5000 and ex["raw"].endswith("characters)")


class TestBasicIntegration:
    """The guide's minimum to go live: registrations, logins and payments, each valid on every channel in use."""

    def send_basic(self, judge, channel="rest", skip=()):
        user = {"user_id": "u-basic", "origin": "www.brand.com", "timestamp": now_iso()}
        sent = {"USER_CREATE_V2": user, "LOGIN_V2": user,
                "PAYMENT": {"payment_id": "p-1", "user_id": "u-basic", "amount": 10, "currency": "EUR",
                            "exchange_rate": 1, "origin": "www.brand.com", "status": "Approved", "type": "Credit",
                            "vendor_id": "1", "vendor_name": "Bank", "timestamp": now_iso(), "deposit_count": 1}}
        for marker, payload in sent.items():
            if marker not in skip:
                assert judge(payload, marker, channel).valid, marker

    def test_holds_when_each_basic_type_arrived_valid(self, runtime, judge):
        self.send_basic(judge)
        item = items(verdict(runtime))["integration.basic"]
        assert item["status"] == "passed" and "LOGIN_V2, PAYMENT, USER_CREATE_V2 each arrived valid on rest" \
            == item["detail"]

    def test_fails_naming_the_type_that_never_arrived(self, runtime, judge):
        self.send_basic(judge, skip=("PAYMENT",))
        item = items(verdict(runtime))["integration.basic"]
        assert item["status"] == "failed" and item["detail"] == "missing: PAYMENT on rest"

    def test_fails_for_a_channel_in_use_that_carried_none(self, runtime, judge):
        self.send_basic(judge)
        play_round(judge, round_id="r-k", channel="kafka")
        item = items(verdict(runtime))["integration.basic"]
        assert item["status"] == "failed" and "USER_CREATE_V2 on kafka" in item["detail"]

    def test_required_by_the_checklist_even_for_a_casino_only_run(self, runtime, judge):
        play_round(judge, round_id="r1")
        result = verdict(runtime, readiness.checklist_from({"basic_integration": True}))
        item = items(result)["integration.basic"]
        assert item["status"] == "failed" and not result["passed"]

    def test_the_setting_must_be_a_boolean(self):
        with pytest.raises(ConfigError, match="basic_integration: expected true or false"):
            readiness.checklist_from({"basic_integration": "yes"})
