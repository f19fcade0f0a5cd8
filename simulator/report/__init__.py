"""Reports of what ftsim received: the document (document.py) and its renderings as JSON, JUnit and HTML.

`render(doc, fmt)` is what the CLI, the CI mode of `ftsim serve` and the live page's /api/report call.
"""
from __future__ import annotations

from simulator.report.document import build

FORMATS = ("html", "junit", "json")


def render(doc: dict, fmt: str) -> bytes:
    if fmt == "json":
        from simulator.report.jsonreport import render as to_json

        return to_json(doc)
    if fmt == "junit":
        from simulator.report.junit import render as to_junit

        return to_junit(doc)
    if fmt == "html":
        from simulator.report.htmlreport import report

        return report(doc).encode("utf-8")
    raise ValueError(f"report format: expected one of {', '.join(FORMATS)}, got {fmt!r}")


__all__ = ["FORMATS", "build", "render"]
