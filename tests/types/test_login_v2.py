"""LOGIN_V2: logins per user, judged against the user registry."""
from tests.types._users import event, found, http_contract, rules, schema_errors, source

M = "LOGIN_V2"
REG = "USER_CREATE_V2"


def view(runtime, uid):
    return runtime.registry.types["login_v2"].views["player"](runtime.store, uid)


class TestContract:
    def test_a_valid_login_is_accepted(self, judge):
        v = judge(event(ip_address="2001:db8::1", is_verified=True, is_impersonated=False, user_agent="UA",
                        meta={"k": 1}, user_details={"k": 2}, skip_publishing=False), M)
        assert v.valid and v.violations == []

    def test_a_login_with_a_non_boolean_flag_is_refused_at_its_path(self, judge):
        v = judge(event(is_verified="true"), M)
        assert not v.valid and found(v) == {("schema.type", "/is_verified")}

    def test_over_http_post_is_200_or_400_and_put_is_405(self, server):
        http_contract(server, M, "POST", "/v2/integration/login", event(user_id="h1"), event(meta=[]), "PUT",
                      ("schema.type", "/meta"))


class TestIpAddress:
    def test_a_login_from_something_that_is_not_an_address_is_a_warning(self, judge):
        v = judge(event(ip_address="10.0.0"), M)
        assert v.valid and found(v) == {("user.ip_address", "/ip_address")}

    def test_an_ipv4_login_passes(self, judge):
        assert judge(event(ip_address="203.0.113.9"), M).violations == []


class TestProfiles:
    def test_ft_takes_a_bare_date_strict_and_lenient_do_not(self, make_judge):
        bare = event(timestamp="2026-01-02")
        assert make_judge(profile="ft")(bare, M).valid
        for profile in ("strict", "lenient"):
            v = make_judge(profile=profile)(bare, M)
            assert schema_errors(v) == {("schema.format", "/timestamp")}
            assert source(v, "/timestamp") == "ftsim (RFC 3339)"

    def test_ft_refuses_a_time_that_go_cannot_read(self, make_judge):
        v = make_judge(profile="ft")(event(timestamp="2026-01-02 03:04:05Z"), M)
        assert schema_errors(v) == {("schema.format", "/timestamp")} and source(v, "/timestamp") == "FT's validator"

    def test_lenient_takes_an_integer_user_id(self, make_judge):
        assert make_judge(profile="lenient")(event(user_id=7), M).valid
        assert schema_errors(make_judge(profile="strict")(event(user_id=7), M)) == {("schema.type", "/user_id")}

    def test_an_empty_origin_passes_ft_only(self, make_judge):
        assert make_judge(profile="ft")(event(origin=""), M).valid
        assert schema_errors(make_judge(profile="strict")(event(origin=""), M)) == {("schema.minLength", "/origin")}


class TestBeforeRegistration:
    def test_a_login_of_an_unregistered_user_once_the_run_registered_someone(self, judge):
        judge(event(user_id="r1"), REG)
        v = judge(event(user_id="r2"), M)
        assert v.valid and found(v) == {("login.before_registration", "/user_id")}
        assert v.violations[0].severity == "warning" and "'r2'" in v.violations[0].message

    def test_a_login_after_registration_passes(self, judge):
        judge(event(user_id="r1"), REG)
        assert judge(event(user_id="r1"), M).violations == []

    def test_a_login_of_a_migrated_user_passes(self, judge):
        judge(event(user_id="r1"), REG)
        judge(event(user_id="m1", migration_reference="ref"), "USER_MIGRATION")
        assert judge(event(user_id="m1"), M).violations == []

    def test_a_run_of_logins_only_is_not_flooded(self, judge):
        assert judge(event(user_id="a"), M).violations == []
        assert judge(event(user_id="b"), M).violations == []


class TestRetries:
    def test_the_same_login_again_is_a_retry_counted_once(self, judge, runtime):
        same = event(user_id="t1")
        judge(same, M)
        v = judge(same, M)
        assert v.duplicate and rules(v) == {"activity.retry"}
        assert view(runtime, "t1")["logins"]["count"] == 1

    def test_another_payload_for_the_same_user_and_instant_is_a_conflicting_duplicate(self, judge):
        first = event(user_id="t2")
        judge(first, M)
        v = judge({**first, "user_agent": "other"}, M)
        assert not v.valid and rules(v) == {"activity.duplicate"}


class TestPlayerViewAndReadiness:
    def test_count_first_last_and_what_the_last_login_carried(self, judge, runtime):
        judge(event(user_id="v1", timestamp="2026-01-01T10:00:00Z", ip_address="192.0.2.1"), M)
        judge(event(user_id="v1", timestamp="2026-01-03T10:00:00Z", ip_address="192.0.2.3"), M)
        judge(event(user_id="v1", timestamp="2026-01-02T10:00:00Z", ip_address="192.0.2.2"), M)
        logins = view(runtime, "v1")["logins"]
        assert logins["count"] == 3 and logins["first"] == "2026-01-01T10:00:00.000000Z"
        assert logins["last"] == "2026-01-03T10:00:00.000000Z" and logins["ip_address"] == "192.0.2.3"
        assert logins["registered"] is False
        assert view(runtime, "nobody") is None

    def test_a_later_registration_makes_earlier_logins_registered(self, judge, runtime):
        item = runtime.registry.types["login_v2"].readiness[0]
        judge(event(user_id="w1"), M)
        passed, detail = item.judge(item.gather(runtime.store))
        assert not passed and "w1" in detail
        judge(event(user_id="w1"), REG)
        passed, detail = item.judge(item.gather(runtime.store))
        assert passed and view(runtime, "w1")["logins"]["registered"] is True

    def test_readiness_passes_with_no_logins(self, runtime):
        item = runtime.registry.types["login_v2"].readiness[0]
        assert item.judge(item.gather(runtime.store)) == (True, "no logins")
