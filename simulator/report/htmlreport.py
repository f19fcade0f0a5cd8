"""The report document as HTML: one self-contained file, and the live page's sections.

Everything a reader sees is rendered here from the document (see document.py): the report file and the
live page use the same templates, so they never disagree. Autoescaping is on everywhere, because payloads,
rule messages and ids come from the sender; the report file also carries a Content-Security-Policy that
forbids scripts and any network access, so it opens the same offline as online.
"""
from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from simulator.report import payload
from simulator.report import svg

REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
TIME_LABELS = {"second": lambda at: at[11:19], "minute": lambda at: at[11:16],
               "hour": lambda at: f"{at[5:10]} {at[11:13]}h", "day": lambda at: at[:10]}


def _asset(name: str) -> Markup:
    return Markup(files(__package__).joinpath("templates", name).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(loader=PackageLoader(__package__, "templates"), autoescape=True, trim_blocks=True,
                      lstrip_blocks=True, undefined=StrictUndefined)
    env.filters.update(num=_num, when=_when, ms=_ms)
    env.globals.update(payload_lines=_payload_lines, timeline_svg=_timeline_svg, histogram_svg=_histogram_svg,
                       style=_asset("style.css"), script=_asset("live.js"))
    return env


def report(doc: dict) -> str:
    """The report file: open it from disk, attach it to a CI run; it needs no network and runs no script."""
    return _env().get_template("page.html").render(doc=doc, live=False, csp=REPORT_CSP, nonce="", marker="")


def live_page(doc: dict, *, nonce: str, marker: str) -> str:
    """The live page: the same sections, a filter form, and a small script that refreshes them."""
    return _env().get_template("page.html").render(doc=doc, live=True, csp="", nonce=nonce, marker=marker)


def sections(doc: dict) -> str:
    return _env().get_template("sections.html").render(doc=doc, live=True)


def _num(value) -> str:
    return "–" if value is None else f"{value:,}"


def _when(text) -> str:
    return "–" if not text else f"{text[:10]} {text[11:23]}"


def _ms(value) -> str:
    if value is None:
        return "–"
    return svg.ms(round(float(value), 1))


def _payload_lines(example: dict):
    if "payload" in example:
        return payload.json_lines(example["payload"], example.get("paths") or [example.get("path", "")])
    return [payload.Line(line) for line in str(example.get("raw", "")).splitlines() or [""]]


def _timeline_svg(timeline: dict) -> Markup:
    label = TIME_LABELS[timeline["grain"]]
    return Markup(svg.timeline(timeline["points"], [label(p["at"]) for p in timeline["points"]]))


def _histogram_svg(latency: dict) -> Markup:
    return Markup(svg.histogram(latency["bins"], latency["budget_ms"]))
