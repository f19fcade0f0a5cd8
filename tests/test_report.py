"""Reports: the document's figures, the payload highlighting, JUnit valid for CI, one self-contained HTML file,
and `ftsim report` from a database file and from a running ftsim."""
import io
import json
import math
import re
import xml.etree.ElementTree as ET
from contextlib import redirect_stdout
from datetime import datetime, timedelta, timezone
from html import unescape
from pathlib import Path

import pytest

from simulator import report
from simulator.cli import main
from simulator.core.envelope import Envelope
from simulator.report import payload
from simulator.report.document import latency_edges
from simulator.runtime import Runtime

from tests.conftest import Client, casino_event

JUNIT_XSD = Path(__file__).parent / "data/junit.xsd"
T0 = datetime(2030, 1, 1, 12, 0, 0, tzinfo=timezone.utc)


def stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def receive(runtime, event: dict | bytes, at: datetime, latency_ms: float = 5.0, channel="rest"):
    """Intake as a transport calls it, at a chosen receipt time, the event stamped latency_ms earlier."""
    if isinstance(event, dict):
        event = json.dumps({**event, "timestamp": stamp(at - timedelta(milliseconds=latency_ms))}).encode()
    return runtime.intake.one(Envelope(channel, event, "CASINO", received_at=at))


# -- a small XSD validator: enough of XML Schema for tests/data/junit.xsd, refusing anything else -----------

XS = "{http://www.w3.org/2001/XMLSchema}"
BUILTIN = {"xs:string": lambda v: True,
           "xs:decimal": lambda v: re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", v) is not None,
           "xs:nonNegativeInteger": lambda v: re.fullmatch(r"\+?\d+", v) is not None}


class Xsd:
    def __init__(self, path: Path):
        root = ET.parse(path).getroot()
        self.types, self.elements = {}, {}
        for node in root:
            if node.tag == XS + "simpleType":
                [restriction] = node
                assert restriction.tag == XS + "restriction" and all(p.tag == XS + "pattern" for p in restriction)
                self.types[node.get("name")] = (restriction.get("base"), [p.get("value") for p in restriction])
            elif node.tag == XS + "element":
                self.elements[node.get("name")] = node
            else:
                raise AssertionError(f"the test validator does not know {node.tag}")

    def simple_ok(self, type_name: str, value: str) -> bool:
        if type_name in BUILTIN:
            return BUILTIN[type_name](value)
        base, patterns = self.types[type_name]
        return all(re.fullmatch(p, value) for p in patterns) and self.simple_ok(base, value)

    def errors(self, node, where: str = "") -> list[str]:
        where = f"{where}/{node.tag}"
        decl = self.elements.get(node.tag)
        if decl is None:
            return [f"{where}: element not declared"]
        if decl.get("type"):  # simple content: text only
            bad = [f"{where}: no attributes allowed"] if node.attrib else []
            bad += [f"{where}: no child elements allowed"] if len(node) else []
            return bad + ([] if self.simple_ok(decl.get("type"), node.text or "") else [f"{where}: bad text"])
        [ctype] = decl
        out = []
        declared = {}
        particles = []
        for part in ctype:
            if part.tag == XS + "attribute":
                declared[part.get("name")] = part
            elif part.tag == XS + "sequence":
                particles = [(p.get("ref"), int(p.get("minOccurs", "1")),
                              math.inf if p.get("maxOccurs") == "unbounded" else int(p.get("maxOccurs", "1")))
                             for p in part]
            else:
                raise AssertionError(f"the test validator does not know {part.tag}")
        for name, value in node.attrib.items():
            if name not in declared:
                out.append(f"{where}: attribute {name!r} not allowed")
            elif not self.simple_ok(declared[name].get("type"), value):
                out.append(f"{where}: attribute {name}={value!r} is not a {declared[name].get('type')}")
        out += [f"{where}: attribute {n!r} required" for n, a in declared.items()
                if a.get("use") == "required" and n not in node.attrib]
        if ctype.get("mixed") != "true" and ((node.text or "").strip() or any((c.tail or "").strip() for c in node)):
            out.append(f"{where}: text not allowed")
        kids, i = list(node), 0
        for ref, low, high in particles:
            n = 0
            while i < len(kids) and kids[i].tag == ref and n < high:
                n, i = n + 1, i + 1
            if n < low:
                out.append(f"{where}: expected at least {low} <{ref}>")
        out += [f"{where}: <{kids[i].tag}> not allowed here"] if i < len(kids) else []
        for kid in kids:
            out += self.errors(kid, where)
        return out


