"""CUSTOM: POST /v1/integration/custom; free data under a notification_type."""
import pytest

from tests.types._products import build, now_iso, only, rule_ids, rules

M = "CUSTOM"
PATH = "/v1/integration/custom"


def custom(**overrides) -> dict:
    base = {"notification_type": "tournament_joined", "data": {"tournament": "Sunday Million"},
            "origin": "www.brand.com", "user_id": "u1", "timestamp": now_iso(), "ip_address": "192.0.2.1",
            "user_agent": "Mozilla/5.0"}
    return build(base, overrides)


class TestContract:
    def test_a_valid_event_by_marker_is_accepted(self, judge):
        v = judge(custom(), M)
        assert (v.event, v.valid, v.violations) == ("custom", True, [])

    def test_data_must_be_an_object(self, judge):
        assert rules(judge(custom(data=[1]), M)) == {("schema.type", "/data")}

    def test_rest_200_400_and_405(self, client):
        status, body = client.request("POST", PATH, custom())
        assert status == 200 and body["valid"]
        status, body = client.request("POST", PATH, custom(notification_type=""))
        assert status == 400 and [(v["rule"], v["path"]) for v in body["violations"]] == [
            ("schema.minLength", "/notification_type")]
        status, body = client.request("PUT", PATH, custom())
        assert status == 405 and "POST for CUSTOM" in body["message"]


class TestProfiles:
    def test_strict_wants_rfc3339_ft_takes_what_go_takes(self, make_judge):
        payload = custom(timestamp="2015-03-02T8:27:58.721607Z")
        assert rules(make_judge(profile="strict")(payload, M)) == {("schema.format", "/timestamp")}
        v = make_judge(profile="ft")(payload, M)
        assert not any(r.startswith("schema.") for r in rule_ids(v))

    def test_lenient_is_strict(self, make_judge):
        assert rules(make_judge(profile="lenient")(custom(timestamp="2026-01-01"), M)) == {
            ("schema.format", "/timestamp")}

    def test_ft_refuses_a_missing_origin(self, make_judge):
        assert rules(make_judge(profile="ft")(custom(origin=None), M)) == {("schema.required", "/origin")}


class TestRules:
    @pytest.mark.parametrize("ip", ["192.0.2.1", "2001:db8::1"])
    def test_ip_address_passes_v4_and_v6(self, judge, ip):
        assert "custom.ip_address" not in rule_ids(judge(custom(ip_address=ip), M))

    def test_ip_address_trips_on_a_host_name(self, judge):
        v = judge(custom(ip_address="localhost"), M)
        assert v.valid and rules(v) == {("custom.ip_address", "/ip_address")}
        assert only(v, "custom.ip_address").severity == "warning"

    def test_the_same_payload_again_is_a_retry(self, judge):
        c = custom()
        judge(c, M)
        assert rule_ids(judge(c, M)) == {"activity.retry"}
        assert judge(dict(c, data={"x": 1}), M).violations == []  # no id of its own: another event

    def test_player_view_counts_per_notification_type(self, judge, runtime):
        judge(custom(user_id="cu"), M), judge(custom(user_id="cu", data={"n": 2}), M)
        judge(custom(user_id="cu", notification_type="level_up"), M)
        assert runtime.registry.types["custom"].views["player"](runtime.store, "cu") == {
            "custom_events": {"tournament_joined": 2, "level_up": 1}}
