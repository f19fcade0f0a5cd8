"""Every rule ftsim reports, with its default severity and what it means.

This table is the single source for `ftsim rules`, the README's rule list and severity defaults; a rule
function names its id here and nowhere invents one.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RuleInfo:
    id: str
    severity: str
    summary: str


CATALOG: dict[str, RuleInfo] = {r.id: r for r in [
    RuleInfo("transport.type", "error",
             "The channel's type marker is missing or is not the event type's (RabbitMQ: the message property "
             "`type`, headers ignored; Kafka: the header `type`; REST: the path decides)."),
    RuleInfo("transport.auth", "error", "REST: missing or wrong X-Api-Key / Basic credentials (401, counted, body not kept)."),
    RuleInfo("transport.size", "error", "REST: body larger than the configured limit (413, counted, body not kept)."),
    RuleInfo("transport.media_type", "error", "REST: Content-Type is not JSON (415, counted, body not kept)."),
    RuleInfo("transport.incomplete", "error",
             "REST: the body never arrived whole: shorter than its Content-Length, a broken chunked encoding, the "
             "sender gone mid-body, or not complete within the server's body deadline (400 or 408, counted apart "
             "from messages, body not kept)."),
    RuleInfo("json.parse", "error", "Body is not UTF-8, not JSON, or not a JSON object."),
    RuleInfo("schema.*", "error",
             "The event breaks its JSON Schema; the suffix is the keyword (schema.required, schema.type, "
             "schema.enum, schema.format, schema.minimum, schema.minLength, schema.exclusiveMinimum ...)."),
    RuleInfo("payload.unknown_field", "warning",
             "A field the contract does not define (often a typo: the message suggests the closest known name)."),
    RuleInfo("amount.sum", "error",
             "amount differs from wager_amount + bonus_wager_amount + locked_wager_amount (those sent) by more "
             "than the tolerance (default 0.01)."),
    RuleInfo("latency.budget", "warning",
             "Received more than the latency budget (default 1 s) after the event's timestamp."),
    RuleInfo("timestamp.future", "warning", "The event's timestamp is more than 5 s ahead of ftsim's clock."),
    RuleInfo("activity.retry", "info",
             "The same activity_id with the same payload again: a retry, recorded but counted once in rounds."),
    RuleInfo("activity.duplicate", "error",
             "The same activity_id with a different payload (other than a Rollback of it): not counted."),
    RuleInfo("round.missing_id", "info", "No round_id (allowed by the lenient profile): the event joins no round."),
    RuleInfo("round.win_without_bet", "warning", "A Win in a round with no approved Bet before it."),
    RuleInfo("round.after_end", "error",
             "An approved event for a round that already ended with is_round_end=true (Rollbacks may follow the end)."),
    RuleInfo("round.rollback_unknown", "error",
             "A Rollback whose activity_id matches no approved, not yet reversed event in its round: reverses nothing."),
    RuleInfo("round.rollback_mismatch", "warning",
             "A Rollback whose amount or type differs from the event it reverses (the original amount is reversed)."),
    RuleInfo("round.currency_mismatch", "error", "An event in a different currency from the round's first event."),
    RuleInfo("round.game_mismatch", "warning", "An event with a different game_id from the round's first event."),
]}

DEFAULT_SEVERITIES: dict[str, str] = {r.id: r.severity for r in CATALOG.values()}
