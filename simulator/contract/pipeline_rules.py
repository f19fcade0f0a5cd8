"""The rule ids of the upstream pipeline check (`simulator/upstream/`): an input the platform took from a
game provider or its event bus, paired with the Fast Track events it must cause.

They live in the contract layer beside the shared rules so the catalog, `ftsim rules` and severities know
them without the contract importing the pairing.
"""
from __future__ import annotations

from simulator.contract.plugin import RuleInfo

PIPELINE: dict[str, RuleInfo] = {r.id: r for r in [
    RuleInfo("pipeline.missing", "error",
             "An input (a provider callback, a bus event) whose mapped FT event did not arrive within the grace "
             "period (default 5 s)."),
    RuleInfo("pipeline.extra", "error",
             "An FT event of a kind the mapping produces that no input asked for (a second Win, a Bet after "
             "`result: false`), unpaired after the grace period."),
    RuleInfo("pipeline.amount", "error",
             "The FT event's amount differs from the input's (converted by its unit and the currency's "
             "precision); the message names both values and the likely unit error (cents sent as units)."),
    RuleInfo("pipeline.user", "error", "The FT event names another user than the input."),
    RuleInfo("pipeline.round", "error", "The FT event names another round than the input."),
    RuleInfo("pipeline.currency", "error",
             "The FT event's currency is not the input's (EvenBet: its moneyType through the mapping's table)."),
    RuleInfo("pipeline.field", "warning",
             "Another mapped field (is_round_end, status, payment type ...) differs from what the input implies."),
    RuleInfo("pipeline.latency", "warning",
             "More than the pipeline budget (default 1 s) from the input being sent to its FT event arriving."),
    RuleInfo("pipeline.order", "warning",
             "A user's FT event arrived after the FT event of a later input of that user: the feed reorders."),
    RuleInfo("pipeline.overflow", "warning",
             "The pending set was full: the oldest input was closed unpaired before its grace period ended."),
    RuleInfo("upstream.http", "error",
             "The platform answered a provider callback with a status other than 200, or not at all."),
    RuleInfo("upstream.timeout", "error", "The platform did not answer a provider callback within the timeout."),
    RuleInfo("upstream.answer", "error",
             "The answer's body is not the one the provider's contract asks for (Phoenix start: "
             "{\"result\": true|false}; finish: {})."),
]}
