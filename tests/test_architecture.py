"""The layering docs/architecture.md states holds: imports point down, no cycles, each module imports alone."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "sysmon_rules"
ROOT_UNIT = "sysmon_rules"  # the package root's own __init__ (lazy re-exports, __version__)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import that runs (function-level ones included), not those only for type checkers."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (n for orelse in node.orelse for n in _import_nodes_of(orelse))
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _import_nodes(node)


def _import_nodes_of(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    yield from _import_nodes(node)


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that ``name`` imports (``from . import x`` resolved to the module x)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith(ROOT_UNIT))
            continue
        base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
        target = ".".join([*base, node.module] if node.module else base)
        if not target.startswith(ROOT_UNIT):
            continue
        subs = {f"{target}.{a.name}" for a in node.names} & modules.keys()
        found.update(subs or {target})
    return {m for m in found if m in modules and m != name}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _unit(module: str) -> str:
    """A top-level module or subpackage of sysmon_rules: ``blob`` for ``sysmon_rules.blob.layout``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ROOT_UNIT


def _documented_layers(project_root: Path) -> dict[str, int]:
    """unit -> layer number, from the table in docs/architecture.md (higher imports lower)."""
    text = (project_root / "docs" / "architecture.md").read_text("utf-8")
    layers: dict[str, int] = {}
    for number, units in re.findall(r"^\|\s*(\d+)\s*\|([^|]*)\|", text, re.MULTILINE):
        for unit in re.findall(r"`([\w.]+?)/?`", units):
            layers[unit] = int(number)
    return layers


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, if there is any (depth-first search with colours)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_module_import_graph_has_no_cycle() -> None:
    assert _cycle(_graph()) is None


def test_the_package_import_graph_has_no_cycle() -> None:
    units: dict[str, set[str]] = {}
    for module, targets in _graph().items():
        units.setdefault(_unit(module), set()).update(_unit(t) for t in targets if _unit(t) != _unit(module))
    assert _cycle(units) is None


def test_every_import_points_down_the_documented_layers(project_root: Path) -> None:
    layers = _documented_layers(project_root)
    graph = _graph()
    undocumented = sorted({_unit(m) for m in graph} - layers.keys())
    assert not undocumented, f"add these to the layer table in docs/architecture.md: {undocumented}"
    upward = sorted(f"{m} -> {t}" for m, targets in graph.items() for t in targets
                    if _unit(m) != _unit(t) and layers[_unit(t)] >= layers[_unit(m)])
    assert not upward, "imports that do not point to a lower layer:\n" + "\n".join(upward)


def test_the_table_is_read_and_names_the_layers_that_exist(project_root: Path) -> None:
    layers = _documented_layers(project_root)
    assert layers["cli"] > layers["api"] > layers["lint"] > layers["engine"] > layers["blob"]
    assert layers["blob"] > layers["validation"] > layers["xml"] > layers["configwalk"] > layers["errors"]
    for coming in ("merging", "diffing", "readiness", "htmlreport", "replaying", "witness"):
        assert layers["engine"] < layers[coming] < layers["api"]


_IMPORT_EACH = """
import importlib, sys
failed = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m == "sysmon_rules" or m.startswith("sysmon_rules.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed.append(f"{name}: {type(exc).__name__}: {exc}")
print("\\n".join(failed))
"""


@pytest.mark.parametrize("half", [0, 1])
def test_each_module_imports_on_its_own(half: int) -> None:
    names = sorted(_modules())[half::2]
    result = subprocess.run([sys.executable, "-c", _IMPORT_EACH, *names], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_every_code_the_validator_emits_is_catalogued() -> None:
    from sysmon_rules.errors import SysmonRulesError
    from sysmon_rules.validation.codes import CODES

    emitted: set[str] = set()
    for path in [*(PACKAGE / "validation").glob("*.py"), PACKAGE / "configwalk.py"]:
        text = path.read_text("utf-8") if path.exists() else ""
        emitted |= set(re.findall(r"(?:Diagnostic\(\s*|_error\(\s*)\"([a-z-]+)\"", text))
        emitted |= set(re.findall(r"^\s+\"([a-z]+-[a-z-]+)\", (?:silent|\"error\"|\"warning\")", text, re.M))
    reader_errors = {"xml-syntax", "file-access", SysmonRulesError.code}  # what reading a config raises
    assert emitted - CODES.keys() == set()
    assert CODES.keys() - emitted == reader_errors
