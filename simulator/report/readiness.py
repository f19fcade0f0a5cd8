"""The go-live checklist: is what ftsim received good enough to go live with?

Two steps, kept apart so that the same verdict comes out wherever the evidence was read:
`gather(runtime, summary)` reads the evidence through the store's query methods (in `ftsim serve`, or from
a database file), and `evaluate(facts, config)` judges it against a `Checklist` config (TOML, see
`load_checklist`). `ftsim verify --url` fetches the facts a running ftsim gathered and evaluates them with
its own config, so a CI job's checklist file wins over the server's.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields, replace
from fnmatch import fnmatchcase
from typing import Mapping

from simulator.contract.catalog import CATALOG
from simulator.contract.registry import load_registry
from simulator.core.errors import ConfigError

EXAMPLES = 3  # first examples kept per broken rule
FAIL_LEVELS = {"error": ("error",), "warning": ("error", "warning")}
ITEM_IDS = ("violations", "duplicates.retries", "retries.lost", "integration.basic", "latency.p99")  # + each type's items, channel.<name>


def type_items(registry=None) -> dict:
    """The checklist items event types add (casino: rounds.closed), by id."""
    return {item.id: item for t in (registry or load_registry()) for item in t.readiness}


PIPELINE_ITEMS = ("pipeline.complete", "pipeline.latency")  # judged only when a pipeline run took place


def skippable() -> tuple[str, ...]:
    return ITEM_IDS[1:] + tuple(type_items()) + OPERATOR_ITEMS + PIPELINE_ITEMS  # "violations" stays: switch rules off with ignore_rules instead
OPERATOR_ITEMS = ("operator.userdetails", "operator.consents", "operator.blocks", "operator.latency")
OWN_CHANNEL = "api"  # rejections of the query API and the page: not the sender's doing


@dataclass(frozen=True)
class Checklist:
    """What the checklist demands; every field is a key of the `[readiness]` table."""
    fail_on: str = "error"  # the lowest severity that breaks a rule: error, or warning too
    clean_rules: tuple[str, ...] = ()  # rule ids or globs that must have no violation at any severity
    ignore_rules: tuple[str, ...] = ()  # rule ids or globs that never fail the checklist (accepted, known)
    latency_budget_ms: float | None = None  # p99 must stay within it; None: the server's --latency-budget
    channels: Mapping[str, int] | None = None  # channel -> minimum messages; None: see default_channels
    skip: tuple[str, ...] = ()  # item ids not to judge (shown as skipped); not "violations"
    # integration.basic: None judges it once any of its types arrived (a casino-only run skips it); True
    # always (the run must be a full integration); False never
    basic_integration: bool | None = None

    def with_fail_on(self, fail_on: str | None) -> "Checklist":
        if fail_on is None:
            return self
        return _checked(replace(self, fail_on=fail_on), "--fail-on")


def load_checklist(path: str | None, fail_on: str | None = None) -> Checklist:
    """The `[readiness]` table of a TOML file (or the whole file when it has no such table)."""
    if not path:
        return Checklist().with_fail_on(fail_on)
    try:
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"checklist {path}: {exc}") from None
    return checklist_from(doc.get("readiness", doc), path).with_fail_on(fail_on)


def checklist_from(table: Mapping, where: str = "checklist") -> Checklist:
    known = {f.name for f in fields(Checklist)}
    values = {}
    for key, value in table.items():
        name = key.replace("-", "_")
        if name not in known:
            raise ConfigError(f"{where}: unknown key {key!r}; expected one of {', '.join(sorted(known))}")
        values[name] = value
    for name in ("clean_rules", "ignore_rules", "skip"):
        if name in values:
            value = values[name]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}: {name}: expected a list of strings, got {value!r}")
            values[name] = tuple(value)
    if "channels" in values:
        value = values["channels"]
        if not isinstance(value, Mapping) or not all(
                isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in value.values()):
            raise ConfigError(f"{where}: channels: expected a table of channel = minimum messages, got {value!r}")
        values["channels"] = dict(value)
    if "basic_integration" in values and not isinstance(values["basic_integration"], bool):
        raise ConfigError(f"{where}: basic_integration: expected true or false, got {values['basic_integration']!r}")
    if "latency_budget_ms" in values:
        value = values["latency_budget_ms"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ConfigError(f"{where}: latency_budget_ms: expected milliseconds > 0, got {value!r}")
        values["latency_budget_ms"] = float(value)
    return _checked(Checklist(**values), where)


def _checked(c: Checklist, where: str) -> Checklist:
    if c.fail_on not in FAIL_LEVELS:
        raise ConfigError(f"{where}: fail_on: expected error or warning, got {c.fail_on!r}")
    for item in c.skip:
        if item not in skippable() and not item.startswith("channel."):
            raise ConfigError(f"{where}: skip: expected one of {', '.join(skippable())}, channel.NAME; got {item!r} "
                              f"(to excuse rules, use ignore_rules)")
    return c


# -- evidence ---------------------------------------------------------------------------------------

def gather(runtime, summary: dict) -> dict:
    """Everything `evaluate` reads, from the store's query methods; plain JSON, so it can travel."""
    store = runtime.store
    by_rule: dict[str, dict[str, int]] = {}
    for rule, severity, n in store.rule_counts():
        by_rule.setdefault(rule, {})[severity] = by_rule.get(rule, {}).get(severity, 0) + n
    refused: dict[str, int] = {}
    for channel, rule, n in store.rejection_counts():
        if channel != OWN_CHANNEL:
            refused[rule] = refused.get(rule, 0) + n
    examples = {}
    for rule in by_rule:
        found, _ = store.messages(rule=rule, limit=EXAMPLES, count=False)
        examples[rule] = [example(m, rule) for m in found]
    lost, lost_examples = store.refused_activities(EXAMPLES)
    latency = summary["latency_ms"]
    budget = latency["budget"]
    within, over = store.latency_histogram([budget])
    return {
        "received": summary["received"],
        "by_channel": {name: c["received"] for name, c in summary["by_channel"].items()},
        "listeners": sorted(summary.get("channels", {})),
        "rules": by_rule,
        "refused": refused,
        "severities": {rule: runtime.severities.of(rule) for rule in runtime.catalog},
        "examples": examples,
        "types": {item_id: item.gather(store) for item_id, item in type_items(runtime.registry).items()},
        "basic": {t.marker: {ch: c["valid"] for ch, c in summary.get("by_type", {}).get(t.name, {})
                             .get("by_channel", {}).items()} for t in runtime.registry if t.basic},
        "lost": {"count": lost, "examples": lost_examples},
        "latency": {"p99": latency["p99"], "budget_ms": budget, "over_budget": over,
                    "measured": within + over},
        "store": summary.get("store"),
        # Judged where the operator's calls are known (runtime.operator); present only when one is configured.
        "operator": runtime.operator.readiness(summary.get("operator"))
        if getattr(runtime, "operator", None) is not None else [],
        **({"pipeline": summary["pipeline"]} if summary.get("pipeline") else {}),
    }