def junit_errors(xml: bytes) -> list[str]:
    """Schema errors of a JUnit file, plus the totals CI systems trust: counts that match the cases."""
    root = ET.fromstring(xml)
    out = Xsd(JUNIT_XSD).errors(root)
    if out:
        return out
    for suite in root:
        cases = suite.findall("testcase")
        for attr, tag in (("tests", None), ("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
            n = len(cases) if tag is None else sum(c.find(tag) is not None for c in cases)
            if int(suite.get(attr)) != n:
                out.append(f"{suite.get('name')}: {attr}={suite.get(attr)} but {n} cases")
    for attr in ("tests", "failures", "errors"):
        if int(root.get(attr)) != sum(int(s.get(attr)) for s in root):
            out.append(f"testsuites {attr} is not the sum of its suites'")
    return out


# -- fixtures ------------------------------------------------------------------------------------------------

@pytest.fixture
def faulty(runtime):
    """A run with a bit of everything: closed and open rounds, errors, a warning, a retry, a refused request."""
    for n in range(3):
        receive(runtime, casino_event(round_id=f"R{n}", activity_id=f"b{n}", user_id="u1"), T0 + timedelta(seconds=n))
        receive(runtime, casino_event(round_id=f"R{n}", activity_id=f"w{n}", user_id="u1", type="Win",
                                      is_round_end=True), T0 + timedelta(seconds=n, milliseconds=500))
    receive(runtime, casino_event(activity_id="bad", user_id="u2", currency="EURO", meta={"a": [1, {"b": "x"}]}),
            T0 + timedelta(seconds=3))
    receive(runtime, casino_event(activity_id="nop", user_id="u2", amount=None), T0 + timedelta(seconds=3))
    receive(runtime, casino_event(activity_id="typo", user_id="u3", colour="red"), T0 + timedelta(seconds=5),
            latency_ms=1500)
    receive(runtime, b'{"truncated": \x00', T0 + timedelta(seconds=5))
    runtime.store.add_rejection("rest", T0, "transport.auth", "POST /v1/integration/casino")
    return runtime


class TestDocument:
    def test_the_timeline_counts_each_second_and_fills_the_gaps(self, faulty):
        doc = report.build(faulty)
        assert doc["timeline"]["grain"] == "second"
        points = {p["at"][11:19]: (p["received"], p["invalid"], p["warned"]) for p in doc["timeline"]["points"]}
        assert points == {"12:00:00": (2, 0, 0), "12:00:01": (2, 0, 0), "12:00:02": (2, 0, 0),
                          "12:00:03": (2, 2, 0), "12:00:04": (0, 0, 0), "12:00:05": (2, 1, 1)}

    def test_a_long_run_is_counted_per_minute(self, runtime):
        for minutes in (0, 1, 9):
            receive(runtime, casino_event(), T0 + timedelta(minutes=minutes))
        timeline = report.build(runtime)["timeline"]
        assert timeline["grain"] == "minute" and len(timeline["points"]) == 10
        assert [p["received"] for p in timeline["points"]] == [1, 1, 0, 0, 0, 0, 0, 0, 0, 1]

    def test_the_latency_histogram_is_drawn_against_the_budget(self, runtime):
        for n, ms in enumerate((0.5, 3, 300, 1000, 1500, 20_000)):
            receive(runtime, casino_event(), T0 + timedelta(seconds=n), latency_ms=ms)
        latency = report.build(runtime)["latency"]
        counted = {(b["le"] or f">{b['above']:g}"): b["count"] for b in latency["bins"] if b["count"]}
        assert counted == {1.0: 1, 5.0: 1, 500.0: 1, 1000.0: 1, 2000.0: 1, ">5000": 1}
        assert latency["over_budget"] == 2 and latency["measured"] == 6
        assert [b["over"] for b in latency["bins"]] == [e > 1000 for e in latency_edges(1000)] + [True]

    def test_violations_are_grouped_by_rule_errors_first_each_with_examples(self, faulty):
        groups = report.build(faulty)["violations"]
        assert [(g["rule"], g["severity"]) for g in groups][:4] == [
            ("json.parse", "error"), ("schema.enum", "error"), ("schema.required", "error"),
            ("transport.auth", "error")]
        assert [(g["rule"], g["severity"]) for g in groups][4:] == [
            ("latency.budget", "warning"), ("payload.unknown_field", "warning")]
        enum = next(g for g in groups if g["rule"] == "schema.enum")
        [example] = enum["examples"]
        assert example["path"] == "/currency" and example["payload"]["meta"] == {"a": [1, {"b": "x"}]}
        auth = next(g for g in groups if g["rule"] == "transport.auth")
        assert (auth["messages"], auth["refused"], auth["examples"]) == (0, 1, [])

    def test_filters_narrow_charts_and_tables_but_not_the_checklist(self, faulty):
        whole = report.build(faulty)
        doc = report.build(faulty, user_id="u2")
        assert doc["checklist"] == whole["checklist"]
        assert sum(p["received"] for p in doc["timeline"]["points"]) == 2
        assert {g["rule"] for g in doc["violations"]} == {"schema.enum", "schema.required"}
        assert [m["activity_id"] for m in doc["newest"]] == ["nop", "bad"]
        assert doc["rounds"]["rows"] == [] and report.build(faulty, user_id="u1")["rounds"]["total"] == 3
        by_rule = report.build(faulty, rule="payload.unknown_field")
        assert [m["activity_id"] for m in by_rule["newest"]] == ["typo"] and by_rule["latency"]["measured"] == 1

    def test_every_figure_is_json(self, faulty):
        doc = json.loads(report.render(report.build(faulty), "json"))
        assert doc["ftsim_report"] == 1 and doc["summary"]["received"] == 10
        assert set(doc) >= {"checklist", "facts", "timeline", "latency", "violations", "newest", "rounds", "sessions"}
        assert doc["sessions"]["rows"][0]["rounds"] == 3


def test_the_store_answers_the_report_queries_on_each_backend(db_target, make_settings):
    rt = Runtime(make_settings(db=db_target))
    try:
        receive(rt, casino_event(activity_id="a", user_id="u1"), T0, latency_ms=3)
        receive(rt, casino_event(activity_id="b", user_id="u2", currency="EURO"), T0 + timedelta(seconds=2),
                latency_ms=2000)
        receive(rt, casino_event(activity_id="c", user_id="u2", colour="red"), T0 + timedelta(seconds=2))
        rt.store.add_rejection("rest", T0, "transport.size", "2 MiB")
        marker = rt.store.change_marker()
        assert rt.store.rule_counts() == [("latency.budget", "warning", 1), ("payload.unknown_field", "warning", 1),
                                          ("schema.enum", "error", 1)]
        assert rt.store.rule_counts(user_id="u1") == []
        assert rt.store.rejection_counts() == [("rest", "transport.size", 1)]
        total, [lost] = rt.store.refused_activities()
        assert total == 1 and lost["activity_id"] == "b" and lost["violations"][0]["rule"] == "schema.enum"
        assert rt.store.received_span(user_id="u2") == (stamp(T0 + timedelta(seconds=2)),) * 2
        assert rt.store.activity_timeline(19) == [
            {"at": stamp(T0)[:19], "received": 1, "invalid": 0, "warned": 0},
            {"at": stamp(T0 + timedelta(seconds=2))[:19], "received": 2, "invalid": 1, "warned": 1}]
        assert rt.store.latency_histogram([5, 1000]) == [2, 0, 1]
        assert rt.store.latency_histogram([5, 1000], channel="kafka") == [0, 0, 0]
        assert [m["activity_id"] for m in rt.store.flagged_messages()] == ["c", "b"]
        assert [m["activity_id"] for m in rt.store.flagged_messages(rule="schema.enum")] == ["b"]
        receive(rt, casino_event(), T0 + timedelta(seconds=3))
        assert rt.store.change_marker() != marker
    finally:
        rt.store.clear()
        rt.close()


class TestPayload:
    def test_the_failing_path_is_marked_and_nothing_else(self):
        lines = payload.json_lines({"a": 1, "meta": {"list": [1, {"b": "x"}]}, "z": 2}, ["/meta/list/1/b"])
        assert [line.text.strip() for line in lines if line.marked] == ['"b": "x"']
        assert "\n".join(line.text for line in lines) == json.dumps(
            {"a": 1, "meta": {"list": [1, {"b": "x"}]}, "z": 2}, indent=2)

    def test_a_marked_container_marks_its_whole_value(self):
        lines = payload.json_lines({"meta": {"k": 1}, "x": 0}, ["/meta"])
        assert [line.text.strip() for line in lines if line.marked] == ['"meta": {', '"k": 1', "},"]

    def test_a_missing_field_gets_a_marked_line_where_it_was_expected(self):
        lines = payload.json_lines({"activity_id": "a", "meta": {}}, ["/amount", "/meta/x~1y"])
        assert [line.text for line in lines] == [
            "{", '  // missing here: "amount"', '  "activity_id": "a",', '  "meta": {', '    // missing here: "x/y"',
            "  }", "}"]
        assert [line.marked for line in lines] == [False, True, False, False, True, False, False]

    def test_a_huge_payload_keeps_the_marked_lines_and_their_neighbours(self):
        doc = {f"k{n:03}": n for n in range(500)}
        lines = payload.json_lines(doc, ["/k400"])
        assert len(lines) < 40 and any(line.gap for line in lines)
        assert [line.text.strip() for line in lines if line.marked] == ['"k400": 400,']


class TestJUnit:
    def test_it_is_valid_for_ci_with_one_case_per_checklist_item_and_per_rule(self, faulty):
        doc = report.build(faulty)
        xml = report.render(doc, "junit")
        assert junit_errors(xml) == []
        root = ET.fromstring(xml)
        checklist, rules = root.findall("testsuite")
        assert [c.get("name").split(":")[0] for c in checklist.findall("testcase")] == [
            i["id"] for i in doc["checklist"]["items"]]
        assert [c.get("name") for c in rules.findall("testcase")] == [r["rule"] for r in doc["checklist"]["rules"]]
        failed = {c.get("name") for c in rules.findall("testcase") if c.find("failure") is not None}
        assert failed == {"json.parse", "schema.enum", "schema.required", "transport.auth"}
        enum = next(c for c in rules.findall("testcase") if c.get("name") == "schema.enum").find("failure")
        assert enum.get("message") == "schema.enum: 1 message at error"
        assert "/currency" in enum.text and '"currency": "EURO"' in enum.text

    def test_a_clean_run_has_no_failures(self, runtime):
        receive(runtime, casino_event(is_round_end=True), T0)
        root = ET.fromstring(report.render(report.build(runtime), "junit"))
        assert junit_errors(ET.tostring(root)) == [] and root.get("failures") == "0"

    def test_skipped_items_are_skipped_cases(self, make_settings):
        rt = Runtime(make_settings(severity=["amount.sum=off"]))
        try:
            xml = report.render(report.build(rt), "junit")
        finally:
            rt.close()
        assert junit_errors(xml) == []
        skipped = {c.get("name"): c for c in ET.fromstring(xml).iter("testcase") if c.find("skipped") is not None}
        assert "switched off" in skipped["amount.sum"].find("skipped").text
        # user.unknown is off by default; a run with no registration, login or payment skips integration.basic
        assert set(skipped) == {"amount.sum", "user.unknown",
                                "integration.basic: Basic integration: registrations, logins and payments arrived valid"}

    def test_characters_xml_cannot_carry_are_replaced(self, faulty):
        xml = report.render(report.build(faulty), "junit")
        assert b"\x00" not in xml and "truncated".encode() in xml
        assert junit_errors(xml) == []

    def test_an_example_names_the_user_and_activity_it_has_and_no_others(self, faulty):
        """A body that could not be read has neither: its example said 'user None, activity None'."""
        text = report.render(report.build(faulty), "junit").decode()
        assert "None" not in text
        assert re.search(r"message #\d+ \(rest, received ", text) and "(rest, user u2, activity bad, " in text

    @pytest.mark.parametrize("broken,words", [
        ('<testsuites name="x" tests="1" failures="0" errors="0" time="0" skipped="0"/>', "'skipped' not allowed"),
        ('<testsuites name="x" tests="1" failures="0" errors="0" time="0"><testsuite name="s" tests="1" '
         'failures="0" errors="0" skipped="0" time="0"><testcase name="c" time="0"/></testsuite></testsuites>',
         "'classname' required"),
        ('<testsuites name="x" tests="1" failures="0" errors="0" time="soon"/>', "time='soon'"),
        ('<testsuites name="x" tests="1" failures="0" errors="0" time="0"><testsuite name="s" tests="1" '
         'failures="0" errors="0" skipped="0" time="0"><testcase name="c" classname="k" time="0">'
         '<skipped message="m"/></testcase></testsuite></testsuites>', "no attributes allowed"),
        ('<testsuites name="x" tests="1" failures="0" errors="0" time="0"><testsuite name="s" tests="2" '
         'failures="0" errors="0" skipped="0" time="0"><testcase name="c" classname="k" time="0"/>'
         '</testsuite></testsuites>', "tests=2 but 1 cases"),
    ])
    def test_the_check_rejects_what_ci_would_reject(self, broken, words):
        assert any(words in e for e in junit_errors(broken.encode())), junit_errors(broken.encode())


class TestHtml:
    def test_it_is_one_file_that_fetches_nothing_and_runs_nothing(self, faulty):
        html = report.render(report.build(faulty), "html").decode()
        assert "<script" not in html
        assert re.findall(r'(?:src|href)="([^"]*)"', html) == ["data:,"]
        assert "url(" not in html and "@import" not in html
        assert "default-src 'none'" in unescape(html)
        assert html.count('<svg class="chart') == 2

    def test_what_the_sender_wrote_is_escaped(self, runtime):
        receive(runtime, casino_event(game_name="<script>alert(1)</script>", currency="<b>EUR"), T0)
        html = report.render(report.build(runtime), "html").decode()
        assert "<script>alert" not in html and "<b>EUR" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


class TestReportCommand:
    def run(self, *argv) -> tuple[int, bytes]:
        out = io.BytesIO()
        wrapper = io.TextIOWrapper(out, encoding="utf-8")
        with redirect_stdout(wrapper):
            code = main(list(argv))
            wrapper.flush()
        return code, out.getvalue()

    def test_from_a_database_file_in_each_format(self, faulty, tmp_path):
        db = faulty.settings.db
        for fmt in ("json", "junit", "html"):
            code, _ = self.run("report", "--db", db, "--format", fmt, "--out", str(tmp_path / f"r.{fmt}"))
            assert code == 0
        assert json.loads((tmp_path / "r.json").read_text())["summary"]["received"] == 10
        assert junit_errors((tmp_path / "r.junit").read_bytes()) == []
        assert "Not ready to go live" in (tmp_path / "r.html").read_text()

    def test_from_a_running_ftsim_judged_by_the_callers_checklist(self, start_server, tmp_path):
        server = start_server(api_key="k")
        client = Client(server.url, {"X-Api-Key": "k"})
        client.post_event(casino_event(is_round_end=True, colour="red"))
        code, body = self.run("report", "--url", server.url, "--api-key", "k", "--format", "json")
        assert code == 0 and json.loads(body)["checklist"]["passed"]
        code, body = self.run("report", "--url", server.url, "--api-key", "k", "--format", "json",
                              "--fail-on", "warning")
        assert json.loads(body)["checklist"]["failed"] == ["violations"]
        assert self.run("report", "--url", server.url, "--format", "json")[0] == 2  # no credentials

    def test_the_live_server_gives_each_format_too(self, start_server):
        server = start_server()
        Client(server.url).post_event(casino_event(currency="EURO"))
        status, _ = Client(server.url).get("/api/report?format=pdf")
        assert status == 400
        import urllib.request

        with urllib.request.urlopen(server.url + "/api/report?format=junit", timeout=10) as resp:
            assert resp.headers["Content-Type"].startswith("application/xml")
            assert junit_errors(resp.read()) == []
