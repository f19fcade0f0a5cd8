"""The rules ftsim judges an operator's API answers by (issue 10), listed here so that the rule catalog,
`ftsim rules` and severity overrides know them like any event rule, though no event ever carries one."""
from __future__ import annotations

from simulator.contract.plugin import RuleInfo

OPERATOR_RULES: dict[str, RuleInfo] = {r.id: r for r in [
    RuleInfo("operator.status", "error", "Operator API: the answer's HTTP status is not 200."),
    RuleInfo("operator.schema.*", "error",
             "Operator API: the answer breaks its schema (schemas/operator/); the suffix is the keyword "
             "(operator.schema.required, operator.schema.type, operator.schema.enum ...). FT applies hard "
             "validation to these answers."),
    RuleInfo("operator.timeout", "error", "Operator API: no answer within the timeout (default 5 s)."),
    RuleInfo("operator.unreachable", "error", "Operator API: the connection failed (refused, reset, DNS, TLS)."),
    RuleInfo("operator.cache", "error",
             "Operator API: the answer may be cached (no Cache-Control, or one without no-store / no-cache / "
             "max-age=0, or with public / a positive max-age); FT says these endpoints must not be cached."),
    RuleInfo("operator.auth", "error",
             "Operator API: 401 or 403 to ftsim's configured credentials (after one token refresh for OAuth)."),
    RuleInfo("operator.content_type", "error", "Operator API: a 200 answer whose Content-Type is not JSON."),
    RuleInfo("operator.redirect", "error", "Operator API: a 3xx answer; the CRM calls the configured URL and "
                                           "does not follow redirects."),
    RuleInfo("operator.not_json", "error", "Operator API: a 200 answer whose body is not a JSON object."),
    RuleInfo("operator.user_mismatch", "error", "Operator API: the answer is for another user than asked."),
    RuleInfo("operator.token", "error",
             "Operator API, OAuth: the token endpoint answered wrong (not 200, not JSON, no access_token, "
             "expires_in not a positive number, token_type not Bearer)."),
    RuleInfo("operator.currency", "warning",
             "Operator API: GetUserDetails' currency differs from the currency of the user's casino or payment "
             "events."),
    RuleInfo("operator.stale", "warning",
             "Operator API: after a USER_BLOCK_V2 or USER_CONSENTS_V2 event, the operator's answer does not show "
             "the block or consent the event carried."),
]}
