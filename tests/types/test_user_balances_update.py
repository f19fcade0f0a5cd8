"""USER_BALANCES_UPDATE: its contract under each profile, over intake and real HTTP, and the latest balances."""
from __future__ import annotations

from itertools import count

import pytest

from simulator.types.user_balances_update import TYPE
from tests.conftest import now_iso
from tests.types._money import profile_sender, rules_of, sender

_users = count(1)
PATH = "/v1/integration/user/balances"


def balance(key="real_money", amount=100.5, currency="EUR", exchange_rate=1, **extra) -> dict:
    return {"key": key, "amount": amount, "currency": currency, "exchange_rate": exchange_rate, **extra}


def update(*balances, **overrides) -> dict:
    """A valid strict-profile balance update (real money and bonus money in EUR); None removes a field."""
    event = {"balances": list(balances) or [balance(), balance("bonus_money", 5)], "origin": "sub.example.com",
             "timestamp": now_iso(), "user_id": "u-1"}
    event.update(overrides)
    return {k: v for k, v in event.items() if v is not None}


@pytest.fixture
def send(judge):
    return sender(judge, "USER_BALANCES_UPDATE")


@pytest.fixture
def send_as(make_judge):
    """send_as("ft")(event): the verdict under a profile."""
    return profile_sender(make_judge, "USER_BALANCES_UPDATE")


def view(runtime, user):
    return TYPE.views["player"](runtime.store, user)


class TestContract:
    def test_a_valid_update_is_accepted(self, send):
        verdict = send(update())
        assert verdict.valid and verdict.violations == [] and verdict.event == "user_balances_update"

    def test_a_balance_without_its_key_is_refused_at_its_path(self, send):
        verdict = send(update({"amount": 1, "currency": "EUR", "exchange_rate": 1}))
        assert not verdict.valid and rules_of(verdict) == {("schema.required", "/balances/0/key")}

    def test_a_key_outside_ft_enum_is_refused(self, send):
        assert rules_of(send(update(balance("locked_money")))) == {("schema.enum", "/balances/0/key")}

    def test_the_rule_ids_are_listed_with_their_severities(self):
        assert {r.id: r.severity for r in TYPE.rule_info} == {
            "balances.duplicate_key": "error", "balances.currency": "warning", "balances.stale": "info"}


class TestOverHTTP:
    def test_a_valid_update_gets_200(self, client):
        status, body = client.request("POST", PATH, update())
        assert status == 200 and body["valid"]

    def test_an_invalid_update_gets_400_with_rule_and_path(self, client):
        status, body = client.request("POST", PATH, update(balance(amount="100")))
        assert status == 400 and [(v["rule"], v["path"]) for v in body["violations"]] == [
            ("schema.type", "/balances/0/amount")]

    def test_a_wrong_method_gets_405_naming_post(self, client):
        status, body = client.request("PUT", PATH, update())
        assert status == 405 and "expected POST for USER_BALANCES_UPDATE" in body["message"]


class TestProfiles:
    def test_an_empty_list_an_empty_origin_and_a_bad_currency_only_ft_takes(self, send_as):
        strict = send_as("strict")(update(balance(currency="eur", exchange_rate=0), origin=""))
        assert rules_of(strict) == {("schema.enum", "/balances/0/currency"), ("schema.minLength", "/origin"),
                                    ("schema.exclusiveMinimum", "/balances/0/exchange_rate")}
        assert rules_of(send_as("strict")(update(balances=[]))) == {("schema.minItems", "/balances")}
        ft = send_as("ft")
        assert ft(update(balance(currency="eur", exchange_rate=0), origin="")).valid
        assert ft(update(balances=[], user_id="u-empty")).valid

    def test_lenient_is_strict(self, send_as):
        assert TYPE.profile_def("lenient") == "strict"
        assert rules_of(send_as("lenient")(update(balances=[]))) == {("schema.minItems", "/balances")}

    def test_the_docs_one_digit_hour_only_ft_takes(self, send_as):
        assert rules_of(send_as("strict")(update(timestamp="2015-03-02T8:27:58Z"))) == {
            ("schema.format", "/timestamp")}
        assert not any(v.rule.startswith("schema.") for v in
                       send_as("ft")(update(timestamp="2015-03-02T8:27:58Z")).violations)

    def test_what_every_profile_refuses_with_its_source(self, send_as):
        for profile in ("strict", "ft"):
            verdict = send_as(profile)(update(balance(amount=-1), user_id=""))
            assert rules_of(verdict) == {("schema.minimum", "/balances/0/amount"), ("schema.minLength", "/user_id")}
        assert {v.source for v in send_as("ft")(update(user_id="")).violations} == {"FT's validator"}

    def test_a_field_unknown_inside_a_balance_passes_every_profile(self, send_as):
        for profile in ("strict", "ft"):
            assert send_as(profile)(update(balance(wallet="main"))).valid


