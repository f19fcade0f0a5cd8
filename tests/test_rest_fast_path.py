"""Ingest's fast path (a WSGI function in front of Flask) against Flask's route: the same requests get the
same status, headers and verdict from both, and every request the fast path does not take reaches Flask."""
import json

import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from simulator.runtime import Runtime
from simulator.transports.rest.app import create_app

from tests.conftest import casino_event


@pytest.fixture
def make_app(make_settings, tmp_path):
    runtimes = []

    def make(**flags):  # each on a file of its own, so that neither sees the other's messages as retries
        db = str(tmp_path / f"ftsim-{len(runtimes)}.db")
        runtimes.append(Runtime(make_settings(severity=["latency.budget=off"], db=db, **flags)))
        return create_app(runtimes[-1]).wsgi_app  # FastIngest; its .next is Flask's own
    yield make
    for rt in runtimes:
        rt.close()


def call(wsgi, body: bytes, **kw):
    environ = EnvironBuilder(method=kw.pop("method", "POST"), path=kw.pop("path", "/v1/integration/casino"),
                             data=body, content_type=kw.pop("content_type", "application/json"), **kw).get_environ()
    if body.startswith(b"#short"):
        environ["CONTENT_LENGTH"] = str(len(body) + 10)  # promises more than it sends: the sender stopped
    iterable, status, headers = run_wsgi_app(wsgi, environ)
    data = b"".join(iterable)
    headers = {k: v for k, v in headers.items() if k not in ("Date", "Server")}
    return int(status.split()[0]), headers, json.loads(data)


def without_id(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "id"}


def flask_calls(fast) -> list:
    """What reaches Flask behind the fast path, one entry a request."""
    reached, real_next = [], fast.next
    fast.next = lambda *a: reached.append(a) or real_next(*a)
    return reached


@pytest.mark.parametrize("event", [
    casino_event(),  # valid: 200
    casino_event(currency="EURO", amount="20"),  # invalid: 400 with its violations
    b"not json",  # a body that is not JSON: 400, json.parse
    b"#short",  # the body stopped before its Content-Length: 400, transport.incomplete, connection closed
])
def test_the_fast_path_answers_as_flasks_route_does(make_app, event):
    fast, flask = make_app(), make_app()
    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    reached = flask_calls(fast)
    got_fast, got_flask = call(fast, body), call(flask.next, body)
    assert reached == []  # the fast path answered it itself
    assert got_fast[0] == got_flask[0] and got_fast[1] == got_flask[1]
    assert without_id(got_fast[2]) == without_id(got_flask[2])


@pytest.mark.parametrize("kw", [
    {"method": "PUT"}, {"path": "/v1/integration/nothing"}, {"content_type": "text/plain"},
    {"headers": {"Transfer-Encoding": "chunked"}},
])
def test_what_the_fast_path_does_not_take_reaches_flask(make_app, kw):
    fast = make_app()
    reached = flask_calls(fast)
    status, _, _ = call(fast, json.dumps(casino_event()).encode(), **kw)
    assert len(reached) == 1 and status >= 400


def test_with_credentials_configured_every_request_goes_to_flask(make_app):
    fast = make_app(api_key="secret")
    reached = flask_calls(fast)
    status, _, answer = call(fast, json.dumps(casino_event()).encode())
    assert len(reached) == 1 and status == 401 and answer["rule"] == "transport.auth"


def test_a_content_length_that_is_no_ascii_number_goes_to_flask(make_app):
    fast = make_app()
    reached = flask_calls(fast)
    environ = EnvironBuilder(method="POST", path="/v1/integration/casino", data=b"{}",
                             content_type="application/json").get_environ()
    environ["CONTENT_LENGTH"] = "\u00b2"  # a superscript two: str.isdigit says yes, int() says no
    body, status, _ = run_wsgi_app(fast, environ)
    answer = json.loads(b"".join(body))
    assert len(reached) == 1 and status.startswith("400")  # Flask reads no body for a length it cannot read
    assert [v["rule"] for v in answer["violations"]] == ["json.parse"]


def test_a_body_over_the_limit_is_flasks_413(make_app):
    fast = make_app(max_body=100)
    reached = flask_calls(fast)
    status, headers, answer = call(fast, json.dumps(casino_event()).encode())
    assert len(reached) == 1 and status == 413 and answer["rule"] == "transport.size"
    assert headers["Connection"] == "close"


def test_a_failed_store_is_the_same_503_from_both_doors(make_app):
    fast, flask = make_app(), make_app()
    for wsgi in (fast, flask):
        wsgi.runtime.store.close()  # a closed database: the commit fails, nothing is kept
    reached = flask_calls(fast)
    body = json.dumps(casino_event()).encode()
    got_fast, got_flask = call(fast, body), call(flask.next, body)
    assert reached == [] and got_fast == got_flask
    status, headers, answer = got_fast
    assert status == 503 and headers["Retry-After"] == "5" and headers["Content-Type"] == "application/json"
    assert answer["error"] == "Service Unavailable" and "send it again" in answer["message"]
