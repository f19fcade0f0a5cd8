"""EvenBet-shaped events (seed 002) checked by ftsim: the seed's examples pass, the driver's events pass,
broken types and stamps are named, and REST serves each at /v1/integration/evenbet/<name>."""
from __future__ import annotations


import pytest

from simulator.clients.upstream.evenbet import Bus
from tests.conftest import Client

SEED = {
    "OnPlayerBalanceChanged": {"playerId": 81622, "externalId": "EXT123", "externalSystemCode": "default", "skinId": 0,
                               "moneyType": 80, "oldAmount": 100000, "newAmount": 95000, "oldBonusAmount": 5000,
                               "newBonusAmount": 5000, "newInPlayAmount": 5000},
    "OnTransactionNotification": {"transactionId": 337686, "paramPlayerId": 106, "paramExternalId": "12341234",
                                  "paramExternalSystemCode": "12345", "skinId": 0, "moneyType": 80, "amount": 1,
                                  "transactionType": 501, "transactionSubType": 113, "spendingPriority": 0,
                                  "paramTableId": 846897, "paramTournamentId": 0, "notes": "",
                                  "createdStamp": "2024-03-07 04:23:20", "paramExternalSessionId": ""},
    "OnP2PTransfer": {"senderId": 81622, "senderExternalId": "EXT123", "senderExternalSystemCode": "default",
                      "senderSkinId": 0, "receiverId": 81623, "receiverExternalId": "EXT456",
                      "receiverExternalSystemCode": "default", "receiverSkinId": 0, "moneyType": 80, "amount": 10000,
                      "request": False, "success": True},
    "OnCasinoRoundClosed": {"provider": "MyProvider", "externalRoundId": "436546-4554", "playerId": 23110634,
                            "externalId": "EXT123", "externalSystemCode": "default", "skinId": 0, "closeMethod": 1,
                            "closedByPlayerId": 23110634, "hasTransaction": True,
                            "transaction": {"playerId": 23110634, "moneyType": 80, "amount": 5000, "isReverse": False,
                                            "isResultSuccess": True, "resultTransactionId": 123456},
                            "betType": 0, "objectId": 23110634},
}


@pytest.mark.parametrize("marker", sorted(SEED))
def test_the_seeds_examples_are_valid(judge, marker):
    verdict = judge(SEED[marker], marker=marker, channel="rabbit")
    assert verdict.valid and verdict.violations == [], verdict.violations


def test_every_event_the_driver_publishes_is_valid(judge):
    bad = [(name, v.as_dict()) for name, body, _ in Bus(seed=3).events(400)
           for v in judge(body, marker=name, channel="kafka").violations]
    assert bad == []


def test_minor_units_integer_codes_and_stamps_are_held_to_the_seed(judge):
    body = {**SEED["OnTransactionNotification"], "amount": 1.5, "moneyType": "EUR",
            "createdStamp": "2024-03-07T04:23:20Z"}
    found = {(v.rule, v.path) for v in judge(body, marker="OnTransactionNotification").violations}
    assert found == {("schema.type", "/amount"), ("schema.type", "/moneyType"), ("schema.pattern", "/createdStamp")}


def test_a_round_closed_with_a_transaction_must_carry_it(judge):
    body = {k: v for k, v in SEED["OnCasinoRoundClosed"].items() if k != "transaction"}
    assert {v.rule for v in judge(body, marker="OnCasinoRoundClosed").violations} == {"schema.required"}


def test_rest_serves_each_at_its_name(server):
    client = Client(server.url)
    for marker, body in SEED.items():
        status, answer = client.request("POST", f"/v1/integration/evenbet/{marker}", body)
        assert status == 200, (marker, answer)
