"""Reading Sigma rules with pySigma: files, folders, YAML text, or rules already parsed.

A file pySigma cannot read, a rule with errors, or a correlation rule becomes a
:class:`SigmaInput` carrying ``error``: reported per rule, and the run goes on.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from ..inputfiles import SIGMA_RULES, input_files


@dataclass(frozen=True, slots=True)
class SigmaInput:
    """One Sigma rule (or the failure to read one) and where it came from."""

    id: str
    title: str
    path: str
    rule: SigmaRule | None = None
    error: str = ""
    tags: tuple[str, ...] = field(default=())
    author: str = ""


def read_rules(sources: Iterable[str | os.PathLike[str] | SigmaRule | SigmaCollection]) -> list[SigmaInput]:
    """Every rule under ``sources``: YAML files, folders (searched for ``*.yml``/``*.yaml``), rule objects."""
    out: list[SigmaInput] = []
    for source in sources:
        if isinstance(source, SigmaRule):
            out.append(_input(source, ""))
        elif isinstance(source, SigmaCollection):
            out += [_input(r, "") for r in source.rules]
        else:
            out += list(_read_path(Path(source)))
    return out


def _read_path(path: Path) -> Iterator[SigmaInput]:
    for found in input_files([path], SIGMA_RULES):  # a folder or glob: its rules; nothing: NoInputError
        yield from _read_file(found)


def _read_file(path: Path) -> Iterator[SigmaInput]:
    try:
        text = path.read_text(encoding="utf-8")
        collection = SigmaCollection.from_yaml(text, collect_errors=True)
    except (OSError, UnicodeDecodeError, SigmaError, ValueError, yaml.YAMLError) as exc:
        yield SigmaInput("", path.stem, str(path), error=f"cannot read: {_one_line(exc)}")
        return
    for error in collection.errors:
        yield SigmaInput("", path.stem, str(path), error=f"pySigma: {_one_line(error)}")
    for rule in collection.rules:
        yield _input(rule, str(path))


def _input(rule: SigmaRule | SigmaCorrelationRule | object, path: str) -> SigmaInput:
    rule_id = str(getattr(rule, "id", "") or "")
    title = str(getattr(rule, "title", "") or "")
    tags = tuple(str(t) for t in getattr(rule, "tags", ()) or ())
    author = str(getattr(rule, "author", "") or "")
    if isinstance(rule, SigmaCorrelationRule):
        return SigmaInput(rule_id, title, path, None, "correlation rule (needs several events)", tags, author)
    if not isinstance(rule, SigmaRule):
        return SigmaInput(rule_id, title, path, None, f"not a detection rule ({type(rule).__name__})", tags, author)
    errors = getattr(rule, "errors", None)
    if errors:
        return SigmaInput(rule_id, title, path, None, f"pySigma: {_one_line(errors[0])}", tags, author)
    return SigmaInput(rule_id, title, path, rule, "", tags, author)


def _one_line(exc: object) -> str:
    return " ".join(str(exc).split())
