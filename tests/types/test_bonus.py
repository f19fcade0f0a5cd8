"""BONUS: its contract under each profile, over intake and real HTTP, and a player's bonus by user_bonus_id."""
from __future__ import annotations

from itertools import count

import pytest

from simulator.types.bonus import TYPE
from tests.conftest import now_iso
from tests.types._money import profile_sender, rules_of, sender

_ids = count(1)
PATH = "/v1/integration/bonus"


def bonus(**overrides) -> dict:
    """A valid strict-profile bonus event (a Created bonus), timestamped now; None removes a field."""
    event = {"amount": 20, "bonus_id": "welcome-100", "currency": "EUR", "exchange_rate": 1,
             "origin": "sub.example.com", "product": "Casino", "status": "Created", "timestamp": now_iso(),
             "type": "FreeMoney", "user_bonus_id": f"ub-{next(_ids)}", "user_id": "u-1", "bonus_code": "WELCOME",
             "locked_amount": 0, "required_wagering_amount": 200, "is_free_money": False, "meta": None}
    event.update(overrides)
    return {k: v for k, v in event.items() if v is not None or k == "meta"}


@pytest.fixture
def send(judge):
    return sender(judge, "BONUS")


@pytest.fixture
def send_as(make_judge):
    """send_as("ft")(event): the verdict under a profile."""
    return profile_sender(make_judge, "BONUS")


def steps(send, *statuses, **fields):
    key = fields.pop("user_bonus_id", f"ub-{next(_ids)}")
    return [send(bonus(user_bonus_id=key, status=s, **fields)) for s in statuses]


class TestContract:
    def test_a_valid_bonus_is_accepted(self, send):
        verdict = send(bonus())
        assert verdict.valid and verdict.violations == [] and verdict.event == "bonus"

    def test_a_missing_product_is_refused_at_its_path(self, send):
        assert rules_of(send(bonus(product=None))) == {("schema.required", "/product")}

    def test_a_status_outside_ft_enum_is_refused(self, send):
        verdict = send(bonus(status="Active"))
        assert not verdict.valid and rules_of(verdict) == {("schema.enum", "/status")}

    def test_the_rule_ids_are_listed_with_their_severities(self):
        assert {r.id: r.severity for r in TYPE.rule_info} == {
            "bonus.transition": "warning", "bonus.changed": "error", "bonus.currency": "warning"}


class TestOverHTTP:
    def test_a_valid_bonus_gets_200(self, client):
        status, body = client.request("POST", PATH, bonus())
        assert status == 200 and body["valid"]

    def test_an_invalid_bonus_gets_400_with_rule_and_path(self, client):
        status, body = client.request("POST", PATH, bonus(product="Bingo"))
        assert status == 400 and [(v["rule"], v["path"]) for v in body["violations"]] == [("schema.enum", "/product")]

    def test_a_wrong_method_gets_405_naming_post(self, client):
        status, body = client.request("PUT", PATH, bonus())
        assert status == 405 and "expected POST for BONUS" in body["message"]


class TestProfiles:
    def test_integer_ids_strict_and_ft_refuse_lenient_takes(self, send_as):
        strict = send_as("strict")(bonus(user_bonus_id=77, bonus_id=5))
        assert rules_of(strict) == {("schema.type", "/user_bonus_id"), ("schema.type", "/bonus_id")}
        assert {v.source for v in strict.violations} == {"ftsim (ids are strings)"}
        assert send_as("lenient")(bonus(user_bonus_id=78, bonus_id=5)).valid
        ft = send_as("ft")(bonus(user_bonus_id=79, bonus_id=5))
        assert rules_of(ft) == {("schema.type", "/user_bonus_id"), ("schema.type", "/bonus_id")}
        assert {v.source for v in ft.violations} == {"FT's validator"}

    def test_a_currency_not_in_iso_4217_an_empty_origin_and_a_zero_rate_only_ft_takes(self, send_as):
        event = bonus(currency="eur", origin="", exchange_rate=0)
        assert rules_of(send_as("strict")(event)) == {("schema.enum", "/currency"), ("schema.minLength", "/origin"),
                                                      ("schema.exclusiveMinimum", "/exchange_rate")}
        assert rules_of(send_as("lenient")(bonus(currency="eur"))) == {("schema.enum", "/currency")}
        assert send_as("ft")(bonus(currency="eur", origin="", exchange_rate=0)).valid

    def test_the_docs_one_digit_hour_only_ft_takes(self, send_as):
        assert rules_of(send_as("strict")(bonus(timestamp="2015-03-02T8:27:58Z"))) == {("schema.format", "/timestamp")}
        assert not any(v.rule.startswith("schema.") for v in
                       send_as("ft")(bonus(timestamp="2015-03-02T8:27:58Z")).violations)

    def test_what_every_profile_refuses(self, send_as):
        for profile in ("strict", "lenient", "ft"):
            verdict = send_as(profile)(bonus(amount=-1, user_bonus_id="", meta=[]))
            assert rules_of(verdict) == {("schema.minimum", "/amount"), ("schema.minLength", "/user_bonus_id"),
                                         ("schema.type", "/meta")}, profile


