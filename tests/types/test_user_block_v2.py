"""USER_BLOCK_V2: the player's blocks changed; the latest state per block type when `blocks` is sent."""
from tests.types._users import event, found, http_contract, schema_errors, source

M = "USER_BLOCK_V2"
P = "/v2/integration/user/blocks"


def view(runtime, uid):
    return runtime.registry.types["user_block_v2"].views["player"](runtime.store, uid)


class TestContract:
    def test_a_valid_block_event_is_accepted_with_or_without_blocks(self, judge):
        assert judge(event(), M).violations == []
        assert judge(event(blocks=[{"type": "Excluded", "active": True, "note": "6 months"}]), M).violations == []

    def test_a_block_of_an_unknown_type_is_refused_at_its_path(self, judge):
        v = judge(event(blocks=[{"type": "Frozen", "active": True}]), M)
        assert not v.valid and found(v) == {("schema.enum", "/blocks/0/type")}

    def test_over_http_put_is_200_or_400_and_post_is_405(self, server):
        http_contract(server, M, "PUT", P, event(user_id="h1"), event(user_id=None), "POST",
                      ("schema.required", "/user_id"))


class TestProfiles:
    def test_blocks_are_checked_by_strict_and_lenient_not_by_ft(self, make_judge):
        odd = event(blocks=[{"type": "Blocked"}])  # no active
        for profile in ("strict", "lenient"):
            v = make_judge(profile=profile)(odd, M)
            assert schema_errors(v) == {("schema.required", "/blocks/0/active")}
            assert source(v, "/blocks/0/active") == "FT operator API (GetBlocks items)"
        assert make_judge(profile="ft")(odd, M).valid

    def test_ft_takes_a_one_digit_hour(self, make_judge):
        lax = event(timestamp="2026-01-02T3:04:05Z")
        assert make_judge(profile="ft")(lax, M).valid
        assert schema_errors(make_judge(profile="strict")(lax, M)) == {("schema.format", "/timestamp")}


class TestStateAndView:
    def test_events_seen_and_the_latest_state_per_block_type(self, judge, runtime):
        judge(event(user_id="b1", timestamp="2026-01-01T00:00:00Z",
                    blocks=[{"type": "Excluded", "active": True, "note": "self"}]), M)
        judge(event(user_id="b1", timestamp="2026-01-03T00:00:00Z", blocks=[{"type": "Excluded", "active": False}]), M)
        judge(event(user_id="b1", timestamp="2026-01-02T00:00:00Z",  # late: older than what is known
                    blocks=[{"type": "Excluded", "active": True}, {"type": "Blocked", "active": True}]), M)
        blocks = view(runtime, "b1")["blocks"]
        assert blocks["events"] == 3 and blocks["last"] == "2026-01-03T00:00:00.000000Z"
        assert blocks["state"]["Excluded"] == {"active": False, "note": None, "at": "2026-01-03T00:00:00.000000Z"}
        assert blocks["state"]["Blocked"]["active"] is True

    def test_no_blocks_listed_no_state(self, judge, runtime):
        judge(event(user_id="b2"), M)
        assert view(runtime, "b2")["blocks"]["state"] == {} and view(runtime, "b3") is None
