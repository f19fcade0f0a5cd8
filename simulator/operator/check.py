"""`ftsim operator check`'s work: every endpoint once per user, in the order a CRM would need them."""
from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from simulator.core.violations import Severities
from simulator.contract.catalog import DEFAULT_SEVERITIES
from simulator.operator.auth import auth_from
from simulator.operator.client import Call, OperatorClient

CONSENTS = ("email", "sms", "telephone", "postMail", "siteNotification", "pushNotification")


def client_from(settings) -> OperatorClient:
    return OperatorClient(settings.operator_api, auth_from(settings), timeout=settings.operator_timeout,
                          severities=Severities(DEFAULT_SEVERITIES, settings.severity), engine=settings.engine)


def check_all(settings, user_ids, *, sids=(), bonus_code: str | None = None) -> list[Call]:
    client = client_from(settings)
    calls: list[Call] = []
    for i, user_id in enumerate(user_ids):
        details = client.call("userdetails", user_id)
        calls += [details, client.call("userblocks", user_id)]
        consents = client.call("userconsents", user_id)
        calls.append(consents)
        read = consents.parsed.get("consents") if isinstance(consents.parsed, dict) else None
        back = read if consents.valid and isinstance(read, list) else [{"type": t, "opted_in": True}
                                                                         for t in CONSENTS]
        calls.append(client.call("userconsents.post", user_id, {"consents": back}))
        if i < len(sids):
            calls.append(client.call("authenticate", None, {"sid": sids[i]}, expect_user=user_id))
        listed = client.call("bonus.list")
        calls.append(listed)
        code = bonus_code or _first_code(listed.parsed) or "BONUS"
        calls.append(client.call("bonus.credit", None, {"user_id": user_id, "bonus_code": code}))
        currency = details.parsed.get("currency") if isinstance(details.parsed, dict) else None
        calls.append(client.call("bonus.credit_funds", None, {
            "user_id": user_id, "bonus_code": code, "amount": 10,
            "currency": currency if isinstance(currency, str) and currency else "EUR"}))
        for c in calls[-8:]:
            if c.user_id is None:
                c.user_id = user_id
    return calls


def _first_code(parsed) -> str | None:
    data = parsed.get("Data") if isinstance(parsed, dict) else None
    if isinstance(data, list) and data and isinstance(data[0], dict) and isinstance(data[0].get("value"), str):
        return data[0]["value"]
    return None


def print_calls(calls: list[Call], out, base_url: str) -> None:
    bad = 0
    for c in calls:
        status = c.status if c.status is not None else "-"
        latency = f"{c.latency_ms:.0f} ms" if c.latency_ms is not None else "-"
        mark = "ok " if not c.violations else "BAD"
        print(f"{mark} {c.method:4} {c.path:40} user {c.user_id or '-':16} {status} {latency}", file=out)
        for v in c.violations:
            print(f"      {v.severity}: {v.rule} {v.path or '/'}: {v.message}", file=out)
        bad += bool(c.violations)
    print(f"{len(calls)} calls to {base_url}: {len(calls) - bad} good, {bad} with violations", file=out)


def junit_xml(calls: list[Call], base_url: str) -> str:
    """One test case per call, failed when it has a violation: CI shows which endpoint broke which rule."""
    failures = sum(1 for c in calls if c.violations)
    cases = []
    for c in calls:
        name = quoteattr(f"{c.method} {c.path}")
        seconds = (c.latency_ms or 0) / 1000
        case = f'  <testcase classname="operator.{c.endpoint}" name={name} time="{seconds:.3f}"'
        if c.violations:
            text = "\n".join(f"{v.severity}: {v.rule} {v.path or '/'}: {v.message}" for v in c.violations)
            first = c.violations[0]
            case += (f">\n    <failure type={quoteattr(first.rule)} message={quoteattr(first.message)}>"
                     f"{escape(text)}</failure>\n  </testcase>")
        else:
            case += " />"
        cases.append(case)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name={quoteattr("ftsim operator " + base_url)} '
            f'tests="{len(calls)}" failures="{failures}">\n' + "\n".join(cases) + "\n</testsuite>\n")
