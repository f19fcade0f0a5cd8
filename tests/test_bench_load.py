"""The benchmark's REST load generator sends what a REST sender would: each message to the route of its own
type, and no type that FT's REST API does not take. (It once cached a route per marker, so every LOTTERY_V2
went to the path of whichever shape came first, and posted the brokers-only types to casino's route: 7% of
full-journey's REST messages were 400s that measured nothing.)"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from simulator.contract.registry import load_registry
from simulator.core.envelope import Envelope

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import load  # noqa: E402  (bench/load.py)


def test_every_full_journey_message_goes_to_its_own_types_route_and_is_valid_there(runtime):
    registry = load_registry()
    items = load.templates("full-journey", 3000, "bench-load")
    routed = {}
    for user_id, head, tail, (method, path) in items:
        body = head + (load.stamp() + tail if tail is not None else b"")
        payload = json.loads(body)
        served = registry.routes[path][method]  # a route ftsim serves, or KeyError
        routed.setdefault(served.name, 0)
        routed[served.name] += 1
        verdict = runtime.intake.one(Envelope("rest", body, served.marker, type_name=served.name))
        assert verdict.valid, (served.name, [v.rule for v in verdict.violations], payload)
    assert {"lottery", "lottery_v2"} <= set(routed)  # both shapes of one marker, each at its own path
    assert all(registry.types[name].path is not None for name in routed)
