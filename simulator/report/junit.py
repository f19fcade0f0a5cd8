"""The checklist as JUnit XML, so CI systems list each checklist item and each rule as a test case.

Two suites: `ftsim.checklist` (one case per item) and `ftsim.rules` (one case per rule). A failed item or
rule is a <failure> whose message is the one-line detail and whose text is the evidence: the first
examples with rule, path, message and payload. The layout follows the JUnit XML that Jenkins, GitLab and
GitHub test reporters read (testsuites > testsuite > testcase > failure | skipped); case names carry no
figures, so a CI system can follow each case from run to run.
"""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from simulator.report.readiness import example_names, type_items

# Characters XML 1.0 cannot carry at all; payload text may contain them (a NUL in a refused body, say).
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
STATUS_WORDS = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}


def _clean(text) -> str:
    return _NOT_XML.sub("\ufffd", str(text))


def _examples(examples: list[dict]) -> str:
    out = []
    for e in examples:
        out.append(f"message #{e['id']} ({e['channel']}{example_names(e)}, received {e['received_at']})\n"
                   f"  {e['rule']} at {e['path'] or '/'}: {e['message']}")
        body = json.dumps(e["payload"], ensure_ascii=False) if "payload" in e else e.get("raw", "")
        out.append(f"  payload: {body[:2000]}")
    return "\n".join(out)


def _counts(counts: dict, refused: int) -> str:
    words = [f"{n} {level}" for level, n in sorted(counts.items())]
    return ", ".join(words + ([f"{refused} refused, body not kept"] if refused else []))


def _evidence(item: dict) -> str:
    """The failure text of a checklist item: its evidence, in the words a CI log reader needs."""
    ev = item["evidence"]
    if item["id"] == "violations":
        return "\n\n".join(f"{b['rule']} ({_counts(b['counts'], b['refused'])})\n{_examples(b['examples'])}".rstrip()
                            for b in ev["broken"])
    if item["id"] == "duplicates.retries":
        return _examples(ev["examples"])
    if item["id"] == "retries.lost":
        return "\n".join(f"activity {e['activity_id']} (user {e['user_id']}): {e['deliveries']} deliveries, none "
                         f"valid; last #{e['last_message_id']}: "
                         + "; ".join(f"{v['rule']} at {v['path'] or '/'}" for v in e["violations"])
                         for e in ev["examples"])
    explain = type_items().get(item["id"])
    if explain is not None and explain.explain is not None:
        return explain.explain(ev) or item["detail"]
    return item["detail"]


def _case(suite: ET.Element, name: str, classname: str, status: str, message: str, kind: str, text: str) -> None:
    case = ET.SubElement(suite, "testcase", name=_clean(name), classname=classname, time="0")
    if status == "failed":
        failure = ET.SubElement(case, "failure", message=_clean(message), type=kind)
        failure.text = _clean(text)
    elif status == "skipped":  # text, not a message attribute: Jenkins' junit-4.xsd types <skipped> as a string
        ET.SubElement(case, "skipped").text = _clean(message)


_ITEM_ENDPOINTS = {"operator.userdetails": ("userdetails",), "operator.consents": ("userconsents",),
                   "operator.blocks": ("userblocks",)}


def _operator_calls(name: str, operator: dict) -> str:
    item = name.split(":", 1)[0]
    endpoints = _ITEM_ENDPOINTS.get(item)
    calls = [c for c in operator["failing"] if endpoints is None or c["endpoint"] in endpoints]
    return "\n".join(f"{c['method']} {c['path']} (user {c['user_id']}, message #{c['message_id']}, status "
                     f"{c['status']}, {c['latency_ms']} ms)\n" + "\n".join(
                         f"  {v['rule']} at {v['path'] or '/'}: {v['message']}" for v in c["violations"])
                     for c in calls)


def _suite(root: ET.Element, name: str, cases: list[tuple], stamp: str, source: str) -> None:
    statuses = [c[2] for c in cases]
    suite = ET.SubElement(root, "testsuite", name=name, tests=str(len(cases)),
                          failures=str(statuses.count("failed")), errors="0",
                          skipped=str(statuses.count("skipped")), time="0", timestamp=stamp)
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="source", value=_clean(source or "-"))
    for c in cases:
        _case(suite, *c)


def render(doc: dict) -> bytes:
    checklist = doc["checklist"]
    stamp = doc["generated_at"][:19]  # the Ant schema's timestamp: ISO 8601 without a zone (this is UTC)
    items = [(f"{i['id']}: {i['title']}", "ftsim.checklist", i["status"], i["detail"], f"ftsim.{i['id']}",
              _evidence(i)) for i in checklist["items"]]
    operator = doc.get("operator")
    if operator:  # the operator's items: the failing calls are their evidence
        items = [c if not c[0].startswith("operator.") else c[:5] + (_operator_calls(c[0], operator) or c[5],)
                 for c in items]
    rules = [(r["rule"], "ftsim.rules", r["status"], f"{r['rule']}: {r['detail']}", r["rule"],
              _examples(r["examples"]) or r["detail"]) for r in checklist["rules"]]
    root = ET.Element("testsuites", name="ftsim readiness")
    _suite(root, "ftsim.checklist", items, stamp, doc.get("source", ""))
    _suite(root, "ftsim.rules", rules, stamp, doc.get("source", ""))
    every = items + rules
    root.set("tests", str(len(every)))
    root.set("failures", str(sum(c[2] == "failed" for c in every)))
    root.set("errors", "0")
    root.set("time", "0")
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
