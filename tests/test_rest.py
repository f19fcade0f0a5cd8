"""POST /v1/integration/casino and the query API, over real HTTP to a real server on a real SQLite file."""
import base64
import http.client
import json
import threading
from urllib.parse import urlsplit

import pytest

from simulator.core.errors import ConfigError
from simulator.transports.rest.server import make_http_server
from simulator.transports.rest.app import create_app
from simulator.runtime import Runtime
from simulator.serve import Server

from tests.conftest import Client, casino_event


def raw_post(url, path, body: bytes, headers: dict):
    """A request urllib would not send as is (a lying Content-Length, chunked) over a bare connection."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("POST", path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, json.loads(data)


class TestIngest:
    def test_a_valid_event_gets_200_and_is_stored(self, client):
        status, body = client.post_event(casino_event(activity_id="A1"))
        assert status == 200 and body["accepted"] and body["valid"] and body["violations"] == []
        status, found = client.get("/api/messages")
        assert found["total"] == 1 and found["messages"][0]["activity_id"] == "A1"
        assert found["messages"][0]["channel"] == "rest" and found["messages"][0]["payload"]["type"] == "Bet"

    def test_an_invalid_event_gets_400_with_every_violation(self, client):
        status, body = client.post_event(casino_event(currency="EURO", amount="20"))
        assert status == 400 and not body["accepted"]
        assert {(v["rule"], v["path"]) for v in body["violations"]} == {("schema.enum", "/currency"),
                                                                        ("schema.type", "/amount")}
        assert all(set(v) == {"rule", "path", "message", "severity", "source"} for v in body["violations"])

    def test_accept_invalid_answers_200_but_still_records_the_violations(self, start_server):
        client = Client(start_server(accept_invalid=True).url)
        status, body = client.post_event(casino_event(currency="EURO"))
        assert status == 200 and body["accepted"] and not body["valid"]
        assert client.get("/api/summary")[1]["invalid"] == 1

    def test_warnings_still_get_200(self, client):
        status, body = client.post_event(casino_event(unknown_thing=1))
        assert status == 200 and body["valid"] and body["violations"][0]["severity"] == "warning"

    @pytest.mark.parametrize("body,words", [
        (b"not json", "not JSON"), (b"[{}]", "got array"), (b"\xc3\x28{}", "UTF-8"), (b"", "not JSON")])
    def test_bad_bodies_get_400_and_are_kept_raw(self, client, body, words):
        status, answer = client.request("POST", "/v1/integration/casino", body)
        assert status == 400 and answer["violations"][0]["rule"] == "json.parse"
        assert words in answer["violations"][0]["message"]
        [stored] = client.get("/api/messages?valid=false")[1]["messages"]
        assert stored["payload"] is None or isinstance(stored["payload"], list)
        assert stored["violations"][0]["rule"] == "json.parse"

    def test_wrong_content_type_gets_415_and_is_counted(self, client):
        status, body = client.request("POST", "/v1/integration/casino", json.dumps(casino_event()).encode(),
                                      content_type="text/plain")
        assert status == 415 and body["rule"] == "transport.media_type" and "application/json" in body["message"]
        assert client.get("/api/summary")[1]["rejected"] == {"transport.media_type": 1}
        assert client.get("/api/summary")[1]["received"] == 0

    def test_json_with_a_charset_is_fine(self, client):
        status, _ = client.request("POST", "/v1/integration/casino", json.dumps(casino_event()).encode(),
                                   content_type="application/json; charset=utf-8")
        assert status == 200

    def test_a_huge_body_gets_413(self, start_server):
        server = start_server(max_body=2048)
        client = Client(server.url)
        status, body = client.post_event(casino_event(meta={"blob": "x" * 5000}))
        assert status == 413 and body["rule"] == "transport.size"
        assert client.get("/api/summary")[1]["rejected"] == {"transport.size": 1}

    def test_a_huge_chunked_body_gets_413_too(self, start_server):
        server = start_server(max_body=2048)
        payload = json.dumps(casino_event(meta={"blob": "x" * 5000})).encode()
        chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(payload), payload)
        status, _ = raw_post(server.url, "/v1/integration/casino", chunked,
                             {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
        assert status == 413

    def test_an_unknown_event_type_path_is_404_naming_the_known_ones(self, client):
        status, body = client.request("POST", "/v1/integration/no_such_type", casino_event())
        assert status == 404 and "/v1/integration/casino" in body["message"]

    def test_the_server_survives_every_kind_of_bad_input(self, client):
        for body in (b"\x00" * 10, b"{" * 5000, b'{"a":' * 100 + b"1" + b"}" * 100, b"1e999999"):
            status, _ = client.request("POST", "/v1/integration/casino", body)
            assert status == 400
        assert client.post_event(casino_event())[0] == 200


class TestAuth:
    def test_api_key(self, start_server):
        server = start_server(api_key="s3cret")
        assert Client(server.url, {"X-Api-Key": "s3cret"}).post_event(casino_event())[0] == 200
        status, body = Client(server.url, {"X-Api-Key": "wrong"}).post_event(casino_event())
        assert status == 401 and body["rule"] == "transport.auth" and "X-Api-Key" in body["message"]
        assert Client(server.url).get("/api/summary")[0] == 401
        summary = Client(server.url, {"X-Api-Key": "s3cret"}).get("/api/summary")[1]
        assert summary["rejected"]["transport.auth"] == 2 and summary["received"] == 1

    def test_basic(self, start_server):
        server = start_server(basic_auth="ops:pa:ss")
        good = "Basic " + base64.b64encode(b"ops:pa:ss").decode()
        bad = "Basic " + base64.b64encode(b"ops:nope").decode()
        assert Client(server.url, {"Authorization": good}).post_event(casino_event())[0] == 200
        assert Client(server.url, {"Authorization": bad}).post_event(casino_event())[0] == 401
        status, _ = Client(server.url).get("/api/messages")
        assert status == 401

    def test_no_credentials_configured_means_loopback_only(self, make_settings):
        with pytest.raises(ConfigError, match="--insecure"):
            Server(make_settings(host="0.0.0.0"))

    def test_credentials_or_insecure_allow_other_addresses(self, make_settings):
        for flags in ({"api_key": "k"}, {"insecure": True}):
            server = Server(make_settings(host="0.0.0.0", **flags))
            try:
                assert server.port > 0 and server.http.server_port == server.port
            finally:
                server.http.server_close()
                server.runtime.close()


class TestQueryApi:
    def test_filters(self, client):
        client.post_event(casino_event(user_id="u1"))
        client.post_event(casino_event(user_id="u2", amount=1))
        client.post_event(casino_event(user_id="u2", currency="XXX"))
        assert client.get("/api/messages?user_id=u2")[1]["total"] == 2
        assert client.get("/api/messages?valid=true")[1]["total"] == 1
        assert client.get("/api/messages?rule=amount.sum")[1]["total"] == 1
        assert client.get("/api/messages?channel=kafka")[1]["total"] == 0
        page = client.get("/api/messages?limit=1&offset=1")[1]
        assert page["total"] == 3 and len(page["messages"]) == 1 and page["messages"][0]["user_id"] == "u2"

    def test_bad_query_parameters_get_400(self, client):
        assert client.get("/api/messages?limit=lots")[0] == 400
        assert client.get("/api/messages?valid=maybe")[0] == 400
        assert client.get("/api/rounds?status=half")[0] == 400
        assert client.get("/api/messages?order=up")[0] == 400  # was taken as ascending, silently
        status, answer = client.get("/api/messages?channel=rabbitmq")  # was an empty page, as if nothing came
        assert status == 400 and "expected one of rest, rabbit, kafka, file" in json.dumps(answer)
        status, answer = client.get("/api/messages?rule=amount.summ")
        assert status == 400 and "did you mean 'amount.sum'?" in json.dumps(answer)
        assert client.get("/live/sections?channel=bogus")[0] == 400
        assert client.get("/api/messages?rule=schema.format&channel=kafka")[0] == 200  # a rule of a family

    def test_users_total_counts_what_the_filter_selects(self, client):
        for user in ("a1", "a2", "a3"):
            client.post_event(casino_event(user_id=user))
        assert client.get("/api/users")[1]["total"] == 3
        page = client.get("/api/users?user_id=a2")[1]
        assert page["total"] == 1 and [u["user_id"] for u in page["users"]] == ["a2"]  # total said 3
        assert client.get("/api/messages?order=desc")[0] == client.get("/api/messages?order=asc")[0] == 200

    def test_rounds_sessions_and_summary(self, client):
        client.post_event(casino_event(round_id="R", activity_id="b"))
        the_win = casino_event(round_id="R", activity_id="w", type="Win", amount=50, wager_amount=50,
                               is_round_end=True)
        client.post_event(the_win)
        client.post_event(the_win)
        [r] = client.get("/api/rounds?round_id=R")[1]["rounds"]
        assert (r["status"], r["bet_total"], r["win_total"], r["events"]) == ("closed", "20.00", "50.00", 2)
        assert client.get("/api/rounds?status=open")[1]["rounds"] == []
        [s] = client.get("/api/sessions?user_id=52530")[1]["sessions"]
        assert s["rounds"] == 1 and s["bet_total"] == "20.00"
        summary = client.get("/api/summary")[1]
        assert {k: summary[k] for k in ("received", "valid", "invalid", "duplicates")} == {
            "received": 3, "valid": 3, "invalid": 0, "duplicates": 1}
        assert summary["by_channel"]["rest"]["received"] == 3
        assert summary["by_rule"]["activity.retry"]["messages"] == 1
        assert summary["rounds"] == {"open": 0, "closed": 1}
        assert summary["latency_ms"]["p50"] is not None and summary["latency_ms"]["p99"] >= 0

    def test_delete_clears_everything(self, client):
        client.post_event(casino_event())
        assert client.request("DELETE", "/api/messages")[0] == 200
        summary = client.get("/api/summary")[1]
        assert summary["received"] == 0 and summary["rounds"] == {"open": 0, "closed": 0}
        assert client.get("/api/rounds")[1]["rounds"] == []


def test_a_restarted_server_keeps_what_was_stored(start_server, make_settings):
    first = start_server()
    Client(first.url).post_event(casino_event(activity_id="kept"))
    first.stop()
    second = start_server()
    client = Client(second.url)
    assert client.get("/api/summary")[1]["received"] == 1
    status, body = client.post_event(casino_event(activity_id="kept"))  # same id, new payload (fresh timestamp)
    assert status == 400 and [v["rule"] for v in body["violations"]] == ["activity.duplicate"]


def test_a_browser_can_give_the_api_key_as_the_basic_password(start_server):
    server = start_server(api_key="s3cret")
    as_browser = "Basic " + base64.b64encode(b"anyone:s3cret").decode()
    assert Client(server.url, {"Authorization": as_browser}).get("/api/summary")[0] == 200
    wrong = "Basic " + base64.b64encode(b"anyone:guess").decode()
    assert Client(server.url, {"Authorization": wrong}).get("/api/summary")[0] == 401


@pytest.mark.parametrize("kind", ["granian", "werkzeug"])
def test_each_http_stack_serves_the_same_app(make_settings, kind):
    """granian is the default; werkzeug is what ftsim falls back to on an untested granian."""
    runtime = Runtime(make_settings())
    server = make_http_server(create_app(runtime), runtime.settings, kind=kind)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = Client(f"http://127.0.0.1:{server.server_port}")
        assert client.post_event(casino_event())[0] == 200
        assert client.post_event(casino_event(currency="EURO"))[0] == 400
        assert client.get("/api/summary")[1]["received"] == 2
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        runtime.close()
