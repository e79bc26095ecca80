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


def _import_nodes(tree: ast.AST, annotation: bool = False) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import (function-level ones included), with whether it is only for type checkers
    (under ``if TYPE_CHECKING:``)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            for inner in node.body:
                yield from _import_nodes_of(inner, True)
            for inner in node.orelse:
                yield from _import_nodes_of(inner, annotation)
            continue
        yield from _import_nodes_of(node, annotation)


def _import_nodes_of(node: ast.AST, annotation: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node, annotation
    yield from _import_nodes(node, annotation)


def _imports(name: str, path: Path, modules: dict[str, Path]) -> tuple[set[str], set[str]]:
    """The package's modules that ``name`` imports when it runs, and those it imports only for
    type checkers (``from . import x`` resolved to the module x)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: tuple[set[str], set[str]] = (set(), set())
    for node, annotation in _import_nodes(ast.parse(path.read_text("utf-8"))):
        targets: set[str]
        if isinstance(node, ast.Import):
            targets = {a.name for a in node.names if a.name.startswith(ROOT_UNIT)}
        else:
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join([*base, node.module] if node.module else base)
            if not target.startswith(ROOT_UNIT):
                continue
            targets = {f"{target}.{a.name}" for a in node.names} & modules.keys() or {target}
        found[annotation].update(m for m in targets if m in modules and m != name)
    return found[0], found[1] - found[0]


def _graphs() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """The imports that run, and those only for type checkers, per module."""
    modules = _modules()
    both = {name: _imports(name, path, modules) for name, path in modules.items()}
    return {n: run for n, (run, _) in both.items()}, {n: typing for n, (_, typing) in both.items()}


# Imports only for type checkers that point back at a module importing the first when it runs:
# each is an annotation only (nothing of the other module is used at run time), and listed here
# so that a new one is a decision, not an accident. Every other TYPE_CHECKING import counts as
# an import: the graph with them has no cycle and they point down the layers.
ANNOTATION_ONLY = {
    # Decision.trace is filled by Evaluator.explain; a Trace holds the Decision it explains.
    ("sysmon_rules.engine.decision", "sysmon_rules.engine.trace"),
    # The batch classifiers are built by an Evaluator (prepare_batches) and annotate it.
    ("sysmon_rules.engine.batch", "sysmon_rules.engine.evaluate"),
}


def _lazy_root(module: str) -> bool:
    """The package root names what its lazy ``__getattr__`` table loads, for type checkers only
    (those imports point up the layers by design; the ones that run stay at layer 1)."""
    return module == ROOT_UNIT


def _graph() -> dict[str, set[str]]:
    """Every import, TYPE_CHECKING ones included, but the allow-listed pairs and the root's table."""
    run, typing = _graphs()
    return {m: run[m] | {t for t in typing[m] if (m, t) not in ANNOTATION_ONLY and not _lazy_root(m)}
            for m in run}


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


def test_the_type_checking_imports_are_counted_and_the_allow_list_is_exact() -> None:
    _, typing = _graphs()
    annotation_only = {(m, t) for m, targets in typing.items() for t in targets}
    assert len(annotation_only) > 20  # they are read: a parser that missed them would find none
    stale = ANNOTATION_ONLY - annotation_only
    assert not stale, f"allow-listed pairs that are no longer imports for type checkers: {stale}"
    graph = _graph()
    for module, target in ANNOTATION_ONLY:  # each is listed because it closes a cycle
        assert _cycle({**graph, module: graph[module] | {target}}), (module, target)


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
    missing = sorted(layers.keys() - {_unit(m) for m in graph})
    assert not missing, f"the layer table in docs/architecture.md lists parts that do not exist: {missing}"
    upward = sorted(f"{m} -> {t}" for m, targets in graph.items() for t in targets
                    if _unit(m) != _unit(t) and layers[_unit(t)] >= layers[_unit(m)])
    assert not upward, "imports that do not point to a lower layer:\n" + "\n".join(upward)


def test_the_table_is_read_and_names_the_layers_that_exist(project_root: Path) -> None:
    layers = _documented_layers(project_root)
    assert layers["cli"] > layers["render"] > layers["lint"] > layers["engine"] > layers["blob"]
    assert layers["blob"] > layers["validation"] > layers["xml"] > layers["configwalk"] > layers["errors"]
    for coming in ("merging", "diffing", "readiness", "htmlreport", "replaying", "witness"):
        assert layers["engine"] < layers[coming] < layers["render"]


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


def _resolve(token: str, module: str | None) -> bool:
    """Whether a name in the fact table exists: a file or folder, a module, or an attribute of a
    module (dotted, or bare after the module its cell named), or of the package root."""
    import importlib

    if "/" in token:
        return (PACKAGE / token.rstrip("/")).exists()
    parts = token.split(".")
    for cut in range(len(parts), 0, -1):
        name = ".".join([ROOT_UNIT, *parts[:cut]])
        if name in _modules():
            value: object = importlib.import_module(name)
            rest = parts[cut:]
            break
    else:
        value, rest = importlib.import_module(module or ROOT_UNIT), parts
        if module is not None and not hasattr(value, parts[0]):
            value = importlib.import_module(ROOT_UNIT)
    for attribute in rest:
        if not hasattr(value, attribute):
            return False
        value = getattr(value, attribute)
    return True


def test_the_fact_table_names_things_that_exist(project_root: Path) -> None:
    text = (project_root / "docs" / "architecture.md").read_text("utf-8").split("## Where each fact lives")[1]
    checked, missing = 0, []
    for row in re.findall(r"^\|[^|\n]*\|([^|\n]*)\|\s*$", text, re.MULTILINE):
        module: str | None = None
        for token in re.findall(r"`([^`]+)`", row):
            prefixes = [".".join([ROOT_UNIT, *token.split(".")[:cut]]) for cut in range(token.count(".") + 1, 0, -1)]
            module = next((p for p in prefixes if p in _modules()), module)  # bare names after it are its
            if not re.fullmatch(r"[\w./]+", token):
                continue
            checked += 1
            if not _resolve(token, module):
                missing.append(token)
    assert checked > 30
    assert not missing, f"docs/architecture.md names what the code does not have: {missing}"


def test_the_package_imports_public_names_from_where_they_are_defined() -> None:
    """The root's lazy table is for users: a module importing through it would hide an import
    (of whatever module the table loads) from the layer check."""
    import sysmon_rules

    through_root = []
    for name, path in _modules().items():
        for node, _ in _import_nodes(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level and name != ROOT_UNIT:
                package = name if path.name == "__init__.py" else name.rpartition(".")[0]
                if package.count(".") + 1 == node.level and not node.module:  # ``from .. import x`` of the root
                    through_root += [f"{name}: {a.name}" for a in node.names if a.name in sysmon_rules._LAZY]
    assert not through_root, through_root
