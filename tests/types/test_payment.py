"""PAYMENT: its contract under each profile, over intake and real HTTP, and the lifecycle by payment_id."""
from __future__ import annotations

from itertools import count

import pytest

from simulator.types.payment import TYPE
from simulator.types.payment.book import SETTLED
from tests.conftest import now_iso
from tests.types._money import profile_sender, rules_of, sender

_ids = count(1)
PATH = "/v1/integration/payment"


def payment(**overrides) -> dict:
    """A valid strict-profile payment (a Requested deposit), timestamped now; None removes a field."""
    event = {"amount": 10.5, "currency": "EUR", "origin": "sub.example.com", "payment_id": f"pay-{next(_ids)}",
             "status": "Requested", "timestamp": now_iso(), "type": "Credit", "user_id": "u-1",
             "vendor_id": "562", "vendor_name": "Skrill", "exchange_rate": 1, "fee_amount": 0}
    event.update(overrides)
    return {k: v for k, v in event.items() if v is not None}


@pytest.fixture
def send(judge):
    return sender(judge, "PAYMENT")


@pytest.fixture
def send_as(make_judge):
    """send_as("ft")(event): the verdict under a profile."""
    return profile_sender(make_judge, "PAYMENT")


def steps(send, *statuses, **fields):
    """One payment through the statuses given; the verdict of each."""
    pid = fields.pop("payment_id", f"pay-{next(_ids)}")
    return [send(payment(payment_id=pid, status=s, **fields)) for s in statuses]


class TestContract:
    def test_a_valid_payment_is_accepted(self, send):
        verdict = send(payment())
        assert verdict.valid and verdict.violations == [] and verdict.event == "payment"

    def test_a_missing_payment_id_is_refused_at_its_path(self, send):
        verdict = send(payment(payment_id=None))
        assert not verdict.valid and rules_of(verdict) == {("schema.required", "/payment_id")}

    def test_a_status_outside_ft_enum_is_refused(self, send):
        verdict = send(payment(status="Pending"))
        assert rules_of(verdict) == {("schema.enum", "/status")} and "Requested" in verdict.violations[0].message

    def test_the_rule_ids_are_listed_with_their_severities(self):
        assert {r.id: r.severity for r in TYPE.rule_info} == {
            "payment.transition": "error", "payment.changed": "error", "payment.sense": "warning",
            "payment.zero_amount": "warning", "payment.currency": "warning"}


class TestOverHTTP:
    def test_a_valid_payment_gets_200(self, client):
        status, body = client.request("POST", PATH, payment())
        assert status == 200 and body["valid"] and body["violations"] == []

    def test_an_invalid_payment_gets_400_with_rule_and_path(self, client):
        status, body = client.request("POST", PATH, payment(amount=-1))
        assert status == 400 and [(v["rule"], v["path"]) for v in body["violations"]] == [("schema.minimum", "/amount")]

    def test_a_lifecycle_error_gets_400(self, client):
        pid = f"pay-{next(_ids)}"
        assert client.request("POST", PATH, payment(payment_id=pid, status="Rejected"))[0] == 200
        status, body = client.request("POST", PATH, payment(payment_id=pid, status="Approved"))
        assert status == 400 and body["violations"][0]["rule"] == "payment.transition"

    @pytest.mark.parametrize("method", ["GET", "PUT"])
    def test_a_wrong_method_gets_405_naming_post(self, client, method):
        status, body = client.request(method, PATH, payment() if method == "PUT" else None)
        assert status == 405 and "expected POST for PAYMENT" in body["message"]


