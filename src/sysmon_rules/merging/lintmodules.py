"""Lint a module tree as its build merges it: ``lint_modules(tree)``.

sysmon-modular's build (``Merge-SysmonXml.ps1``) copies each module's rules into a template and
writes the template's ``schemaversion``; a module's own declaration is dropped. So a module is
judged at the build's version: content newer than its declaration is ``module-schema-too-old``
(a warning: the build accepts it), not the DTD error Sysmon gives the file alone. A pre-commit
hook on the tree then errors only on what the build itself would reject.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path

from ..errors import Location
from ..lint import LintResult, lint_document
from . import psscript
from .sources import SourceError, discover, is_checkout

_SCHEMA = re.compile(r"<Sysmon\b[^>]*\bschemaversion\s*=\s*[\"']([^\"']+)[\"']")
_BUILD = "sysmonconfig.xml"  # a committed build: its template's version when the tree has no script


def build_schema(tree: str | Path) -> str:
    """The schemaversion the tree's build writes: its script's general template's, or else that of
    the committed build ``sysmonconfig.xml``."""
    folder = Path(tree)
    if not is_checkout(folder):
        raise SourceError("not a module tree: no [0-9]*/*.xml in this folder", Location(str(folder)))
    script = folder / psscript.SCRIPT_NAME
    if script.is_file():
        text = psscript.read_script(script).template(psscript.GENERAL)
        where = str(script)
    elif (folder / _BUILD).is_file():
        text = psscript.script_from_build(folder / _BUILD).template(psscript.GENERAL)
        where = str(folder / _BUILD)
    else:
        raise SourceError(f"no {psscript.SCRIPT_NAME} or {_BUILD} in the tree to take the build's schema version "
                          "from", Location(str(folder)))
    found = _SCHEMA.search(text)
    if found is None:
        raise SourceError("the build's template declares no schemaversion", Location(where))
    return found.group(1)


def lint_modules(tree: str | Path, *, select: Collection[str] = (), ignore: Collection[str] = (),
                 target_sysmon: str | None = None) -> dict[str, LintResult]:
    """Every module of the tree (in the build's order), linted at the build's schema version."""
    version = build_schema(tree)
    return {str(path): lint_document(path, select=select, ignore=ignore, target_sysmon=target_sysmon,
                                     build_schema=version)
            for path in discover([tree])}
