"""GAME: a catalog entry (no user, no timestamp), brokers only; stored by game_id, updated when sent again."""
import pytest

from tests.types._products import build, next_id, rule_ids, rules

M = "GAME"


def game(**overrides) -> dict:
    base = {"game_id": f"g-{next_id()}", "is_live": False, "name": "Dead or Alive", "category": "Slots",
            "provider": "Netent", "rtp": 96.8, "supported_devices": ["mobile", "desktop"]}
    return build(base, overrides)


class TestContract:
    def test_a_valid_game_by_marker_is_accepted(self, judge):
        v = judge(game(), M, channel="kafka")
        assert (v.event, v.valid, v.violations) == ("game", True, [])

    def test_a_game_without_is_live_is_refused(self, judge):
        assert rules(judge(game(is_live=None), M)) == {("schema.required", "/is_live")}

    def test_devices_use_ft_spelling_unknown(self, judge):
        assert judge(game(supported_devices=["unknown"]), M).valid
        assert rules(judge(game(supported_devices=["tv"]), M)) == {("schema.enum", "/supported_devices/0")}

    def test_no_rest_path_brokers_only(self, client):
        status, _ = client.request("POST", "/v1/integration/game", game())
        assert status == 404


class TestProfiles:
    @pytest.mark.parametrize("field,value", [("name", ""), ("rtp", 120), ("rtp", -1),
                                             ("supported_devices", ["mobile", "mobile"])])
    def test_strict_refuses_what_ft_takes(self, make_judge, field, value):
        payload = game(**{field: value})
        s, f = make_judge(profile="strict")(payload, M), make_judge(profile="ft")(payload, M)
        assert not s.valid and {p for _, p in rules(s)} == {f"/{field}"}
        assert f.valid, rules(f)

    def test_lenient_takes_an_integer_game_id(self, make_judge):
        assert make_judge(profile="lenient")(game(game_id=10911), M).valid
        for p in ("strict", "ft"):
            assert rules(make_judge(profile=p)(game(game_id=10911), M)) == {("schema.type", "/game_id")}

    def test_ft_refuses_an_empty_game_id(self, make_judge):
        assert rules(make_judge(profile="ft")(game(game_id=""), M)) == {("schema.minLength", "/game_id")}


class TestState:
    def test_the_same_game_again_is_a_retry_other_values_an_update(self, judge, runtime):
        g = game()
        judge(g, M)
        assert rule_ids(judge(g, M)) == {"activity.retry"}
        v = judge(dict(g, is_live=True), M)
        assert v.valid and v.violations == []
        [doc] = runtime.store.entities("game", status="live")
        assert doc["key"] == g["game_id"] and doc["updates"] == 1 and doc["is_live"] is True
