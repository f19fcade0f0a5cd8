"""USER_MIGRATION: a migrated player becomes known; brokers only."""
import json

from simulator.core.envelope import Envelope
from tests.conftest import Client, casino_event
from tests.types._users import event, found, schema_errors, source

M = "USER_MIGRATION"


def view(runtime, uid):
    return runtime.registry.types["user_migration"].views["player"](runtime.store, uid)


class TestContract:
    def test_a_valid_migration_is_accepted(self, judge):
        assert judge(event(migration_reference="mig-1", skip_publishing=False), M).violations == []

    def test_a_migration_without_reference_is_refused_at_its_path(self, judge):
        v = judge(event(), M)
        assert not v.valid and found(v) == {("schema.required", "/migration_reference")}

    def test_over_a_broker_and_not_over_rest(self, runtime, server):
        raw = json.dumps(event(migration_reference="r")).encode()
        assert runtime.intake.one(Envelope("rabbit", raw, M)).valid
        assert runtime.registry.types["user_migration"].path is None
        assert Client(server.url).request("POST", "/v2/integration/user/migration", {})[0] == 404


class TestProfiles:
    def test_strict_wants_a_non_empty_reference_ft_does_not(self, make_judge):
        empty = event(migration_reference="")
        v = make_judge(profile="strict")(empty, M)
        assert schema_errors(v) == {("schema.minLength", "/migration_reference")}
        assert source(v, "/migration_reference") == "ftsim (non-empty id)"
        under_ft = make_judge(profile="ft")(empty, M)  # FT's schema takes it; ftsim's shared rule says why not
        assert schema_errors(under_ft) == set() and [v.rule for v in under_ft.violations] == ["activity.empty_id"]

    def test_skip_publishing_must_be_boolean_in_every_profile(self, make_judge):
        for profile in ("strict", "lenient", "ft"):
            v = make_judge(profile=profile)(event(migration_reference="r", skip_publishing="no"), M)
            assert schema_errors(v) == {("schema.type", "/skip_publishing")}


class TestRegistry:
    def test_a_migrated_user_is_known_and_shown_migrated(self, make_judge):
        judge = make_judge(severity=["user.unknown=warning"])
        judge(event(user_id="m1", migration_reference="ref-9", timestamp="2026-01-01T00:00:00Z"), M)
        assert judge(casino_event(user_id="m1"), "CASINO").violations == []

    def test_view(self, judge, runtime):
        judge(event(user_id="m2", migration_reference="ref-9", timestamp="2026-01-01T00:00:00Z"), M)
        assert view(runtime, "m2") == {"migrated": True, "migration": {
            "reference": "ref-9", "at": "2026-01-01T00:00:00.000000Z", "approved": False, "approved_at": None}}
        assert runtime.store.entities("user", status="migrated")[0]["key"] == "m2"
        judge(event(user_id="r1"), "USER_CREATE_V2")
        assert view(runtime, "r1") == {"migrated": False} and view(runtime, "zz") is None