class TestProfiles:
    def test_integer_ids_strict_refuses_lenient_and_ft_take(self, send_as):
        event = payment(payment_id=12345, vendor_id=562)
        strict = send_as("strict")(event)
        assert rules_of(strict) == {("schema.type", "/payment_id"), ("schema.type", "/vendor_id")}
        assert {v.source for v in strict.violations} == {"ftsim (ids are non-empty strings)"}
        assert send_as("lenient")(payment(payment_id=12346, vendor_id=562)).valid
        assert send_as("ft")(payment(payment_id=12347, vendor_id=562)).valid

    def test_a_fractional_id_only_ft_takes(self, send_as):
        assert rules_of(send_as("lenient")(payment(payment_id=7.5))) == {("schema.type", "/payment_id")}
        assert send_as("ft")(payment(payment_id=7.5)).valid

    def test_an_empty_payment_id_only_ft_takes(self, send_as):
        assert rules_of(send_as("strict")(payment(payment_id=""))) == {("schema.minLength", "/payment_id")}
        assert rules_of(send_as("lenient")(payment(payment_id=""))) == {("schema.minLength", "/payment_id")}
        under_ft = send_as("ft")(payment(payment_id=""))  # FT's schema takes it; ftsim's shared rule says why not
        assert rules_of(under_ft) == {("activity.empty_id", "/payment_id")}

    def test_a_currency_not_in_iso_4217_only_ft_takes(self, send_as):
        strict = send_as("strict")(payment(currency="EURO"))
        assert rules_of(strict) == {("schema.enum", "/currency")} and strict.violations[0].source == "ftsim (ISO 4217)"
        assert rules_of(send_as("lenient")(payment(currency="EURO"))) == {("schema.enum", "/currency")}
        assert send_as("ft")(payment(currency="EURO")).valid

    def test_the_docs_one_digit_hour_only_ft_takes(self, send_as):
        event = payment(timestamp="2015-03-02T8:27:58.721607Z")
        strict = send_as("strict")(event)
        assert rules_of(strict) == {("schema.format", "/timestamp")} and strict.violations[0].source == "ftsim (RFC 3339)"
        assert not any(v.rule.startswith("schema.") for v in send_as("ft")(event).violations)

    def test_a_bare_date_passes_ft_but_a_malformed_one_does_not(self, send_as):
        assert send_as("ft")(payment(timestamp="2015-03-02")).valid
        assert rules_of(send_as("ft")(payment(timestamp="2015-02-30"))) == {("schema.format", "/timestamp")}

    def test_a_rate_of_zero_and_a_fractional_count_only_ft_takes(self, send_as):
        event = payment(exchange_rate=0, deposit_count=2.5)
        assert rules_of(send_as("strict")(event)) == {("schema.exclusiveMinimum", "/exchange_rate"),
                                                      ("schema.type", "/deposit_count")}
        assert send_as("ft")(payment(exchange_rate=0, deposit_count=2.5)).valid

    def test_a_negative_vendor_id_number_every_profile_refuses_but_ft_takes_it_as_text(self, send_as):
        ft = send_as("ft")(payment(vendor_id=-1))
        assert rules_of(ft) == {("schema.minimum", "/vendor_id")} and ft.violations[0].source == "FT's validator"
        assert send_as("ft")(payment(vendor_id="-1")).valid
        assert rules_of(send_as("lenient")(payment(vendor_id=-1))) == {("schema.minimum", "/vendor_id")}

    def test_an_unknown_field_is_a_warning_in_ft_not_a_schema_verdict(self, send_as):
        verdict = send_as("ft")(payment(channel="web"))
        assert verdict.valid and rules_of(verdict) == {("payload.unknown_field", "/channel")}


class TestLifecycle:
    def test_requested_then_approved_is_accepted_and_kept(self, send, runtime):
        pid = f"pay-{next(_ids)}"
        assert all(v.valid and not v.violations for v in steps(send, "Requested", "Approved", payment_id=pid))
        [doc] = runtime.store.entities("payment", user_id="u-1", status="Approved")
        assert doc["key"] == pid and [h["status"] for h in doc["history"]] == ["Requested", "Approved"]

    @pytest.mark.parametrize("first,then", [("Requested", "Rejected"), ("Requested", "Cancelled"),
                                            ("Approved", "Rollback")])
    def test_a_transition_that_can_happen_passes(self, send, first, then):
        assert [v.valid and not v.violations for v in steps(send, first, then)] == [True, True]

    @pytest.mark.parametrize("first,then,expected", [
        ("Rejected", "Approved", "is Rejected; expected nothing (it is final) after it, got Approved"),
        ("Cancelled", "Requested", "is Cancelled; expected nothing (it is final)"),
        ("Approved", "Rejected", "is Approved; expected Rollback after it, got Rejected"),
        ("Requested", "Rollback", "is Requested; expected Approved or Rejected or Cancelled after it"),
    ])
    def test_a_transition_that_cannot_happen_is_refused(self, send, first, then, expected):
        _, second = steps(send, first, then)
        assert not second.valid and rules_of(second) == {("payment.transition", "/status")}
        assert expected in second.violations[0].message

    def test_nothing_follows_a_rollback(self, send):
        *_, last = steps(send, "Approved", "Rollback", "Cancelled")
        assert rules_of(last) == {("payment.transition", "/status")}

    def test_an_approved_again_after_its_rollback_is_a_conflicting_duplicate(self, send):
        *_, last = steps(send, "Approved", "Rollback", "Approved")  # payment_id + status seen before
        assert rules_of(last) == {("activity.duplicate", "/payment_id")}

    def test_a_rollback_of_a_payment_never_approved_is_refused(self, send):
        verdict = send(payment(status="Rollback"))
        assert rules_of(verdict) == {("payment.transition", "/status")} and "never Approved" in verdict.violations[0].message

    def test_a_step_back_sent_late_says_it_looks_out_of_order(self, send):
        pid = f"pay-{next(_ids)}"
        assert send(payment(payment_id=pid, status="Approved")).valid
        late = send(payment(payment_id=pid, status="Requested", timestamp=now_iso(-0.5)))
        assert rules_of(late) == {("payment.transition", "/status")} and "out of order" in late.violations[0].message

    def test_a_refused_transition_moves_nothing(self, send, runtime):
        pid = f"pay-{next(_ids)}"
        steps(send, "Rejected", "Approved", payment_id=pid)
        [doc] = runtime.store.entities("payment", user_id="u-1")
        assert doc["status"] == "Rejected" and len(doc["history"]) == 1


