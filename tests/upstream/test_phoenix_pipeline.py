"""Phoenix callbacks end to end: the driver (a real process) plays the provider against the example adapter
(a real process), which sends FT CASINO events over REST to a real ftsim that pairs them."""
from __future__ import annotations

import pytest

from tests.brokers import api
from tests.upstream.adapters import adapter, drive  # noqa: F401  (the fixture)


@pytest.fixture
def ftsim(start_server):
    return start_server(pipeline_grace=10)  # a loaded CI machine may take seconds to carry a callback through


def run(ftsim, adapter, *bugs, count=40, balance="1000", scenario="mixed"):
    flags = [f for b in bugs for f in ("--bug", b)]
    platform = adapter("phoenix_adapter.py", "--ftsim", ftsim.url, "--port", "0", "--balance", balance, *flags)
    done = drive("phoenix", "--callback-url", platform.url(), "--ftsim", ftsim.url, "--count", str(count),
                 "--rate", "0", "--scenario", scenario, "--settle", "30")
    return done, api(ftsim, "/api/pipeline?limit=1000")


def problems(ftsim, rule: str) -> list[dict]:
    return api(ftsim, f"/api/pipeline?verdict=problem&rule={rule}&limit=1000")["inputs"]


def test_the_correct_adapter_gives_a_clean_pipeline_over_thousands_of_callbacks(start_server, adapter):
    # Flat out, a loaded machine can take more than the 1 s budget to carry a callback through, and concurrent
    # players' callbacks overtake each other: what is judged here is the pairing (latency and order have tests
    # of their own, the `late` bug switch among them).
    ftsim = start_server(pipeline_grace=10, severity=["pipeline.latency=off", "pipeline.order=off"])
    done, found = run(ftsim, adapter, count=1500)
    s = found["summary"]
    assert done.returncode == 0, done.stdout + done.stderr
    assert s["inputs"] == 3000 and s["paired"] == s["expected"] == 3000
    assert (s["missing"], s["extra"], s["problems"], s["pending"], s["unclaimed"]) == (0, 0, 0, 0, 0)
    assert s["by_rule"] == {} and s["latency_ms"]["p99"] is not None
    assert "pipeline: 3000 inputs" in done.stdout
    summary = api(ftsim, "/api/summary")
    assert summary["pipeline"]["paired"] == 3000


def test_result_false_causes_no_expected_bet(ftsim, adapter):
    done, found = run(ftsim, adapter, count=80, balance="50", scenario="highroller")
    s = found["summary"]
    assert done.returncode == 0, done.stdout + done.stderr
    assert s["not_sent"] > 0 and s["missing"] == 0 and s["extra"] == 0 and s["problems"] == 0
    assert s["expected"] == s["paired"]  # every start taken has its Bet, every finish its Win; no refused one
    assert "answered result:false" in done.stdout


@pytest.mark.parametrize("bug, rule, words", [
    ("cents", "pipeline.amount", "likely minor units (cents) sent as major units"),
    ("drop-win", "pipeline.missing", "no CASINO Win"),
    ("late", "pipeline.latency", "the budget is 1000 ms"),
    ("round-id", "pipeline.round", "round_id for phoenix input"),
])
def test_each_bug_switch_is_caught_with_its_rule_and_the_input_named(ftsim, adapter, bug, rule, words):
    done, found = run(ftsim, adapter, bug, count=30)
    assert done.returncode == 1 if rule != "pipeline.latency" else done.returncode == 0, done.stdout
    rows = problems(ftsim, rule)
    assert rows, found["summary"]
    row = rows[0]
    messages = [v["message"] for v in row["violations"] + [v for e in row["events"] for v in e["violations"]]
                if v["rule"] == rule]
    assert any(words in m and row["input"] in m for m in messages), messages
    assert rule in done.stdout


def test_a_second_run_against_the_same_ftsim_catches_the_bug_switched_on_meanwhile(ftsim, adapter):
    """The README's walkthrough: a clean run, then the adapter restarted with a bug switch and the driver run
    again against the same ftsim. Each run takes a fresh seed, so the second sends new ids; with one fixed
    seed its inputs were retries and its FT events duplicates, and the bug came out clean, exit 0."""
    clean, _ = run(ftsim, adapter, count=20)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    bugged, _ = run(ftsim, adapter, "cents", count=20)
    assert bugged.returncode == 1, bugged.stdout + bugged.stderr
    assert problems(ftsim, "pipeline.amount")
    seeds = [int(line.split()[2]) for out in (clean, bugged) for line in out.stdout.splitlines()
             if line.startswith("phoenix: seed ")]
    assert len(seeds) == 2 and seeds[0] != seeds[1]
