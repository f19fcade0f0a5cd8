"""Settings come from defaults, then a TOML file, then FTSIM_* variables, then flags, in that order."""
import pytest

from simulator.core.errors import ConfigError
from simulator.settings import load_settings


def test_defaults():
    s = load_settings(None, env={})
    assert (s.host, s.port, s.db, s.profile, s.latency_budget) == ("127.0.0.1", 8080, "ftsim.db", "strict", 1.0)


def test_layers_override_in_order(tmp_path):
    cfg = tmp_path / "ftsim.toml"
    cfg.write_text('port = 9000\nprofile = "lenient"\nlatency-budget = 2.5\n[severity]\n"amount.sum" = "warning"\n')
    s = load_settings(str(cfg), env={"FTSIM_PORT": "9100", "FTSIM_API_KEY": "k"})
    assert (s.port, s.profile, s.latency_budget, s.api_key) == (9100, "lenient", 2.5, "k")
    assert s.severity == {"amount.sum": "warning"}
    s = load_settings(str(cfg), env={"FTSIM_PORT": "9100"}, port=9200, severity=["latency.budget=off"])
    assert s.port == 9200 and s.severity == {"amount.sum": "warning", "latency.budget": "off"}


def test_severity_from_the_environment():
    s = load_settings(None, env={"FTSIM_SEVERITY": "amount.sum=warning, schema.*=off"})
    assert s.severity == {"amount.sum": "warning", "schema.*": "off"}


@pytest.mark.parametrize("env,words", [
    ({"FTSIM_PORT": "eighty"}, "port: cannot use 'eighty': expected a whole number"),
    ({"FTSIM_PROFILE": "loose"}, "strict or lenient"),
    ({"FTSIM_BASIC_AUTH": "nocolon"}, "USER:PASSWORD"), ({"FTSIM_LATENCY_BUDGET": "0"}, "latency_budget"),
    ({"FTSIM_LATENCY_BUDGET": "two"}, "latency_budget: cannot use 'two': expected a number"),
    # said "cannot use 'perhaps' (perhaps)", not what it takes
    ({"FTSIM_INSECURE": "perhaps"}, r"insecure: cannot use 'perhaps': expected true or false \(also 1/0"),
])
def test_bad_values_are_refused_with_the_setting_named(env, words):
    with pytest.raises(ConfigError, match=words):
        load_settings(None, env=env)


def test_an_unknown_key_in_the_file_is_refused(tmp_path):
    cfg = tmp_path / "ftsim.toml"
    cfg.write_text("prot = 1\n")
    with pytest.raises(ConfigError, match="unknown setting 'prot'"):
        load_settings(str(cfg), env={})


def test_severities_merge_across_layers(tmp_path):
    cfg = tmp_path / "ftsim.toml"
    cfg.write_text('[severity]\n"amount.sum" = "warning"\n"latency.budget" = "error"\n')
    s = load_settings(str(cfg), env={"FTSIM_SEVERITY": "latency.budget=off"}, severity=["round.*=off"])
    assert s.severity == {"amount.sum": "warning", "latency.budget": "off", "round.*": "off"}


@pytest.mark.parametrize("value", [":", "ops:", ":secret"])
def test_basic_auth_with_an_empty_user_or_password_is_refused(value):
    """':' used to count as credentials, and so allowed serving 0.0.0.0 to anyone."""
    with pytest.raises(ConfigError, match="basic_auth: expected USER:PASSWORD, neither empty"):
        load_settings(None, env={}, basic_auth=value, host="0.0.0.0")


def test_a_server_refuses_empty_basic_credentials_made_in_code(make_settings):
    from dataclasses import replace

    from simulator.serve import Server

    with pytest.raises(ConfigError, match="password is empty"):
        Server(replace(make_settings(), basic_auth="ops:", host="0.0.0.0"))


@pytest.mark.parametrize("flag, words", [
    ("nosuch.rule=error", "no rule 'nosuch.rule'"),
    ("laetncy.budget=off", "did you mean 'latency.budget'?"),
    ("zzz.*=off", "no rule 'zzz.*'"),
])
def test_a_severity_for_no_rule_is_refused_with_a_suggestion(make_settings, flag, words):
    """A typo in --severity used to change nothing and say nothing: the run went on judging as before."""
    from simulator.runtime import Runtime

    with pytest.raises(ConfigError, match="severity: ") as refused:
        Runtime(make_settings(severity=[flag]))
    assert words in str(refused.value) and "ftsim rules" in str(refused.value)


def test_severities_for_rules_families_and_globs_that_match_are_taken(make_settings):
    from simulator.runtime import Runtime

    rt = Runtime(make_settings(severity=["schema.format=warning", "schema.*=info", "round.*=off",
                                         "operator.schema.required=warning"]))
    try:
        assert [rt.severities.of(r) for r in ("schema.format", "schema.type", "round.after_end")] == \
            ["warning", "info", "off"]
    finally:
        rt.close()