class TestLifecycle:
    @pytest.mark.parametrize("path", [
        ("Pending", "Created", "Ongoing", "Ongoing", "Completed", "Reversed"),
        ("Pending", "Claimed", "Created", "Ongoing", "Lost"),
        ("Created", "Forfeited"), ("Pending", "Expired"), ("Ongoing", "AutoCompleted", "Reversed"),
        ("Created", "NotApplicable"),
    ])
    def test_a_path_that_can_happen_passes(self, send, path):
        assert [v.violations for v in steps(send, *path)] == [[]] * len(path)

    @pytest.mark.parametrize("path,expected", [
        (("Ongoing", "Pending"), "is Ongoing; expected Ongoing or a final status after it, got Pending"),
        (("Created", "Pending"), "is Created; expected Created, Claimed, Ongoing or a final status"),
        (("Expired", "Ongoing"), "is Expired; expected nothing (it is final) after it, got Ongoing"),
        (("Completed", "Forfeited"), "is Completed; expected only Reversed (it is completed)"),
        (("Reversed", "Reversed"), "is Reversed; expected nothing (it is final)"),
    ])
    def test_a_transition_that_cannot_happen_is_a_warning(self, send, path, expected):
        *_, last = steps(send, *path)
        assert last.valid and rules_of(last) == {("bonus.transition", "/status")}
        assert last.violations[0].severity == "warning" and expected in last.violations[0].message

    def test_the_bonus_takes_the_last_status_heard_and_keeps_its_history(self, send, runtime):
        key = f"ub-{next(_ids)}"
        steps(send, "Created", "Ongoing", "Ongoing", "Expired", "Ongoing", user_bonus_id=key, user_id="u-h")
        [doc] = runtime.store.entities("bonus", user_id="u-h")
        assert doc["key"] == key and doc["status"] == "Ongoing"
        assert [h["status"] for h in doc["history"]] == ["Created", "Ongoing", "Expired", "Ongoing"]


class TestChanged:
    @pytest.mark.parametrize("field,value", [("bonus_id", "reload-50"), ("currency", "SEK"), ("user_id", "u-2")])
    def test_the_same_user_bonus_with_another_value_is_refused(self, send, field, value):
        key = f"ub-{next(_ids)}"
        assert send(bonus(user_bonus_id=key)).valid
        verdict = send(bonus(user_bonus_id=key, status="Ongoing", **{field: value}))
        assert not verdict.valid and ("bonus.changed", f"/{field}") in rules_of(verdict)

    def test_the_same_user_bonus_with_a_new_amount_passes(self, send):
        key = f"ub-{next(_ids)}"
        assert send(bonus(user_bonus_id=key)).valid
        assert send(bonus(user_bonus_id=key, status="Ongoing", amount=15, locked_amount=5)).violations == []


class TestRetries:
    def test_the_same_event_again_is_a_retry(self, send):
        event = bonus()
        assert send(event).valid
        again = send(event)
        assert again.duplicate and rules_of(again) == {("activity.retry", "/user_bonus_id")}

    def test_the_same_status_at_the_same_time_with_another_payload_is_a_duplicate(self, send):
        event = bonus()
        send(event)
        assert rules_of(send({**event, "amount": 30})) == {("activity.duplicate", "/user_bonus_id")}


class TestCurrency:
    def test_a_bonus_in_another_currency_than_the_users_payments_is_a_warning(self, send, judge):
        pay = {"amount": 10, "currency": "EUR", "origin": "o", "payment_id": f"p-{next(_ids)}", "status": "Approved",
               "timestamp": now_iso(), "type": "Credit", "user_id": "u-cur", "vendor_id": "1"}
        assert judge(pay, marker="PAYMENT").valid
        verdict = send(bonus(user_id="u-cur", currency="SEK"))
        assert verdict.valid and rules_of(verdict) == {("bonus.currency", "/currency")}
        assert "PAYMENT " + pay["payment_id"] in verdict.violations[0].message

    def test_the_users_own_currency_passes(self, send):
        assert send(bonus(user_id="u-same")).valid
        assert send(bonus(user_id="u-same")).violations == []


class TestPlayerView:
    def test_bonuses_by_state(self, send, runtime):
        steps(send, "Created", "Ongoing", user_id="u-v")
        steps(send, "Created", "Completed", user_id="u-v")
        steps(send, "Pending", user_id="u-v")
        assert TYPE.views["player"](runtime.store, "u-v") == {
            "bonuses": {"count": 3, "open": 2, "by_status": {"Completed": 1, "Ongoing": 1, "Pending": 1}}}

    def test_a_user_without_bonuses_has_no_part(self, runtime):
        assert TYPE.views["player"](runtime.store, "nobody") is None
