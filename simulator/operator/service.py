"""The operator checks of a running ftsim, in one object the runtime holds (`runtime.operator`): the
client, the feed-triggered calls, and what the summary, the page, the reports and readiness show of them.
Built only when an operator API is configured; nothing in it holds a secret a caller could print."""
from __future__ import annotations

from simulator.operator.auth import auth_from
from simulator.operator.client import OperatorClient
from simulator.operator.trigger import Trigger

READINESS = (("operator.userdetails", "Operator API: GetUserDetails answers right", ("userdetails",)),
             ("operator.consents", "Operator API: GetConsents answers right", ("userconsents",)),
             ("operator.blocks", "Operator API: GetBlocks answers right", ("userblocks",)))
ASKED_BY = {"userdetails": "USER_CREATE_V2 or USER_UPDATE_V2", "userconsents": "USER_CREATE_V2 or USER_CONSENTS_V2",
            "userblocks": "USER_CREATE_V2 or USER_BLOCK_V2"}


class OperatorChecks:
    def __init__(self, settings, store, severities):
        self.settings, self.store = settings, store
        self.auth = auth_from(settings)
        self.client = OperatorClient(settings.operator_api, self.auth, timeout=settings.operator_timeout,
                                     severities=severities, engine=settings.engine)
        self.trigger = Trigger(self.client, store, queue_size=settings.operator_queue,
                               workers=settings.operator_workers, rate=settings.operator_rate)

    def on_verdicts(self, verdicts) -> None:
        self.trigger.on_verdicts(verdicts)

    def summary(self) -> dict:
        stats = self.store.operator_call_stats()
        return {"url": self.settings.operator_api, "auth": self.auth.kind, "timeout_s": self.settings.operator_timeout,
                "rate_per_s": self.settings.operator_rate, **stats,
                "failures_by_rule": {rule: e["calls"] for rule, e in stats["by_rule"].items()},
                **self.trigger.stats()}

    def readiness(self, summary: dict | None = None) -> list[dict]:
        """The operator's checklist items, judged here (the report layer cannot know the operator)."""
        s = summary or self.summary()
        dropped = s["dropped"]["calls"]
        note = f"; {dropped} calls dropped (queue full), not judged" if dropped else ""
        out = []
        for item_id, title, endpoints in READINESS:
            calls = sum(s["by_endpoint"].get(e, {}).get("calls", 0) for e in endpoints)
            failed = sum(s["by_endpoint"].get(e, {}).get("failed", 0) for e in endpoints)
            if not calls:
                passed, detail = False, f"no calls yet: no {ASKED_BY[endpoints[0]]} event was accepted{note}"
            else:
                passed = failed == 0
                detail = f"{calls} calls, {failed} with an error{note}"
            out.append({"id": item_id, "title": title, "passed": passed, "detail": detail,
                        "evidence": {"calls": calls, "failed": failed, "dropped_calls": dropped}})
        p99, budget = s["latency_ms"]["p99"], self.settings.operator_latency_budget * 1000
        timeouts = s["by_rule"].get("operator.timeout", {}).get("calls", 0)
        if p99 is None:
            passed, detail = False, "no answer measured yet"
        else:
            passed = p99 <= budget and not timeouts
            detail = (f"p99 {p99:.0f} ms {'within' if p99 <= budget else 'over'} the budget of {budget:.0f} ms"
                      + (f"; {timeouts} calls timed out" if timeouts else ""))
        out.append({"id": "operator.latency", "title": "Operator API answers in time", "passed": passed,
                    "detail": detail, "evidence": {"p99_ms": p99, "budget_ms": budget, "timeouts": timeouts}})
        return out

    def wait_idle(self, timeout: float = 30.0) -> bool:
        return self.trigger.wait_idle(timeout)

    def close(self) -> None:
        self.trigger.stop()
