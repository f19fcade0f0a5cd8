"""USER_CONSENTS_V2: the player's consents changed; the latest answer per consent type when `consents` is sent."""
from tests.types._users import event, found, http_contract, schema_errors, source

M = "USER_CONSENTS_V2"
P = "/v2/integration/user/consents"


def view(runtime, uid):
    return runtime.registry.types["user_consents_v2"].views["player"](runtime.store, uid)


class TestContract:
    def test_a_valid_consents_event_is_accepted(self, judge):
        assert judge(event(), M).violations == []
        assert judge(event(consents=[{"type": "email", "opted_in": True}, {"type": "sms", "opted_in": False}]),
                     M).violations == []

    def test_opted_in_as_text_is_refused_at_its_path(self, judge):
        v = judge(event(consents=[{"type": "email", "opted_in": "yes"}]), M)
        assert not v.valid and found(v) == {("schema.type", "/consents/0/opted_in")}

    def test_over_http_put_is_200_or_400_and_post_is_405(self, server):
        http_contract(server, M, "PUT", P, event(user_id="h1"), event(consents={"email": True}), "POST",
                      ("schema.type", "/consents"))


class TestProfiles:
    def test_consents_are_checked_by_strict_and_lenient_not_by_ft(self, make_judge):
        odd = event(consents=[{"type": "fax", "opted_in": True}])
        for profile in ("strict", "lenient"):
            v = make_judge(profile=profile)(odd, M)
            assert schema_errors(v) == {("schema.enum", "/consents/0/type")}
            assert source(v, "/consents/0/type") == "FT operator API (GetConsents items)"
        assert make_judge(profile="ft")(odd, M).valid

    def test_lenient_takes_an_integer_user_id(self, make_judge):
        assert make_judge(profile="lenient")(event(user_id=3), M).valid
        assert not make_judge(profile="strict")(event(user_id=3), M).valid


class TestStateAndView:
    def test_latest_answer_per_consent_type(self, judge, runtime):
        judge(event(user_id="c1", timestamp="2026-01-01T00:00:00Z", consents=[{"type": "email", "opted_in": True}]), M)
        judge(event(user_id="c1", timestamp="2026-01-02T00:00:00Z",
                    consents=[{"type": "email", "opted_in": False}, {"type": "sms", "opted_in": True}]), M)
        consents = view(runtime, "c1")["consents"]
        assert consents["events"] == 2
        assert {k: s["opted_in"] for k, s in consents["state"].items()} == {"email": False, "sms": True}
        assert view(runtime, "c2") is None
