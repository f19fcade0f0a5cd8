"""The pipeline seen everywhere, over a real HTTP server: /api/pipeline, the summary, the report's checklist
items pipeline.complete and pipeline.latency, and the live page's section."""
from __future__ import annotations

from tests.conftest import Client, casino_event
from tests.upstream.test_pairing import start


def test_pipeline_in_the_api_summary_report_readiness_and_live_page(start_server):
    server = start_server(pipeline_grace=30)
    client = Client(server.url)
    assert "pipeline" not in client.get("/api/summary")[1]  # no run announced: nothing to show
    assert client.request("POST", "/api/pipeline/inputs", {"inputs": [start("r1"), start("r2")]})[1] == {
        "accepted": 2, "retried": 0}
    for rnd, amount in (("r1", 1.5), ("r2", 150)):  # r2: the bet in cents
        event = casino_event(user_id="p1", round_id=rnd, amount=amount, type="Bet", wager_amount=None,
                             bonus_wager_amount=None, locked_wager_amount=None)
        assert client.post_event(event)[0] == 200

    status, found = client.get("/api/pipeline?verdict=problem")
    assert status == 200 and found["total"] == 1 and found["inputs"][0]["input"] == "start:r2"
    assert client.get("/api/pipeline?verdict=maybe")[0] == 400
    assert client.request("POST", "/api/pipeline/inputs", {"inputs": [{"id": "x"}]})[0] == 400

    summary = client.get("/api/summary")[1]["pipeline"]
    assert (summary["paired"], summary["by_rule"]) == (2, {"pipeline.amount": {"error": 1}})

    doc = client.get("/api/report")[1]
    items = {i["id"]: i for i in doc["checklist"]["items"]}
    assert items["pipeline.complete"]["status"] == "failed"
    assert "pipeline.amount 1" in items["pipeline.complete"]["detail"]
    assert items["pipeline.latency"]["status"] == "passed"
    assert doc["pipeline"]["problems"][0]["input"] == "start:r2"

    status, page = client.request("GET", "/")
    assert status == 200 and b'id="pipeline"' in page and b"start:r2" in page
    assert b"cents" in page
    junit = client.request("GET", "/api/report?format=junit")[1]
    assert b"pipeline.complete" in junit


def test_rules_list_the_pipeline_rules_with_their_severities(start_server):
    rules = {r["rule"]: r["default"] for r in Client(start_server().url).get("/api/rules")[1]["rules"]}
    assert rules["pipeline.missing"] == "error" and rules["pipeline.latency"] == "warning"
    assert rules["pipeline.amount"] == "error" and rules["upstream.answer"] == "error"