class TestChanged:
    @pytest.mark.parametrize("field,value,path", [("amount", 11, "/amount"), ("currency", "SEK", "/currency"),
                                                  ("user_id", "u-2", "/user_id"), ("type", "Debit", "/type")])
    def test_the_same_payment_with_another_value_is_refused(self, send, field, value, path):
        pid = f"pay-{next(_ids)}"
        assert send(payment(payment_id=pid)).valid
        verdict = send(payment(payment_id=pid, status="Approved", **{field: value}))
        assert not verdict.valid and ("payment.changed", path) in rules_of(verdict)

    def test_the_same_amount_written_otherwise_and_a_card_step_pass(self, send):
        pid = f"pay-{next(_ids)}"
        assert send(payment(payment_id=pid, amount=10.5, type="Authorization")).violations == []
        assert send(payment(payment_id=pid, amount=10.50, status="Approved", type="Capture")).violations == []


class TestRetries:
    def test_the_same_payment_and_status_again_is_a_retry_counted_once(self, send, runtime):
        event = payment(status="Approved")
        assert send(event).valid
        again = send(event)
        assert again.valid and again.duplicate and rules_of(again) == {("activity.retry", "/payment_id")}
        view = TYPE.views["player"](runtime.store, "u-1")
        assert view["payments"]["deposits"] == {"EUR": {"count": 1, "sum": "10.50"}}

    def test_the_same_payment_and_status_with_another_payload_is_a_duplicate(self, send):
        event = payment(status="Approved")
        assert send(event).valid
        verdict = send({**event, "note": "changed"})
        assert not verdict.valid and rules_of(verdict) == {("activity.duplicate", "/payment_id")}


class TestStatelessRules:
    def test_a_credit_with_only_the_withdrawal_count_looks_swapped(self, send):
        verdict = send(payment(withdraw_count=3))
        assert verdict.valid and rules_of(verdict) == {("payment.sense", "/type")}
        assert verdict.violations[0].severity == "warning" and "type Debit" in verdict.violations[0].message

    def test_a_debit_with_only_the_deposit_count_looks_swapped(self, send):
        assert rules_of(send(payment(type="Debit", deposit_count=2))) == {("payment.sense", "/type")}

    @pytest.mark.parametrize("counts", [{"deposit_count": 3}, {"deposit_count": 3, "withdraw_count": 1}, {}])
    def test_a_credit_with_its_own_count_passes(self, send, counts):
        assert send(payment(**counts)).violations == []

    def test_a_zero_amount_is_a_warning(self, send):
        verdict = send(payment(amount=0))
        assert verdict.valid and rules_of(verdict) == {("payment.zero_amount", "/amount")}

    def test_a_small_amount_passes(self, send):
        assert send(payment(amount=0.01)).violations == []


class TestCurrency:
    def test_another_currency_than_the_users_first_is_a_warning(self, send):
        assert send(payment(user_id="u-cur")).valid
        verdict = send(payment(user_id="u-cur", currency="SEK"))
        assert verdict.valid and rules_of(verdict) == {("payment.currency", "/currency")}
        assert "expected EUR" in verdict.violations[0].message and "got SEK" in verdict.violations[0].message

    def test_the_same_currency_and_a_first_payment_pass(self, send):
        assert send(payment(user_id="u-one", currency="SEK")).violations == []
        assert send(payment(user_id="u-one", currency="SEK")).violations == []


class TestPlayerView:
    def test_approved_deposits_and_withdrawals_per_currency_rollbacks_reversed(self, send, runtime):
        user = "u-view"
        steps(send, "Requested", "Approved", user_id=user, amount=0.1)
        steps(send, "Approved", user_id=user, amount=0.2)
        steps(send, "Approved", "Rollback", user_id=user, amount=5)
        steps(send, "Requested", user_id=user, amount=7)
        steps(send, "Approved", user_id=user, amount=3, type="Debit")
        steps(send, "Approved", user_id=user, amount=4, type="Debit", currency="SEK")
        view = TYPE.views["player"](runtime.store, user)["payments"]
        assert view["deposits"] == {"EUR": {"count": 2, "sum": "0.30"}}
        assert view["withdrawals"] == {"EUR": {"count": 1, "sum": "3.00"}, "SEK": {"count": 1, "sum": "4.00"}}
        assert view["by_status"] == {"Approved": 4, "Requested": 1, "Rollback": 1}

    def test_a_user_without_payments_has_no_part(self, runtime):
        assert TYPE.views["player"](runtime.store, "nobody") is None


class TestReadiness:
    def test_a_payment_left_requested_fails_and_settling_it_passes(self, send, runtime):
        pid = f"pay-{next(_ids)}"
        send(payment(payment_id=pid, user_id="u-r"))
        passed, detail = SETTLED.judge(SETTLED.gather(runtime.store))
        assert not passed and f"u-r/{pid}" in detail
        send(payment(payment_id=pid, user_id="u-r", status="Approved"))
        assert SETTLED.judge(SETTLED.gather(runtime.store)) == (True, "all 1 payments settled")
