"""The API layer: typed results that keep warnings and notes, a lazy iter_errors, one platform check."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pytest

import sysmon_rules as sr
from sysmon_rules import validation

GOOD = (b'<Sysmon schemaversion="4.90"><EventFiltering><ProcessCreate onmatch="include">'
        b'<Image condition="end with">\\cmd.exe</Image></ProcessCreate></EventFiltering></Sysmon>')
DTD_ERROR = GOOD.replace(b"<EventFiltering>", b"<EventFiltering><Bogus/>")


def test_the_root_names_are_the_api() -> None:
    """``__all__`` is the API: each name resolves (lazily) to the one object its module defines."""
    import importlib

    lazy = {name: getattr(importlib.import_module(module), attribute)
            for name, (module, attribute) in sr._LAZY.items()}
    for name in sr.__all__:
        value = getattr(sr, name)
        assert name not in lazy or value is lazy[name], name
        if callable(value) or name in sr._MODULES:  # classes, functions, modules: ours, not re-exported
            assert getattr(value, "__module__", getattr(value, "__name__", "")).startswith("sysmon_rules"), name
    assert set(lazy) | set(sr._MODULES) <= set(sr.__all__)
    assert sr.load is validation.load and sr.read_events.__name__ == "read"


def test_loads_states_its_options() -> None:
    assert list(inspect.signature(sr.loads).parameters) == ["text", "sysmon_compatible", "platform", "dtd"]
    assert sr.loads(GOOD.decode(), dtd=False) == sr.loads(GOOD)


def test_iter_errors_reads_nothing_until_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = validation.parse_document
    monkeypatch.setattr(validation, "parse_document", lambda *a, **k: (calls.append("parse"), real(*a, **k))[1])
    found = sr.iter_errors(GOOD)
    assert calls == []
    assert list(found) == [] and calls == ["parse"]


def test_iter_errors_runs_a_stage_only_when_reached(monkeypatch: pytest.MonkeyPatch) -> None:
    def walk_not_reached(*args: object, **kwargs: object) -> None:
        raise AssertionError("the rule walk ran before the DTD findings were used up")

    monkeypatch.setattr(validation, "check_semantics", walk_not_reached)
    first = next(sr.iter_errors(DTD_ERROR))
    assert first.code == "unexpected-element"


def test_validate_and_load_report_in_file_order_errors_first() -> None:
    two = DTD_ERROR.replace(b'condition="end with"', b'condition="ends with"')
    with pytest.raises(sr.ConfigValidationError) as caught:
        sr.load(two)
    codes = [d.code for d in caught.value.diagnostics]
    assert codes == ["unexpected-element", "unknown-condition"]
    assert sorted(sr.iter_errors(two), key=validation.diagnostic_order) == caught.value.diagnostics


def test_compile_config_keeps_the_warnings_sysmon_prints() -> None:
    config = sr.loads(GOOD.replace(b"<Image", b"<Rule name='r'><Image").replace(b"</Image>", b"</Image></Rule>"))
    old = sr.compile_config(config, binary_version=0x0009000A)  # binary 9.10 has no aggregations
    assert [w.code for w in old.warnings] == ["old-format"]
    assert old.data == sr.to_blob(config, binary_version=0x0009000A)
    assert sr.compile_config(config).warnings == ()


def test_decompile_keeps_the_notes_from_blob_drops(shared_dir: Path) -> None:
    versions = json.loads((shared_dir / "reference" / "sysmon-version-blobs.json").read_text("utf-8"))
    old = next(bytes(v["byteRule"]) for v in versions["versions"] if v["sysmonVersion"] == "9.0")
    result = sr.decompile(old)
    assert any("binary format" in note for note in result.notes)  # Sysmon 9.0 numbered conditions otherwise
    assert result.config == sr.from_blob(old) and result.decoded.data == old
    text = result.to_xml()
    assert all(note in text for note in result.notes) and text.index(result.notes[0]) < text.index("<Sysmon")


@pytest.mark.parametrize("call", [
    lambda: sr.to_blob(sr.loads(GOOD), platform="macos"),
    lambda: list(sr.iter_errors(GOOD, platform="macos")),
    lambda: sr.Evaluator(sr.loads(GOOD), platform="macos"),  # type: ignore[arg-type]
    lambda: sr.decompile(sr.to_blob(sr.loads(GOOD)), platform="macos"),
])
def test_a_bad_platform_is_one_error_type_everywhere(call: object) -> None:
    with pytest.raises(sr.PlatformError, match="unknown platform 'macos'"):
        call()  # type: ignore[operator]


_IMPORT = re.compile(r"^\s*(?:>>>|\.\.\.)?\s*(from\s+(\S+)\s+import\s+(.+)|import\s+(.+))$")


def _doc_imports(project_root: Path) -> list[tuple[str, str, list[str]]]:
    """``(where, module, names)`` of every import of sysmon_rules written in the docs."""
    found = []
    for path in [project_root / "README.md", *sorted((project_root / "docs").glob("*.md"))]:
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            match = _IMPORT.match(line)
            if match is None or "sysmon_rules" not in line:
                continue
            where = f"{path.name}:{number}"
            if match.group(2) is not None:
                names = [n.strip().split(" as ")[0] for n in match.group(3).strip("()").split(",")]
                found.append((where, match.group(2), names))
            else:
                found += [(where, m.strip().split(" as ")[0], []) for m in match.group(4).split(",")]
    return found


def test_the_docs_import_only_what_the_package_root_lists(project_root: Path) -> None:
    imports = _doc_imports(project_root)
    assert len(imports) > 20
    deep = [f"{where}: {module}" for where, module, _ in imports if module != "sysmon_rules"]
    assert not deep, f"docs import from inside the package: {deep}"
    unlisted = [f"{where}: {name}" for where, _, names in imports for name in names if name not in sr.__all__]
    assert not unlisted, f"docs import names the package root does not list in __all__: {unlisted}"


def test_docs_api_md_documents_every_public_name(project_root: Path) -> None:
    text = (project_root / "docs" / "api.md").read_text("utf-8")
    undocumented = [name for name in sr.__all__ if not re.search(rf"`{re.escape(name)}\b", text)]
    assert not undocumented, f"docs/api.md does not mention: {undocumented}"
