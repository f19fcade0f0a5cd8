"""The operator's calls in the live page and the HTML, JUnit and JSON reports; no secret in any of them."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from simulator import report
from tests.conftest import Client
from tests.operator.test_feed import KEY, send
from tests.types._users import event


def test_reports_and_page_show_the_calls(start_operator, start_server):
    url = start_operator("--api-key", KEY, "--fault", "cacheable")
    server = start_server(operator_api=url, operator_api_key=KEY)
    send(server.runtime, "USER_CREATE_V2", event(user_id="u-1"))
    assert server.runtime.operator.wait_idle(30)
    doc = report.build(server.runtime)
    assert doc["operator"]["total"] == 3 and doc["operator"]["failed"] == 3
    assert doc["summary"]["operator"]["failures_by_rule"] == {"operator.cache": 3}

    as_json = json.loads(report.render(doc, "json"))
    assert as_json["operator"]["newest"][0]["violations"][0]["rule"] == "operator.cache"
    html = report.render(doc, "html").decode()
    assert 'id="operator"' in html and "GET /userdetails/u-1" in html and "operator.cache" in html
    junit = ET.fromstring(report.render(doc, "junit"))
    cases = {c.get("name").split(":")[0]: c for c in junit.iter("testcase")}
    failure = cases["operator.userdetails"].find("failure")
    assert failure is not None and "GET /userdetails/u-1" in failure.text and "operator.cache" in failure.text
    for rendered in (report.render(doc, "json"), report.render(doc, "html"), report.render(doc, "junit")):
        assert KEY.encode() not in rendered

    status, page = Client(server.url).get("/")
    assert status == 200 and b'id="operator"' in page and KEY.encode() not in page
    status, sections = Client(server.url).get("/live/sections")
    assert status == 200 and b"operator.cache" in sections


def test_without_an_operator_the_reports_have_no_section(server):
    doc = report.build(server.runtime)
    assert doc["operator"] is None and 'id="operator"' not in report.render(doc, "html").decode()
