"""Imports point down the layers ARCHITECTURE.md draws; one pointing the wrong way fails here."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "simulator"

# layer -> the layers it may import (besides itself)
ALLOWED = {
    "core": set(),
    "store": {"core"},
    "contract": {"core"},
    "types": {"core", "contract"},
    "intake": {"core", "contract", "store"},
    "report": {"core", "contract", "store"},
    "transports": {"core", "contract", "report"},
    "upstream": {"core", "contract"},
    "app": {"core", "store", "contract", "types", "intake", "report", "transports", "operator", "upstream"},
    "clients": {"core", "contract"},
    "operator": {"core", "contract"},  # the operator's API client: store and intake only as objects handed in
    "cli": {"core", "store", "contract", "types", "intake", "report", "transports", "app", "clients", "operator",
            "upstream"},
}
# (importing module, imported module prefix): the documented exceptions
EXCEPTIONS = {
    ("simulator.contract.registry", "simulator.types"),  # discovery of the type folders
    ("simulator.clients.pytest_plugin", "simulator.serve"),  # the fixture that starts an ftsim in-process
    ("simulator.clients.pytest_plugin", "simulator.settings"),
    ("simulator.clients.pytest_plugin", "simulator.report"),  # judges a checklist from a server's facts
}
TOP = {"intake": "intake", "runtime": "app", "serve": "app", "settings": "app", "hub": "app", "group": "app",
       "worker": "app", "cli": "cli", "__main__": "cli",
       "commands": "cli", "__init__": "cli"}


def layer_of(module: str) -> str:
    part = module.split(".")[1] if "." in module else "__init__"
    return TOP.get(part, part)


def imports():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        module = ".".join(p for p in rel.parts if p != "__init__")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                yield module, f"(relative import of {node.module or '.'})", node.lineno
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "simulator":
                yield module, node.module, node.lineno
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "simulator":
                        yield module, alias.name, node.lineno


def test_every_layer_is_known():
    layers = {layer_of(m) for m, _, _ in imports()}
    assert layers <= set(ALLOWED), layers - set(ALLOWED)


def test_imports_point_down_the_layers():
    wrong = []
    for module, target, line in imports():
        if target.startswith("("):
            wrong.append(f"{module}:{line} {target}: import absolutely, so this test can see it")
            continue
        if target == "simulator" or any(module == m and target.startswith(t) for m, t in EXCEPTIONS):
            continue
        source, dest = layer_of(module), layer_of(target)
        if dest != source and dest not in ALLOWED[source]:
            wrong.append(f"{module}:{line} imports {target} ({source} -> {dest})")
    assert not wrong, "imports pointing the wrong way:\n" + "\n".join(wrong)


def test_no_layer_below_the_types_names_one():
    """Intake, store, report and transports find event types through the registry, never by module."""
    named = [f"{m}:{line} imports {t}" for m, t, line in imports()
             if t.startswith("simulator.types.") and layer_of(m) in {"intake", "store", "report", "transports",
                                                                   "clients", "operator", "upstream"}]
    assert not named, "\n".join(named)
