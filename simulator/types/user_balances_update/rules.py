"""Balance updates' stateless rules: each balance once per event."""
from __future__ import annotations

from simulator.contract.plugin import Facts
from simulator.core.violations import Violation


def duplicate_key(f: Facts):
    balances = f.payload.get("balances")
    if not isinstance(balances, list):
        return
    first: dict[str, int] = {}
    for i, item in enumerate(balances):
        key = item.get("key") if isinstance(item, dict) else None
        if not isinstance(key, str):
            continue
        if key in first:
            yield Violation("balances.duplicate_key", f"/balances/{i}/key",
                            f"key: expected each balance once per event, got {key} again (first at "
                            f"/balances/{first[key]}); which one is the balance?")
        else:
            first[key] = i
