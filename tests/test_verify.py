"""`ftsim verify` and the CI mode of `ftsim serve`: exit 0 on a clean run, non-zero on a faulty one."""
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from simulator.cli import main

from tests.conftest import Client, casino_event
from tests.test_report import junit_errors


def clean_traffic(client: Client, rounds: int = 2) -> None:
    for n in range(rounds):
        assert client.post_event(casino_event(round_id=f"ok{n}", activity_id=f"ok{n}-bet"))[0] == 200
        assert client.post_event(casino_event(round_id=f"ok{n}", activity_id=f"ok{n}-win", type="Win",
                                              is_round_end=True))[0] == 200


def faulty_traffic(client: Client) -> None:
    clean_traffic(client, 1)
    client.post_event(casino_event(round_id="bad", currency="EURO", is_round_end=True))
    client.post_event(casino_event(round_id="left-open"))


class TestVerify:
    def test_a_clean_run_exits_0(self, start_server, capsys):
        server = start_server(basic_auth="ci:secret")
        clean_traffic(Client(server.url, {"Authorization": "Basic Y2k6c2VjcmV0"}))
        assert main(["verify", "--url", server.url, "--basic-auth", "ci:secret"]) == 0
        out = capsys.readouterr().out
        assert out.startswith(f"ftsim: READY ({server.url}, 4 messages)")
        assert out.count("  PASS  ") == 8 and "FAIL" not in out

    def test_a_faulty_run_exits_1_naming_items_rules_and_examples(self, start_server, capsys, tmp_path):
        server = start_server()
        faulty_traffic(Client(server.url))
        junit = tmp_path / "verify.xml"
        assert main(["verify", "--url", server.url, "--junit", str(junit)]) == 1
        out = capsys.readouterr().out
        assert out.startswith("ftsim: NOT READY: 3 of 9 checks failed")
        for line in ("  FAIL  violations", "  FAIL  retries.lost", "  FAIL  rounds.closed", "  PASS  latency.p99",
                     "  FAIL  schema.enum: 1 message at error"):
            assert line in out
        assert "/currency: currency: expected an ISO 4217 currency code" in out
        assert junit_errors(junit.read_bytes()) == []

    def test_a_database_file_with_a_checklist_file(self, start_server, capsys, tmp_path):
        server = start_server()
        clean_traffic(Client(server.url))
        db = server.settings.db
        assert main(["verify", "--db", db, "--quiet"]) == 0
        checklist = tmp_path / "checklist.toml"
        checklist.write_text("[readiness.channels]\nrest = 10\nkafka = 1\n")
        assert main(["verify", "--db", db, "--checklist", str(checklist)]) == 1
        out = capsys.readouterr().out
        assert "  FAIL  channel.kafka" in out and "4 messages on rest, at least 10 required" in out

    def test_warnings_fail_with_fail_on_warning(self, start_server):
        server = start_server()
        clean_traffic(Client(server.url))
        Client(server.url).post_event(casino_event(is_round_end=True, colour="red"))
        assert main(["verify", "--url", server.url, "--quiet"]) == 0
        assert main(["verify", "--url", server.url, "--quiet", "--fail-on", "warning"]) == 1

    @pytest.mark.parametrize("argv,words", [
        (["--url", "http://127.0.0.1:9"], "cannot reach ftsim"),
        (["--db", "no-such.db"], "no such file"),
    ])
    def test_exit_2_when_it_cannot_ask(self, argv, words, capsys, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        assert main(["verify", *argv]) == 2
        assert words in capsys.readouterr().err

    def test_exit_2_when_the_credentials_are_refused(self, start_server, capsys):
        server = start_server(api_key="right")
        assert main(["verify", "--url", server.url, "--api-key", "wrong"]) == 2
        err = capsys.readouterr().err
        assert "HTTP 401" in err and "the credentials given were refused" in err and "give --api-key" not in err
        assert main(["verify", "--url", server.url]) == 2
        assert "give --api-key or --basic-auth" in capsys.readouterr().err


def serve_until_idle(tmp_path, traffic) -> tuple[int, str, bytes]:
    """`ftsim serve --until-idle` as CI runs it: a real process, a real port, the sender, then the verdict."""
    junit = tmp_path / "ftsim.xml"
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "serve", "--port", "0", "--db", str(tmp_path / "ci.db"),
         "--until-idle", "1", "--junit", str(junit), "--report-html", str(tmp_path / "ftsim.html")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith("ftsim listening on "), first
        traffic(Client(first.split()[3]))
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out, junit.read_bytes()


@pytest.mark.parametrize("traffic,code,failures", [(clean_traffic, 0, "0"), (faulty_traffic, 1, "4")])
def test_serve_until_idle_writes_the_junit_file_and_exits_with_the_verdict(tmp_path, traffic, code, failures):
    returncode, out, junit = serve_until_idle(tmp_path, traffic)
    assert returncode == code, out
    assert ("ftsim: READY" in out) == (code == 0)
    assert junit_errors(junit) == []
    assert ET.fromstring(junit).get("failures") == failures
    assert (tmp_path / "ftsim.html").read_text().count('<svg class="chart') == 2


def test_serve_refuses_a_bad_checklist_before_it_opens_anything(tmp_path, capsys):
    bad = tmp_path / "checklist.toml"
    bad.write_text('fail_on = "fatal"\n')
    assert main(["serve", "--port", "0", "--db", str(tmp_path / "x.db"), "--checklist", str(bad)]) == 2
    assert "fail_on: expected error or warning" in capsys.readouterr().err
    assert not (tmp_path / "x.db").exists()