PAYLOAD_LIMIT = 64 * 1024  # an example's payload is shown whole up to this size, cut beyond it


def example(message: dict, rule: str) -> dict:
    """One message as evidence of a rule: where, which path, what was said, and what was sent."""
    found = [v for v in message["violations"] if v["rule"] == rule]
    first = found[0] if found else {"path": "", "message": "", "severity": ""}
    out = {"id": message["id"], "channel": message["channel"], "received_at": message["received_at"],
           "user_id": message["user_id"], "activity_id": message["activity_id"], "rule": rule,
           "path": first["path"], "message": first["message"], "severity": first["severity"],
           "paths": [v["path"] for v in found]}
    payload = message.get("payload")
    raw = message.get("raw")
    if payload is not None and len(repr(payload)) <= PAYLOAD_LIMIT:
        out["payload"] = payload
    else:
        text = raw if raw is not None else repr(payload)
        out["raw"] = text[:4096] + (f"... ({len(text)} characters)" if len(text) > 4096 else "")
    return out


def example_names(e: dict) -> str:
    """", user U, activity A" for an example, naming only what it has: a body that could not be read has
    neither, and its examples said "user None, activity None"."""
    return "".join(f", {what} {e[key]}" for what, key in (("user", "user_id"), ("activity", "activity_id"))
                   if e.get(key) is not None)


# -- judgement --------------------------------------------------------------------------------------

def default_channels(facts: dict) -> dict[str, int]:
    """The broker channels ftsim listens on; else the channels that sent anything; else REST. One each."""
    names = facts["listeners"] or sorted(facts["by_channel"]) or ["rest"]
    return {name: 1 for name in names}


