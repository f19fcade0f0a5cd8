"""EvenBet's financial events (seed 002), for teams that produce them: the platform's bus contract, not FT's.

Each is an event type of its own, its marker the EvenBet event name, so REST (`POST /v1/integration/evenbet/<name>`),
RabbitMQ and Kafka take it like any other. They have one profile, `strict`, from the seed's field tables
(every profile falls back to it): EvenBet publishes one contract, so there is nothing to choose between.
Their FT counterpart is checked by the pipeline pairing (`simulator/upstream/`), not here.
"""
from __future__ import annotations

from datetime import datetime, timezone

from simulator.contract.plugin import EventType
from simulator.contract.registry import load_schema

EUR = 80  # the moneyType the seed shows


def evenbet_type(name: str, marker: str, summary: str, ref: str | None = None) -> EventType:
    return EventType(name=f"evenbet_{name}", marker=marker, document=load_schema(f"evenbet/{name}"), method="POST",
                     path=f"/v1/integration/evenbet/{marker}", ref=ref, summary=summary, family="evenbet",
                     generate=SAMPLES[name])


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _player(ctx) -> tuple[int, str]:
    return ctx.new_number("evenbet.player"), ctx.user_id


# A valid event of each kind, for `tests/test_every_type.py` and anyone sampling the contract; the EvenBet
# journeys themselves are driven by simulator/clients/upstream/evenbet.py (`ftsim upstream evenbet`).

def _balance(ctx, **want) -> list[dict]:
    player, external = _player(ctx)
    old = ctx.rng.randint(0, 100_000)
    return [{"playerId": player, "externalId": external, "externalSystemCode": "default", "skinId": 0,
             "moneyType": EUR, "oldAmount": old, "newAmount": old + ctx.rng.randint(1, 5_000), "oldBonusAmount": 0,
             "newBonusAmount": 0, "newInPlayAmount": 0}]


def _transaction(ctx, **want) -> list[dict]:
    player, external = _player(ctx)
    return [{"transactionId": ctx.new_number("evenbet.transaction"), "paramPlayerId": player,
             "paramExternalId": external, "paramExternalSystemCode": "default", "skinId": 0, "moneyType": EUR,
             "amount": ctx.rng.randint(100, 50_000), "transactionType": 10, "transactionSubType": 1,
             "spendingPriority": 0, "paramTableId": 0, "paramTournamentId": 0, "notes": "",
             "createdStamp": _stamp(), "paramExternalSessionId": ""}]


def _round_closed(ctx, **want) -> list[dict]:
    player, external = _player(ctx)
    return [{"provider": "MyProvider", "externalRoundId": ctx.new_id("evenbet.round"), "playerId": player,
             "externalId": external, "externalSystemCode": "default", "skinId": 0, "closeMethod": 1,
             "closedByPlayerId": player, "hasTransaction": True,
             "transaction": {"playerId": player, "moneyType": EUR, "amount": ctx.rng.randint(0, 5_000),
                             "subtype": 114, "notes": "", "isReverse": False, "isResultSuccess": True,
                             "resultText": "", "resultTransactionId": ctx.new_number("evenbet.transaction"),
                             "spendingPriority": 0, "entityType": 3, "entityId": 1, "skipCreation": False},
             "hasRoundExtInfo": False, "creditBalancePriority": 0, "betMultiplier": 0, "betType": 0,
             "oldRoundCloseMethod": 0, "objectId": player}]


def _p2p(ctx, **want) -> list[dict]:
    sender, external = _player(ctx)
    return [{"senderId": sender, "senderExternalId": external, "senderExternalSystemCode": "default",
             "senderSkinId": 0, "receiverId": sender + 1, "receiverExternalId": external + "-friend",
             "receiverExternalSystemCode": "default", "receiverSkinId": 0, "moneyType": EUR,
             "amount": ctx.rng.randint(100, 10_000), "request": False, "success": True}]


SAMPLES = {"player_balance_changed": _balance, "transaction_notification": _transaction,
           "casino_round_closed": _round_closed, "p2p_transfer": _p2p}
