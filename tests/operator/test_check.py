"""`ftsim operator check` against the example operator: exit 0 when it answers right, 1 with each fault,
2 when nothing answers; every endpoint called, every rule tripped by the fault made for it."""
from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest

from simulator.cli import main
from simulator.commands.operator import run
from tests.operator.conftest import free_port

ENDPOINTS = {"GET /userdetails/u-1", "GET /userblocks/u-1", "GET /userconsents/u-1", "POST /userconsents/u-1",
             "POST /authenticate", "GET /bonus/list", "POST /bonus/credit", "POST /bonus/credit/funds"}


def check(*argv) -> tuple[int, str]:
    out = io.StringIO()
    from simulator.cli import build_parser

    args = build_parser().parse_args(["operator", "check", *argv])
    return run(args, out), out.getvalue()


def test_a_good_operator_passes_every_endpoint_and_writes_junit(operator_url, tmp_path):
    junit = tmp_path / "operator.xml"
    code, text = check(operator_url, "--user-id", "u-1", "--sid", "sid-u-1", "--operator-api-key", "op-key-123",
                       "--junit", str(junit))
    assert code == 0, text
    assert "8 calls" in text and "8 good" in text and "op-key-123" not in text
    suite = ET.parse(junit).getroot()
    assert suite.get("tests") == "8" and suite.get("failures") == "0"
    assert {c.get("name") for c in suite.iter("testcase")} == ENDPOINTS


def test_each_user_id_gets_every_endpoint(operator_url):
    code, text = check(operator_url, "--user-id", "a1", "--user-id", "a2", "--operator-api-key", "op-key-123")
    assert code == 0 and "14 calls" in text  # no --sid: authenticate skipped


FAULTS = [
    ("wrong-type", "operator.schema.type", "/is_blocked"),
    ("missing-field", "operator.schema.required", "/email"),
    ("500", "operator.status", "/"),
    ("cacheable", "operator.cache", "/"),
    ("wrong-user", "operator.user_mismatch", "/user_id"),
    ("redirect", "operator.redirect", "/"),
    ("not-json", "operator.not_json", "/"),
    ("text-plain", "operator.content_type", "/"),
]


@pytest.mark.parametrize("fault,rule,path", FAULTS)
def test_each_fault_exits_1_with_its_rule(start_operator, fault, rule, path):
    url = start_operator("--fault", fault)
    code, text = check(url, "--user-id", "u-1", "--sid", "sid-u-1")
    assert code == 1, text
    assert f"error: {rule} {path}:" in text, text


def test_a_slow_operator_times_out(start_operator):
    url = start_operator("--fault", "slow", "--delay", "2")
    code, text = check(url, "--user-id", "u-1", "--operator-timeout", "0.3")
    assert code == 1 and "error: operator.timeout" in text and "no answer within 0.3 s" in text


def test_the_slow_operator_within_the_timeout_passes(start_operator):
    url = start_operator("--fault", "slow", "--delay", "0.2")
    code, text = check(url, "--user-id", "u-1", "--operator-timeout", "5")
    assert code == 0, text


def test_nothing_listening_exits_2():
    code, text = check(f"http://127.0.0.1:{free_port()}", "--user-id", "u-1")
    assert code == 2 and "operator.unreachable" in text


def test_two_auth_methods_at_once_is_a_config_error_exit_2(capsys):
    assert main(["operator", "check", "http://127.0.0.1:1", "--user-id", "u", "--operator-api-key", "k",
                 "--operator-basic", "a:b"]) == 2
    assert "one authentication method at a time" in capsys.readouterr().err


class TestAuth:
    def test_basic(self, start_operator):
        url = start_operator("--basic", "crm:pa55")
        assert check(url, "--user-id", "u-1", "--operator-basic", "crm:pa55")[0] == 0
        code, text = check(url, "--user-id", "u-1", "--operator-basic", "crm:wrong")
        assert code == 1 and "error: operator.auth" in text and "answered 401" in text and "pa55" not in text

    def test_api_key_wrong(self, operator_url):
        code, text = check(operator_url, "--user-id", "u-1", "--operator-api-key", "nope")
        assert code == 1 and "error: operator.auth" in text

    @pytest.mark.parametrize("method", ["post", "get"])
    def test_oauth_client_credentials(self, start_operator, method):
        url = start_operator("--client-id", "ftsim", "--client-secret", "s3cret")
        code, text = check(url, "--user-id", "u-1", "--operator-oauth", url + "/oauth/token",
                           "--operator-client-id", "ftsim", "--operator-client-secret", "s3cret",
                           "--operator-oauth-method", method)
        assert code == 0, text
        assert "s3cret" not in text

    def test_oauth_wrong_secret_is_the_token_endpoints_rule(self, start_operator):
        url = start_operator("--client-id", "ftsim", "--client-secret", "s3cret")
        code, text = check(url, "--user-id", "u-1", "--operator-oauth", url + "/oauth/token",
                           "--operator-client-id", "ftsim", "--operator-client-secret", "guess")
        assert code == 1 and "error: operator.token" in text and "expected 200, got 401" in text

    def test_a_token_endpoint_that_answers_wrong(self, start_operator):
        url = start_operator("--client-id", "ftsim", "--client-secret", "s3cret", "--fault", "bad-token")
        code, text = check(url, "--user-id", "u-1", "--operator-oauth", url + "/oauth/token",
                           "--operator-client-id", "ftsim", "--operator-client-secret", "s3cret")
        assert code == 1
        assert "error: operator.token /expires_in:" in text and "error: operator.token /token_type:" in text

    def test_a_token_url_that_is_not_one(self, start_operator):
        url = start_operator("--client-id", "ftsim", "--client-secret", "s3cret")
        code, text = check(url, "--user-id", "u-1", "--operator-oauth", url + "/no/such/token",
                           "--operator-client-id", "ftsim", "--operator-client-secret", "s3cret")
        assert code == 1 and "operator.token" in text and "/no/such/token: expected 200, got 401" in text

    def test_expired_tokens_refused_after_one_refresh(self, start_operator):
        url = start_operator("--client-id", "ftsim", "--client-secret", "s3cret", "--fault", "expired-token")
        code, text = check(url, "--user-id", "u-1", "--operator-oauth", url + "/oauth/token",
                           "--operator-client-id", "ftsim", "--operator-client-secret", "s3cret")
        assert code == 1 and "error: operator.auth" in text
