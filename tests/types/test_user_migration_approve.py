"""USER_MIGRATION_APPROVE: approves a migrated player; brokers only."""
from tests.types._users import event, found, rules, schema_errors

M = "USER_MIGRATION_APPROVE"


def view(runtime, uid):
    return runtime.registry.types["user_migration"].views["player"](runtime.store, uid)


class TestContract:
    def test_a_valid_approval_is_accepted(self, judge):
        judge(event(user_id="a1", migration_reference="r"), "USER_MIGRATION")
        assert judge(event(user_id="a1", skip_publishing=True), M).violations == []

    def test_an_approval_with_an_empty_user_id_is_refused_at_its_path(self, judge):
        v = judge(event(user_id=""), M)
        assert not v.valid and found(v) == {("schema.minLength", "/user_id")}

    def test_brokers_only(self, runtime):
        assert runtime.registry.types["user_migration_approve"].method is None


class TestProfiles:
    def test_ft_takes_a_real_bare_date_strict_does_not(self, make_judge):
        bare = event(timestamp="2026-02-30")  # no such day: FT refuses it too
        assert not make_judge(profile="ft")(bare, M).valid
        ok = event(timestamp="2026-02-28")
        assert schema_errors(make_judge(profile="ft")(ok, M)) == set()
        assert schema_errors(make_judge(profile="strict")(ok, M)) == {("schema.format", "/timestamp")}


class TestApproveUnknown:
    def test_an_approval_of_a_user_never_migrated_is_a_warning(self, judge, runtime):
        judge(event(user_id="a2"), "USER_CREATE_V2")  # registered, not migrated
        v = judge(event(user_id="a2"), M)
        assert v.valid and found(v) == {("migration.approve_unknown", "/user_id")}
        assert v.violations[0].severity == "warning"
        assert "migration" not in runtime.store.entities("user", user_id="a2")[0]

    def test_an_approval_after_its_migration_passes_and_is_shown(self, judge, runtime):
        judge(event(user_id="a3", migration_reference="r", timestamp="2026-01-01T00:00:00Z"), "USER_MIGRATION")
        v = judge(event(user_id="a3", timestamp="2026-01-02T00:00:00Z"), M)
        assert v.valid and rules(v) == {"latency.budget"}  # an old timestamp; nothing about the migration
        migration = view(runtime, "a3")["migration"]
        assert migration["approved"] is True and migration["approved_at"] == "2026-01-02T00:00:00.000000Z"
