"""USER_CREATE_V2: registrations, the user registry, and the rules every user type shares."""
import json

import pytest

from tests.conftest import casino_event
from tests.types._users import event, found, http_contract, rules, schema_errors, source

M = "USER_CREATE_V2"


class TestContract:
    def test_a_valid_registration_is_accepted(self, judge):
        v = judge(event(ip_address="192.0.2.10", user_agent="Mozilla/5.0", note="welcome"), M)
        assert v.valid and v.violations == []

    def test_a_registration_without_user_id_is_refused_at_its_path(self, judge):
        v = judge(event(user_id=None), M)
        assert not v.valid and found(v) == {("schema.required", "/user_id")}

    def test_over_http_post_is_200_or_400_and_get_is_405(self, server):
        http_contract(server, M, "POST", "/v2/integration/user", event(user_id="h1"), event(user_id=""), "GET",
                      ("schema.minLength", "/user_id"))

    def test_put_on_the_same_path_is_an_update_not_a_registration(self, server):
        from tests.conftest import Client
        status, body = Client(server.url).request("PUT", "/v2/integration/user", event(user_id="h2"))
        assert status == 200
        assert server.runtime.store.entities("user", user_id="h2") == []
        assert server.runtime.store.entities("user_update", user_id="h2")[0]["events"] == 1


class TestProfiles:
    def test_strict_wants_rfc3339_but_ft_takes_the_docs_one_digit_hour(self, make_judge):
        lax = event(timestamp="2015-03-02T8:27:58.721607Z")
        strict, ft = make_judge(profile="strict"), make_judge(profile="ft")
        s = strict(lax, M)
        assert schema_errors(s) == {("schema.format", "/timestamp")} and source(s, "/timestamp") == "ftsim (RFC 3339)"
        assert ft(lax, M).valid

    def test_strict_and_lenient_want_an_origin_ft_takes_an_empty_one(self, make_judge):
        empty = event(origin="")
        assert schema_errors(make_judge(profile="strict")(empty, M)) == {("schema.minLength", "/origin")}
        assert schema_errors(make_judge(profile="lenient")(empty, M)) == {("schema.minLength", "/origin")}
        assert make_judge(profile="ft")(empty, M).valid

    def test_lenient_takes_an_integer_user_id_strict_and_ft_do_not(self, make_judge):
        numeric = event(user_id=52530)
        assert make_judge(profile="lenient")(numeric, M).valid
        for profile in ("strict", "ft"):
            v = make_judge(profile=profile)(numeric, M)
            assert schema_errors(v) == {("schema.type", "/user_id")}
            assert source(v, "/user_id") == "FT's validator"

    def test_every_profile_needs_user_id_timestamp_and_origin(self, make_judge):
        for profile in ("strict", "lenient", "ft"):
            v = make_judge(profile=profile)({"ip_address": "192.0.2.1"}, M)
            assert schema_errors(v) == {("schema.required", "/user_id"), ("schema.required", "/timestamp"),
                                        ("schema.required", "/origin")}


class TestRegisteredTwice:
    def test_a_second_registration_with_another_payload_is_a_warning_and_the_first_stands(self, judge, runtime):
        first = event(user_id="u7", ip_address="192.0.2.1")
        assert judge(first, M).valid
        v = judge(event(user_id="u7", ip_address="192.0.2.2"), M)
        assert v.valid and found(v) == {("user.registered_twice", "/user_id")}
        assert v.violations[0].severity == "warning"
        doc = runtime.store.entities("user", user_id="u7")[0]
        assert doc["registration"]["ip_address"] == "192.0.2.1" and doc["registrations"] == 2

    def test_one_registration_per_user_is_not_flagged(self, judge):
        assert judge(event(user_id="u8"), M).violations == []
        assert judge(event(user_id="u9"), M).violations == []

    def test_the_same_registration_again_is_a_retry_counted_once(self, judge, runtime):
        same = event(user_id="u10")
        judge(same, M)
        v = judge(same, M)
        assert v.valid and v.duplicate and rules(v) == {"activity.retry"}
        assert runtime.store.entities("user", user_id="u10")[0]["registrations"] == 1

    def test_a_registration_with_a_number_kept_exact_is_judged_and_its_retry_recognised(self, judge, runtime):
        """A long number makes parsing keep it as Decimal (the slow way); the retry check must hash it too."""
        base = json.dumps(event(user_id="u11"), separators=(",", ":"))[:-1].encode()

        def body(n: str) -> bytes:
            return base + f',"score":{n}}}'.encode()
        first = judge(body("1.00000000000000000001"), M)
        assert first.valid and rules(first) == {"payload.unknown_field"}
        again = judge(body("1.00000000000000000001"), M)
        assert again.duplicate and rules(again) == {"payload.unknown_field", "activity.retry"}
        other = judge(body("1.00000000000000000002"), M)
        assert rules(other) == {"payload.unknown_field", "user.registered_twice"}
        assert runtime.store.entities("user", user_id="u11")[0]["registrations"] == 2


