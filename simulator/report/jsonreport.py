"""The report document as a JSON file: every figure the page shows, for scripts and dashboards."""
from __future__ import annotations

import json


def render(doc: dict) -> bytes:
    return json.dumps(doc, indent=2, ensure_ascii=False, default=str).encode("utf-8") + b"\n"