def _matches(rule: str, patterns) -> bool:
    return any(fnmatchcase(rule, p) for p in patterns)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def judge_rules(facts: dict, config: Checklist) -> list[dict]:
    """One verdict per rule: every rule in the catalog, and every rule that was seen or refused."""
    levels = FAIL_LEVELS[config.fail_on]
    seen, refused = facts["rules"], facts["refused"]
    names = [r for r in (facts["severities"] or CATALOG) if r != "schema.*"]
    names += sorted(r for r in seen if r.startswith("schema.")) or ["schema.*"]
    names += sorted(r for r in {*seen, *refused} if r not in names)
    out = []
    for rule in names:
        counts = seen.get(rule, {})
        stored, turned_away = sum(counts.values()), refused.get(rule, 0)
        configured = facts["severities"].get(rule) or facts["severities"].get("schema.*", "error")
        clean = _matches(rule, config.clean_rules)
        failing = sum(n for level, n in counts.items() if clean or level in levels)
        failing_refused = turned_away if (clean or configured in levels) else 0
        if _matches(rule, config.ignore_rules):
            status, detail = "passed", f"ignored by the checklist ({_plural(stored + turned_away, 'message')})"
        elif failing or failing_refused:
            which = "any severity (clean_rules)" if clean else " or ".join(levels)
            parts = ([_plural(failing, "message")] if failing else []) + (
                [_plural(failing_refused, "refused request")] if failing_refused else [])
            status, detail = "failed", f"{' and '.join(parts)} at {which}"
        elif stored + turned_away == 0 and configured == "off":
            status, detail = "skipped", "switched off (severity off)"
        else:
            shown = ", ".join(f"{n} {level}" for level, n in sorted(counts.items()))
            status, detail = "passed", f"none at {' or '.join(levels)}" + (f" ({shown})" if shown else "")
        out.append({"rule": rule, "status": status, "severity": configured, "counts": counts,
                    "messages": stored, "refused": turned_away, "detail": detail, "summary": rule_summary(rule),
                    "examples": facts["examples"].get(rule, [])})
    return out


def rule_summary(rule: str) -> str:
    info = CATALOG.get(rule) or (CATALOG["schema.*"] if rule.startswith("schema.") else None)
    return info.summary if info else ""


def _item(item_id: str, title: str, passed: bool, detail: str, config: Checklist, **evidence) -> dict:
    status = "skipped" if item_id in config.skip else ("passed" if passed else "failed")
    return {"id": item_id, "title": title, "status": status, "detail": detail, "evidence": evidence}


def _basic_integration(facts: dict, config: Checklist) -> dict:
    """The guide's minimum to go live: registrations, logins and payments, each valid on every channel in use."""
    basic = facts["basic"]  # marker -> channel -> valid messages
    title = "Basic integration: registrations, logins and payments arrived valid"
    seen = any(n for per in basic.values() for n in per.values())
    wanted = config.basic_integration if config.basic_integration is not None else (seen or None)
    if not wanted:
        item = _item("integration.basic", title, True, "", config, types=basic)
        why = ("no registration, login or payment arrived: a casino-only run (set basic_integration = true "
               "in [readiness] to require them)") if config.basic_integration is None else "basic_integration = false"
        item.update(status="skipped", detail=why)
        return item
    channels = sorted({ch for per in basic.values() for ch in per} | set(facts["by_channel"])) or ["rest"]
    missing = [f"{marker} on {ch}" for marker, per in sorted(basic.items()) for ch in channels if not per.get(ch)]
    detail = ("missing: " + ", ".join(missing)) if missing else \
        f"{', '.join(sorted(basic))} each arrived valid on {', '.join(channels)}"
    return _item("integration.basic", title, not missing, detail, config, types=basic, channels=channels,
                 missing=missing)