class TestIpAddress:
    @pytest.mark.parametrize("bad", ["999.1.1.1", "localhost", "192.0.2.1, 10.0.0.1"])
    def test_an_ip_address_that_is_not_one_is_a_warning(self, judge, bad):
        v = judge(event(ip_address=bad), M)
        assert v.valid and found(v) == {("user.ip_address", "/ip_address")} and bad in v.violations[0].message

    @pytest.mark.parametrize("good", ["192.0.2.10", "2001:db8::1"])
    def test_ipv4_and_ipv6_pass(self, judge, good):
        assert judge(event(ip_address=good), M).violations == []


class TestUnknownUser:
    """user.unknown is a shared book: it judges casino events too; off unless a run turns it on."""

    def test_off_by_default(self, judge):
        assert judge(casino_event(user_id="nobody"), "CASINO").violations == []

    def test_when_on_a_casino_event_for_a_user_never_registered_is_flagged(self, make_judge):
        judge = make_judge(severity=["user.unknown=warning"])
        v = judge(casino_event(user_id="nobody"), "CASINO")
        assert v.valid and found(v) == {("user.unknown", "/user_id")} and "'nobody'" in v.violations[0].message

    def test_when_on_a_registered_or_migrated_user_passes(self, make_judge):
        judge = make_judge(severity=["user.unknown=warning"])
        assert judge(event(user_id="52530"), M).violations == []  # the registration itself is never flagged
        assert judge(casino_event(user_id="52530"), "CASINO").violations == []
        assert judge(event(user_id="m1", migration_reference="r1"), "USER_MIGRATION").violations == []
        assert judge(event(user_id="m1"), "LOGIN_V2").violations == []

    def test_when_on_it_judges_the_other_user_types_too(self, make_judge):
        judge = make_judge(severity=["user.unknown=warning"])
        assert ("user.unknown", "/user_id") in found(judge(event(user_id="x"), "USER_UPDATE_V2"))
        assert ("user.unknown", "/user_id") in found(judge(event(user_id="x", tags="vip"), "USER_TAG"))

    def test_a_refused_registration_does_not_make_the_user_known(self, make_judge):
        judge = make_judge(severity=["user.unknown=warning"])
        assert not judge(event(user_id="z", origin=""), M).valid
        assert ("user.unknown", "/user_id") in found(judge(casino_event(user_id="z"), "CASINO"))


class TestPlayerView:
    def test_the_registration_and_what_it_carried(self, judge, runtime):
        judge(event(user_id="p1", timestamp="2026-01-02T03:04:05Z", ip_address="192.0.2.7", user_agent="UA"), M)
        view = runtime.registry.types["user_create_v2"].views["player"](runtime.store, "p1")
        assert view == {"registration": {"at": "2026-01-02T03:04:05.000000Z", "origin": "www.brand.com",
                                         "ip_address": "192.0.2.7", "user_agent": "UA", "registrations": 1}}

    def test_nothing_for_a_user_never_registered(self, runtime):
        assert runtime.registry.types["user_create_v2"].views["player"](runtime.store, "p0") is None


class TestLenientIds:
    def test_an_integer_user_id_registers_the_same_user_as_its_text(self, make_judge):
        judge = make_judge(profile="lenient", severity=["user.unknown=warning"])
        assert judge(event(user_id=52530), M).valid
        assert judge(casino_event(user_id="52530"), "CASINO").violations == []
