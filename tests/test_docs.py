"""The documentation's examples run: doctests in docs/*.md, the README's library example."""

from __future__ import annotations

import doctest
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted(p.name for p in (ROOT / "docs").glob("*.md") if ">>> " in p.read_text("utf-8"))


@pytest.mark.parametrize("name", DOCS)
def test_doc_examples(name: str) -> None:
    result = doctest.testfile(str(ROOT / "docs" / name), module_relative=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


def test_readme_library_example_runs(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    text = (ROOT / "README.md").read_text("utf-8")
    code = re.search(r"```python\n(.*?)```", text, re.DOTALL)
    assert code is not None
    monkeypatch.chdir(ROOT)
    exec(compile(code.group(1), "README.md", "exec"), {"__name__": "readme"})
    assert "include technique_id=T1059.003" in capsys.readouterr().out
    assert os.getcwd() == str(ROOT)