def evaluate(facts: dict, config: Checklist | None = None, registry=None) -> dict:
    """The checklist: each item passed, failed or skipped, with the evidence; `passed` when none failed.
    registry: the types whose items to judge (the discovered ones unless a test brings its own)."""
    config = config or Checklist()
    rules = judge_rules(facts, config)
    broken = [r for r in rules if r["status"] == "failed"]
    title = "No error-severity violations" if config.fail_on == "error" else "No error or warning violations"
    items = [_item(
        "violations", title, not broken,
        (f"{len(broken)} rule{'s' * (len(broken) != 1)} broken: "
         + ", ".join(f"{r['rule']} ({r['messages'] + r['refused']})" for r in broken)) if broken
        else f"none in {facts['received']} messages", config,
        broken=[{"rule": r["rule"], "counts": r["counts"], "refused": r["refused"], "examples": r["examples"]}
                for r in broken])]

    retries = sum(facts["rules"].get("activity.retry", {}).values())
    conflicts = sum(facts["rules"].get("activity.duplicate", {}).values())
    items.append(_item(
        "duplicates.retries", "Duplicates only as retries", conflicts == 0,
        f"{conflicts} activity id{'s' * (conflicts != 1)} reused for a different event; {retries} exact retries"
        if conflicts else (f"{retries} duplicate{'s' * (retries != 1)}, all exact retries" if retries
                           else "no duplicates"), config,
        retries=retries, conflicts=conflicts, examples=facts["examples"].get("activity.duplicate", [])))

    lost = facts["lost"]
    items.append(_item(
        "retries.lost", "No lost retries", lost["count"] == 0,
        f"{lost['count']} event{'s' * (lost['count'] != 1)} refused and never delivered valid: "
        + ", ".join(e["activity_id"] for e in lost["examples"]) if lost["count"]
        else "every refused event was delivered again and accepted", config, **lost))

    if "basic" in facts:
        items.append(_basic_integration(facts, config))
    for item_id, item in type_items(registry).items():
        evidence = facts.get("types", {}).get(item_id)
        if evidence is None:  # facts from an ftsim that does not know this item
            continue
        passed, detail = item.judge(evidence)
        items.append(_item(item_id, item.title, passed, detail, config, **evidence))

    for judged in facts.get("operator") or ():
        items.append(_item(judged["id"], judged["title"], judged["passed"], judged["detail"], config,
                           **judged["evidence"]))

    latency = facts["latency"]
    budget = config.latency_budget_ms or latency["budget_ms"]
    p99 = latency["p99"]
    if p99 is None:
        latency_ok, words = False, "no latency measured: no message had a valid timestamp"
    else:
        latency_ok = p99 <= budget
        words = f"p99 {p99:g} ms {'within' if latency_ok else 'over'} the budget of {budget:g} ms"
        if latency["over_budget"] and budget == latency["budget_ms"]:
            words += f"; {latency['over_budget']} of {latency['measured']} messages over it"
    items.append(_item("latency.p99", "Latency budget held at p99", latency_ok, words, config,
                       p99=p99, budget_ms=budget, measured=latency["measured"]))

    if facts.get("pipeline"):
        items += pipeline_items(facts["pipeline"], config)

    required = config.channels if config.channels is not None else default_channels(facts)
    for name, minimum in sorted(required.items()):
        got = facts["by_channel"].get(name, 0)
        items.append(_item(f"channel.{name}", f"Channel {name} seen", got >= minimum,
                           f"{got} message{'s' * (got != 1)} on {name}, at least {minimum} required", config,
                           channel=name, received=got, minimum=minimum))
    store = facts.get("store")
    if store and not store.get("ok"):  # listed only when it fails: a healthy store is not news
        items.append(_item("store", "The store keeps what is acknowledged", False, store.get("error") or "",
                           config, **store))
    failed = [i for i in items if i["status"] == "failed"]
    return {"passed": not failed, "fail_on": config.fail_on,
            "failed": [i["id"] for i in failed], "items": items, "rules": rules}


WRONG_VALUES = ("pipeline.amount", "pipeline.user", "pipeline.round", "pipeline.currency", "pipeline.field",
                "pipeline.order", "pipeline.overflow")


def pipeline_items(p: dict, config: Checklist) -> list[dict]:
    """The upstream pipeline (see simulator/upstream/): every input caused its FT events, right and on time."""
    levels = FAIL_LEVELS[config.fail_on]
    wrong = {r: sum(n for level, n in c.items() if level in levels) for r, c in p["by_rule"].items()
             if r in WRONG_VALUES or r.startswith("upstream.")}
    wrong = {r: n for r, n in wrong.items() if n}
    complete = not p["missing"] and not p["extra"] and not p["pending"] and not wrong
    words = (f"{p['inputs']} inputs, {p['paired']} of {p['expected']} expected FT events paired; "
             f"{p['missing']} missing, {p['extra']} extra" + (f", {p['pending']} still waiting" if p["pending"] else "")
             + "".join(f", {r} {n}" for r, n in sorted(wrong.items())))
    lat = p["latency_ms"]
    budget = config.latency_budget_ms or lat["budget"]
    if lat["p99"] is None:
        lat_ok, lat_words = False, "no input was paired with an FT event: no end-to-end latency measured"
    else:
        lat_ok = lat["p99"] <= budget
        lat_words = (f"end to end p99 {lat['p99']:g} ms {'within' if lat_ok else 'over'} the budget of {budget:g} ms; "
                     f"{lat['over']} of {lat['measured']} pairs over it")
    return [_item("pipeline.complete", "Every upstream input caused its FT events, right", complete, words, config,
                  inputs=p["inputs"], expected=p["expected"], paired=p["paired"], missing=p["missing"],
                  extra=p["extra"], pending=p["pending"], wrong=wrong),
            _item("pipeline.latency", "Upstream input to FT event within the budget at p99", lat_ok, lat_words, config,
                  p99=lat["p99"], budget_ms=budget, measured=lat["measured"], over=lat["over"])]
