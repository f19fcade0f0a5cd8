"""The README's tables of event types and rules are the ones `ftsim types/rules --markdown` print now."""
from pathlib import Path

from simulator.commands import rules, types
from simulator.contract.catalog import CATALOG
from simulator.contract.registry import load_registry

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def section(name: str) -> str:
    begin, end = f"<!-- {name}:begin -->\n", f"<!-- {name}:end -->"
    assert begin in README and end in README, f"README lost its {name} markers"
    return README.split(begin, 1)[1].split(end, 1)[0]


def test_the_types_table_lists_every_type():
    assert section("types") == types.markdown(types.describe_types(load_registry())), \
        "regenerate with: ftsim types --markdown"


def test_the_rules_table_lists_every_rule():
    assert section("rules") == rules.markdown(CATALOG), "regenerate with: ftsim rules --markdown"
