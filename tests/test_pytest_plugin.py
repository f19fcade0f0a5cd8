"""How an operator's own suite uses ftsim's pytest plugin: install ftsim, ask for the `ftsim` fixture.

Nothing here imports the plugin: pytest loads it through the `pytest11` entry point, as it would in the
operator's project. `PlatformSender` stands in for the operator's real code that reports casino activity
to Fast Track; the tests point it at ftsim and check what ftsim made of it.
"""
import json
import urllib.error
import urllib.request
from datetime import datetime, timezone

import pytest


class PlatformSender:
    """The operator's REST sender, as simple as a real one: post each event, retry until it gets 200."""

    def __init__(self, url: str, headers: dict):
        self.url, self.headers = url, {**headers, "Content-Type": "application/json"}

    def send(self, event: dict, attempts: int = 3) -> int:
        for _ in range(attempts):
            req = urllib.request.Request(self.url, json.dumps(event).encode(), self.headers, method="POST")
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    return resp.status
            except urllib.error.HTTPError as err:
                status = err.code
        return status

    def play(self, user: str, round_id: str, bet: float, win: float, currency: str = "EUR") -> None:
        now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        common = {"user_id": user, "round_id": round_id, "currency": currency, "exchange_rate": 1,
                  "game_id": "10911", "game_name": "Dead or Alive", "origin": "casino.example.com",
                  "status": "Approved", "timestamp": now, "vendor_id": "1", "bonus_wager_amount": 0,
                  "locked_wager_amount": 0}
        self.send({**common, "activity_id": f"{round_id}-bet", "type": "Bet", "amount": bet, "wager_amount": bet,
                   "is_round_end": False})
        self.send({**common, "activity_id": f"{round_id}-win", "type": "Win", "amount": win, "wager_amount": win,
                   "is_round_end": True})


@pytest.fixture(scope="session")
def ftsim_settings():
    """The operator's choice of contract reading and credentials (usually in their conftest.py)."""
    return {"api_key": "operator-test-key", "profile": "strict"}


@pytest.fixture
def sender(ftsim):
    return PlatformSender(ftsim.casino_url, ftsim.headers)


def test_a_played_round_meets_the_contract(ftsim, sender):
    sender.play("52530", "round-1", bet=20, win=50)
    ftsim.wait_for(2)
    [rnd] = ftsim.rounds()
    assert (rnd["status"], rnd["bet_total"], rnd["win_total"]) == ("closed", "20.00", "50.00")
    ftsim.assert_contract_held()
    ftsim.assert_ready()


def test_each_test_starts_from_an_empty_ftsim(ftsim, sender):
    assert ftsim.summary()["received"] == 0
    sender.play("52530", "round-2", bet=1, win=0)
    assert [m["activity_id"] for m in ftsim.wait_for(2)] == ["round-2-bet", "round-2-win"]


def test_a_broken_event_fails_with_its_rule_path_and_payload(ftsim, sender):
    sender.play("52530", "round-3", bet=20, win=5, currency="EURO")
    ftsim.wait_for(6)  # the sender retried each 400 twice more
    with pytest.raises(AssertionError) as failed:
        ftsim.assert_contract_held()
    text = str(failed.value)
    assert text.startswith("ftsim: the contract did not hold: 6 violations in 6 messages")
    assert "error schema.enum at /currency: currency: expected an ISO 4217 currency code" in text
    assert '/currency = "EURO"' in text and '"activity_id": "round-3-bet"' in text
    assert [v["rule"] for v in ftsim.violations()] == ["schema.enum"] * 6
    with pytest.raises(AssertionError, match="retries.lost"):
        ftsim.assert_ready()


def test_a_sender_with_the_wrong_key_is_told_so(ftsim):
    assert PlatformSender(ftsim.casino_url, {"X-Api-Key": "stale"}).send({}, attempts=1) == 401
    with pytest.raises(AssertionError, match="refused before intake .*transport.auth x1"):
        ftsim.assert_contract_held()


def test_waiting_for_more_than_arrives_says_what_did(ftsim, sender):
    sender.send({"not": "an event"})
    with pytest.raises(AssertionError, match=r"expected 5 messages within 0.2 s, received 3 \(by channel"):
        ftsim.wait_for(5, timeout=0.2)


def test_the_plugin_comes_from_the_entry_point(pytestconfig):
    plugin = pytestconfig.pluginmanager.get_plugin("ftsim")
    assert plugin is not None and plugin.__name__ == "simulator.clients.pytest_plugin"
