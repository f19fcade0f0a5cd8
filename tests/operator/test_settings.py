"""The operator settings from flags, FTSIM_* and TOML, and `ftsim serve --operator-api` end to end."""
from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

import pytest

from simulator.core.errors import ConfigError
from simulator.settings import load_settings
from tests.operator.conftest import free_port
from tests.types._users import event


def test_environment_and_toml(tmp_path):
    s = load_settings(None, env={"FTSIM_OPERATOR_API": "http://op:1", "FTSIM_OPERATOR_BASIC": "a:b",
                                 "FTSIM_OPERATOR_TIMEOUT": "2.5", "FTSIM_OPERATOR_QUEUE": "10"})
    assert (s.operator_api, s.operator_basic, s.operator_timeout, s.operator_queue) == ("http://op:1", "a:b", 2.5, 10)
    toml = tmp_path / "ftsim.toml"
    toml.write_text('[ftsim]\noperator_api = "https://op.example"\noperator_oauth = "https://op.example/token"\n'
                    'operator_client_id = "crm"\noperator_client_secret = "x"\noperator_oauth_method = "get"\n')
    s = load_settings(str(toml), env={})
    assert s.operator_oauth_method == "get" and s.operator_client_id == "crm"


@pytest.mark.parametrize("flags,words", [
    ({"operator_api": "http://x", "operator_api_key": "k", "operator_basic": "a:b"}, "one authentication method"),
    ({"operator_api": "http://x", "operator_basic": "nocolon"}, "USER:PASSWORD"),
    ({"operator_api": "http://x", "operator_oauth": "http://x/t"}, "needs operator_client_id"),
    ({"operator_api": "ftp://x"}, "http:// or https://"),
    ({"operator_api": "http://x", "operator_timeout": 0}, "seconds > 0"),
    ({"operator_api": "http://x", "operator_queue": 0}, "at least 1"),
])
def test_wrong_settings_are_refused(flags, words):
    with pytest.raises(ConfigError, match=words):
        load_settings(None, env={}, **flags)


def test_serve_with_operator_api_in_a_subprocess(operator_url, tmp_path):
    """The real command: events in over REST, the calls out to the operator, the JUnit file with its items."""
    port = free_port()
    junit = tmp_path / "ftsim.xml"
    proc = subprocess.Popen([sys.executable, "-m", "simulator", "serve", "--port", str(port), "--db",
                             str(tmp_path / "f.db"), "--operator-api", operator_url, "--operator-api-key",
                             "op-key-123", "--until-idle", "2", "--junit", str(junit)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        seen = []
        while not any("ftsim listening" in line for line in seen):
            line = proc.stdout.readline()
            assert line, "".join(seen)
            seen.append(line)
        req = urllib.request.Request(f"http://127.0.0.1:{port}/v2/integration/user", method="POST",
                                     data=json.dumps(event(user_id="u-9")).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.status == 200
        out, _ = proc.communicate(timeout=60)
        out = "".join(seen) + out
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "op-key-123" not in out
    text = junit.read_text()
    for item in ("operator.userdetails", "operator.consents", "operator.blocks", "operator.latency"):
        assert f'name="{item}:' in text, item
