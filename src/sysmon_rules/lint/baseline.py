"""Fingerprints of findings, and baseline files of accepted findings.

A fingerprint is the code, the element path (names, plus the attributes that tell siblings apart:
``name``, ``onmatch``, ``condition``) and the element's value, so it survives lines moving; a
repeated identical finding gets ``#2``, ``#3``. A baseline file lists fingerprints per linted file
(JSON, sorted, so it diffs well); findings in it are accepted and not reported.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Diagnostic, SysmonRulesError
from ..xml.reader import Element, element_text, local_name
from .context import LintContext

_TELLING = ("name", "onmatch", "condition", "groupRelation")
VERSION = 1


def _segment(element: Element) -> str:
    attrs = ",".join(f"{a}={element.get(a)}" for a in _TELLING if element.get(a) is not None)
    return f"{local_name(element)}[{attrs}]" if attrs else local_name(element)


def element_key(element: Element) -> str:
    """The path of an element by names and telling attributes, with its text if it is a leaf."""
    parts = []
    node: Element | None = element
    while node is not None:
        parts.append(_segment(node))
        node = node.getparent()
    leaf = not any(isinstance(c.tag, str) for c in element)
    return "/".join(reversed(parts)) + (f"={element_text(element)}" if leaf else "")


def digest(key: str) -> str:
    """A fingerprint from its key (code, element path, value)."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def fingerprints(ctx: LintContext, findings: list[Diagnostic]) -> list[str]:
    seen: Counter[str] = Counter()
    out = []
    for d in findings:
        element = ctx.elements.get((d.location.line, d.location.column))
        where = element_key(element) if element is not None else d.location.node_path or d.message
        key = f"{d.code}|{where}"
        seen[key] += 1
        if seen[key] > 1:
            key += f"#{seen[key]}"
        out.append(digest(key))
    return out


@dataclass
class Baseline:
    """Accepted fingerprints per file (files named as given on the command line, POSIX slashes)."""

    files: dict[str, set[str]] = field(default_factory=dict)

    @staticmethod
    def key(path: str) -> str:
        return Path(path).as_posix()

    def accepts(self, path: str, fingerprint: str) -> bool:
        return fingerprint in self.files.get(self.key(path), ())

    @classmethod
    def read(cls, path: str | Path) -> Baseline:
        try:
            data = json.loads(Path(path).read_text("utf-8"))
        except FileNotFoundError:
            raise SysmonRulesError(f"{path}: baseline file not found (create it with --update-baseline)") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SysmonRulesError(f"{path}: not a sysmon-rules baseline: {exc}") from None
        if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("files"), dict):
            raise SysmonRulesError(f"{path}: not a sysmon-rules baseline (version {VERSION} with \"files\")")
        files = {}
        for name, entries in data["files"].items():
            if not isinstance(entries, list) or not all(isinstance(e, dict) and "fingerprint" in e for e in entries):
                raise SysmonRulesError(f"{path}: baseline entry for {name!r} is not a list of findings")
            files[name] = {str(e["fingerprint"]) for e in entries}
        return cls(files)


def render_baseline(results: dict[str, tuple[list[Diagnostic], list[str]]]) -> str:
    """The baseline file text for these findings (path -> findings and their fingerprints)."""
    files = {}
    for path, (findings, prints) in sorted(results.items()):
        entries = sorted(({"fingerprint": fp, "code": d.code, "message": d.message}
                          for d, fp in zip(findings, prints, strict=True)), key=lambda e: (e["code"], e["fingerprint"]))
        files[Baseline.key(path)] = entries
    return json.dumps({"version": VERSION, "tool": "sysmon-rules lint", "files": files}, indent=2,
                      ensure_ascii=False) + "\n"
