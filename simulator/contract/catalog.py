"""Every rule ftsim reports, with its default severity and what it means.

The shared rules are listed here, each type's own in its folder (`EventType.rule_info`); together they are
the single source for `ftsim rules`, the README's rule list and severity defaults; a rule
function names its id here and nowhere invents one.
"""
from __future__ import annotations

import difflib
from fnmatch import fnmatchcase

from simulator.contract.operator_rules import OPERATOR_RULES
from simulator.contract.pipeline_rules import PIPELINE
from simulator.contract.plugin import RuleInfo
from simulator.contract.registry import load_registry

COMMON: dict[str, RuleInfo] = {r.id: r for r in [
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
    RuleInfo("transport.busy", "warning",
             "REST: a body over 16 KiB (chunked or not) found none of the 16 places a process keeps for large bodies "
             "within the body deadline (503 with Retry-After, counted, body not kept: the sender sends it again)."),
    RuleInfo("json.parse", "error",
             "Body is not UTF-8, not JSON, not a JSON object, or nested deeper than 64 levels."),
    RuleInfo("json.number", "error",
             "A JSON number no double-precision parser can carry (beyond about 1.8e308) or with more than 4300 "
             "digits; the body is not judged further."),
    RuleInfo("json.duplicate_key", "warning",
             "A key sent twice in one object: the last value is taken, as the CRM's parser does."),
    RuleInfo("schema.*", "error",
             "The event breaks its JSON Schema; the suffix is the keyword (schema.required, schema.type, "
             "schema.enum, schema.format, schema.minimum, schema.minLength, schema.exclusiveMinimum ...)."),
    RuleInfo("payload.unknown_field", "warning",
             "A field the contract does not define (often a typo: the message suggests the closest known name)."),
    RuleInfo("latency.budget", "warning",
             "Received more than the latency budget (default 1 s) after the event's timestamp."),
    RuleInfo("timestamp.future", "warning", "The event's timestamp is more than 5 s ahead of ftsim's clock."),
    RuleInfo("timestamp.lax", "warning",
             "Profile ft: a date-time FT's validator takes but RFC 3339 does not (the docs' one-digit hour, a bare "
             "date, a bare time); ftsim reads no time from it (no latency check; casino rounds leave it out)."),
    RuleInfo("activity.empty_id", "error",
             "The event's id (casino: activity_id) is an empty string where the profile's schema lets it through "
             "(FT's validator does): it cannot be de-duplicated."),
    RuleInfo("activity.retry", "info",
             "The same activity_id with the same payload again: a retry, recorded but counted once in rounds."),
    RuleInfo("activity.duplicate", "error",
             "The same activity_id with a different payload (other than a Rollback of it): not counted."),
    RuleInfo("ftsim.internal", "error",
             "ftsim failed to judge the message: a bug in ftsim (the incident id in the message is in its log)."),
    RuleInfo("ftsim.truncated", "info",
             "More than 50 violations in one message: the rest are counted in this one, which takes the "
             "severity of the worst of them."),
]}
COMMON.update(OPERATOR_RULES)  # the Operator API's answers (simulator/operator/): judged, never carried by events


def catalog_of(registry) -> dict[str, RuleInfo]:
    """The shared rules, the pipeline's and every rule the registry's types bring."""
    out = {**COMMON, **PIPELINE}
    for t in registry:
        for info in t.rule_info:
            known = out.get(info.id)
            if known is not None and known != info:
                raise ValueError(f"rule {info.id!r}: event type {t.name} redefines it differently")
            out[info.id] = info
    return out


CATALOG: dict[str, RuleInfo] = catalog_of(load_registry())
DEFAULT_SEVERITIES: dict[str, str] = {r.id: r.severity for r in CATALOG.values()}


def unknown_rules(overrides, catalog: dict[str, RuleInfo]) -> list[str]:
    """What `--severity` names that no rule of the catalog answers to, each with a suggestion: a typo there
    would otherwise change nothing and say nothing. A rule id counts when the catalog has it or a family of
    it (`schema.format` under `schema.*`); a glob counts when it matches a rule or is a family itself."""
    families = [r for r in catalog if r.endswith(".*")]
    out = []
    for rule in overrides:
        if rule in catalog or any(fnmatchcase(rule, f) for f in families):
            continue
        if any(c in rule for c in "*?[") and any(fnmatchcase(r, rule) for r in catalog):
            continue
        near = difflib.get_close_matches(rule, list(catalog), n=1, cutoff=0.6)
        out.append(f"{rule!r}" + (f" (did you mean {near[0]!r}?)" if near else ""))
    return out