class TestDuplicateKey:
    def test_the_same_key_twice_is_refused_at_the_second(self, send):
        verdict = send(update(balance(), balance(amount=3)))
        assert not verdict.valid and rules_of(verdict) == {("balances.duplicate_key", "/balances/1/key")}
        assert "first at /balances/0" in verdict.violations[0].message

    def test_each_key_once_passes(self, send):
        assert send(update(balance(), balance("bonus_money"))).violations == []


class TestCurrency:
    def test_a_balance_in_another_currency_than_the_users_payments_is_a_warning(self, send, judge):
        user = f"u-{next(_users)}"
        pay = {"amount": 10, "currency": "SEK", "origin": "o", "payment_id": f"p-{user}", "status": "Approved",
               "timestamp": now_iso(), "type": "Credit", "user_id": user, "vendor_id": "1"}
        assert judge(pay, marker="PAYMENT").valid
        verdict = send(update(balance(currency="SEK"), balance("bonus_money", currency="EUR"), user_id=user))
        assert verdict.valid and rules_of(verdict) == {("balances.currency", "/balances/1/currency")}
        assert "expected SEK" in verdict.violations[0].message

    def test_two_currencies_in_a_first_event_is_a_warning(self, send):
        verdict = send(update(balance(), balance("bonus_money", currency="USD"), user_id=f"u-{next(_users)}"))
        assert rules_of(verdict) == {("balances.currency", "/balances/1/currency")}
        assert "real_money balance in this event" in verdict.violations[0].message

    def test_one_currency_throughout_passes(self, send):
        user = f"u-{next(_users)}"
        assert send(update(user_id=user)).violations == []
        assert send(update(user_id=user)).violations == []


class TestLatestBalances:
    def test_the_view_shows_the_latest_balance_per_key_as_decimal_text(self, send, runtime):
        user = f"u-{next(_users)}"
        send(update(balance(amount=100.5), balance("bonus_money", 5), user_id=user))
        send(update(balance(amount=0.1), user_id=user))
        latest = view(runtime, user)["balances"]
        assert {k: (b["amount"], b["currency"]) for k, b in latest.items()} == {
            "real_money": ("0.10", "EUR"), "bonus_money": ("5.00", "EUR")}

    def test_an_older_update_is_stale_and_leaves_the_stored_balance(self, send, runtime):
        user = f"u-{next(_users)}"
        assert send(update(balance(amount=50), user_id=user)).valid
        old = send(update(balance(amount=70), user_id=user, timestamp=now_iso(-0.5)))
        assert old.valid and rules_of(old) == {("balances.stale", "/balances/0")}
        assert old.violations[0].severity == "info"
        assert view(runtime, user)["balances"]["real_money"]["amount"] == "50.00"

    def test_a_newer_update_is_not_stale(self, send):
        user = f"u-{next(_users)}"
        send(update(balance(amount=50), user_id=user, timestamp=now_iso(-0.5)))
        assert send(update(balance(amount=70), user_id=user)).violations == []

    def test_a_refused_update_moves_nothing_and_no_balances_means_no_part(self, send, runtime):
        user = f"u-{next(_users)}"
        send(update(balance(), balance(amount=1), user_id=user))
        assert view(runtime, user) is None
