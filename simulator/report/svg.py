"""The two charts, drawn as inline SVG text: no library, no script, nothing fetched to see them.

Both the report file and the live page embed what these functions return, so a chart looks the same in a
browser with the network off, in a CI artifact viewer and on the live page.
"""
from __future__ import annotations

from html import escape
from math import ceil, log10

W, H = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 46, 12, 14, 38


def nice_max(value: float) -> int:
    """The top of a count axis with four round, whole-number ticks: 4 x (1, 2, 2.5 or 5 x 10^k) >= value."""
    raw = max(value, 1) / 4
    power = 10 ** int(log10(raw)) if raw >= 1 else 1
    while True:
        for step in (1, 2, 2.5, 5):
            unit = step * power
            if unit >= raw and unit == int(unit):
                return int(4 * unit)
        power *= 10


def _frame(kind: str, label: str, body: list[str], top: float) -> str:
    plot_h = H - TOP - BOTTOM
    grid = []
    for i in range(5):
        y = TOP + plot_h - plot_h * i / 4
        value = top * i / 4
        grid.append(f'<line class="grid" x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
                    f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value:g}</text>')
    return (f'<svg class="chart {kind}" viewBox="0 0 {W} {H}" role="img" aria-label="{escape(label)}" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>'
            + "".join(grid) + "".join(body)
            + f'<line class="axis" x1="{LEFT}" x2="{W - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}"/></svg>')


def _empty(kind: str, label: str, words: str) -> str:
    return (f'<svg class="chart {kind} empty" viewBox="0 0 {W} {H}" role="img" aria-label="{escape(label)}" '
            f'xmlns="http://www.w3.org/2000/svg"><text class="none" x="{W / 2}" y="{H / 2}" '
            f'text-anchor="middle">{escape(words)}</text></svg>')


def timeline(points: list[dict], labels: list[str]) -> str:
    """Stacked bars per time bucket: clean, with a warning, invalid."""
    label = "Messages over time: clean, with warnings, invalid"
    if not points:
        return _empty("timeline", label, "No messages yet")
    top = nice_max(max(p["received"] for p in points))
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    step = plot_w / len(points)
    bar = min(36.0, max(1.0, step * 0.8))
    body = []
    for i, (p, text) in enumerate(zip(points, labels)):
        x = LEFT + i * step + (step - bar) / 2
        clean = p["received"] - p["invalid"] - p["warned"]
        y = TOP + plot_h
        tip = f"{text}: {p['received']} received, {p['invalid']} invalid, {p['warned']} with warnings"
        parts = [f"<title>{escape(tip)}</title>"]
        for kind, n in (("ok", clean), ("warn", p["warned"]), ("bad", p["invalid"])):
            if n:
                h = plot_h * n / top
                y -= h
                parts.append(f'<rect class="bar {kind}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}"/>')
        body.append(f'<g>{"".join(parts)}</g>')
    every = max(1, ceil(len(points) / 6))
    for i in range(0, len(points), every):
        x = LEFT + i * step + step / 2
        body.append(f'<text class="tick" x="{x:.1f}" y="{H - BOTTOM + 16}" text-anchor="middle">'
                    f'{escape(labels[i])}</text>')
    return _frame("timeline", label, body, top)


def ms(value: float) -> str:
    return f"{value / 1000:g} s" if value >= 1000 else f"{value:g} ms"


def short(value: float) -> str:
    """An axis label: milliseconds as a bare number, seconds with an s."""
    return f"{value / 1000:g}s" if value >= 1000 else f"{value:g}"


def histogram(bins: list[dict], budget_ms: float) -> str:
    """Bars per latency bin (equal widths, 1-2-5 bounds); bins over the budget stand out; the budget is a line."""
    label = f"Latency histogram against the budget of {ms(budget_ms)}"
    if not any(b["count"] for b in bins):
        return _empty("histogram", label, "No latency measured yet")
    top = nice_max(max(b["count"] for b in bins))
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    step = plot_w / len(bins)
    bar = step * 0.8
    body = []
    for i, b in enumerate(bins):
        x = LEFT + i * step + (step - bar) / 2
        h = plot_h * b["count"] / top
        over = b["over"]
        name = f"over {ms(b['above'])}" if b.get("le") is None else f"up to {ms(b['le'])}"
        if b["count"]:
            body.append(f'<g><title>{escape(name)}: {b["count"]} messages</title>'
                        f'<rect class="bar {"bad" if over else "ok"}" x="{x:.1f}" y="{TOP + plot_h - h:.1f}" '
                        f'width="{bar:.1f}" height="{h:.1f}"/></g>')
        tick = f"&gt;{short(b['above'])}" if b.get("le") is None else short(b["le"])
        body.append(f'<text class="tick" x="{LEFT + i * step + step / 2:.1f}" y="{H - BOTTOM + 16}" '
                    f'text-anchor="middle">{tick}</text>')
    edge = next((i for i, b in enumerate(bins) if b["over"]), len(bins))
    x = LEFT + edge * step
    body.append(f'<line class="budget" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP - 4}" y2="{TOP + plot_h}"/>'
                f'<text class="budget-label" x="{x - 4:.1f}" y="{TOP + 10}" text-anchor="end">'
                f'budget {escape(ms(budget_ms))}</text>')
    body.append(f'<text class="tick" x="{LEFT + plot_w / 2:.1f}" y="{H - 6}" text-anchor="middle">'
                f'latency in ms (s where marked), upper bound of each bin</text>')
    return _frame("histogram", label, body, top)
