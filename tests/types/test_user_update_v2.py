"""USER_UPDATE_V2: the player's details changed; counted per user."""
from tests.types._users import event, found, http_contract, rules, schema_errors

M = "USER_UPDATE_V2"


class TestContract:
    def test_a_valid_update_is_accepted(self, judge):
        assert judge(event(), M).violations == []

    def test_an_update_without_timestamp_is_refused_at_its_path(self, judge):
        v = judge(event(timestamp=None), M)
        assert not v.valid and found(v) == {("schema.required", "/timestamp")}

    def test_over_http_put_is_200_or_400_and_delete_is_405(self, server):
        http_contract(server, M, "PUT", "/v2/integration/user", event(user_id="h1"), event(origin=7), "DELETE",
                      ("schema.type", "/origin"))

    def test_a_field_ft_does_not_define_is_a_warning_in_every_profile(self, make_judge):
        for profile in ("strict", "lenient", "ft"):
            v = make_judge(profile=profile)(event(country="SE"), M)
            assert v.valid and found(v) == {("payload.unknown_field", "/country")}


class TestProfiles:
    def test_ft_takes_a_bare_time_and_an_empty_origin(self, make_judge):
        odd = event(timestamp="15:04:05", origin="")
        assert make_judge(profile="ft")(odd, M).valid
        assert schema_errors(make_judge(profile="strict")(odd, M)) == {("schema.format", "/timestamp"),
                                                                       ("schema.minLength", "/origin")}

    def test_lenient_takes_an_integer_user_id(self, make_judge):
        assert make_judge(profile="lenient")(event(user_id=1), M).valid
        assert not make_judge(profile="ft")(event(user_id=1), M).valid


class TestStateAndView:
    def test_updates_are_counted_and_a_retry_once(self, judge, runtime):
        same = event(user_id="v1", timestamp="2026-01-01T00:00:00Z")
        judge(same, M)
        assert rules(judge(same, M)) >= {"activity.retry"}
        judge(event(user_id="v1", timestamp="2026-01-02T00:00:00Z"), M)
        view = runtime.registry.types["user_update_v2"].views["player"](runtime.store, "v1")
        assert view == {"updates": {"events": 2, "first": "2026-01-01T00:00:00.000000Z",
                                    "last": "2026-01-02T00:00:00.000000Z"}}
        assert runtime.registry.types["user_update_v2"].views["player"](runtime.store, "v2") is None
