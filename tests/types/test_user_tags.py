"""USER_TAG (schema user_tags): brokers only; the latest tags string and every one seen."""
import json

from simulator.core.envelope import Envelope
from tests.conftest import Client
from tests.types._users import event, found, schema_errors

M = "USER_TAG"


def view(runtime, uid):
    return runtime.registry.types["user_tags"].views["player"](runtime.store, uid)


class TestContract:
    def test_a_valid_tag_event_is_accepted(self, judge):
        assert judge(event(tags="vip,high-roller", skip_publishing=True), M).violations == []

    def test_tags_as_a_list_is_refused_at_its_path(self, judge):
        v = judge(event(tags=["vip"]), M)
        assert not v.valid and found(v) == {("schema.type", "/tags")}

    def test_over_a_broker_by_its_marker(self, runtime):
        raw = json.dumps(event(tags="vip")).encode()
        assert runtime.intake.one(Envelope("rabbit", raw, M)).valid
        assert not runtime.intake.one(Envelope("kafka", json.dumps(event()).encode(), M)).valid

    def test_no_rest_path(self, server):
        status, body = Client(server.url).request("POST", "/v2/integration/user/tags", event(tags="vip"))
        assert status == 404
        assert server.runtime.registry.types["user_tags"].path is None


class TestProfiles:
    def test_strict_wants_non_empty_tags_ft_does_not(self, make_judge):
        empty = event(tags="")
        assert schema_errors(make_judge(profile="strict")(empty, M)) == {("schema.minLength", "/tags")}
        assert make_judge(profile="ft")(empty, M).valid

    def test_every_profile_requires_tags(self, make_judge):
        for profile in ("strict", "lenient", "ft"):
            assert ("schema.required", "/tags") in schema_errors(make_judge(profile=profile)(event(), M))


class TestStateAndView:
    def test_latest_and_seen(self, judge, runtime):
        judge(event(user_id="t1", timestamp="2026-01-01T00:00:00Z", tags="new"), M)
        judge(event(user_id="t1", timestamp="2026-01-03T00:00:00Z", tags="vip"), M)
        judge(event(user_id="t1", timestamp="2026-01-02T00:00:00Z", tags="regular"), M)
        tags = view(runtime, "t1")["tags"]
        assert tags["latest"] == "vip" and tags["seen"] == ["new", "vip", "regular"] and tags["events"] == 3
        assert view(runtime, "t2") is None
