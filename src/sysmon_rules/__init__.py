"""sysmon-rules: Sysmon configurations compiled, decompiled, validated and evaluated offline.

>>> import sysmon_rules
>>> config = sysmon_rules.loads(b'<Sysmon schemaversion="4.90"><EventFiltering>'
...     b'<ProcessCreate onmatch="include"><Image condition="end with">\\\\cmd.exe</Image>'
...     b'</ProcessCreate></EventFiltering></Sysmon>')
>>> config.schema_version
'4.90'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    BlobFormatError,
    ConfigSyntaxError,
    ConfigValidationError,
    Diagnostic,
    FileAccessError,
    Location,
    PlatformError,
    SchemaVersionError,
    SourceError,
    SysmonRulesError,
)
from .events import Event, Origin
from .model import Config, EventRules, Filter, Option, Rule, RuleGroup

if TYPE_CHECKING:
    from .api import (
        CompiledBlob,
        Decompiled,
        compile_config,
        decompile,
        from_blob,
        iter_errors,
        lint_file,
        load,
        loads,
        to_blob,
        to_xml,
        validate,
    )
    from .diffing import ConfigDiff, diff
    from .engine import Decision, Evaluator
    from .htmlreport import html_report
    from .merging import MergeResult, merge
    from .readiness import CoverageReport, coverage
    from .replaying import Comparison, ReplayResult, Summary, replay
    from .rulesource import RuleSource, load_rules

# Heavier parts load on first use, so `import sysmon_rules` (and the pytest plugin) stays light.
_LAZY = {
    "load": "sysmon_rules.api",
    "loads": "sysmon_rules.api",
    "iter_errors": "sysmon_rules.api",
    "validate": "sysmon_rules.api",
    "to_blob": "sysmon_rules.api",
    "from_blob": "sysmon_rules.api",
    "to_xml": "sysmon_rules.api",
    "compile_config": "sysmon_rules.api",
    "decompile": "sysmon_rules.api",
    "lint_file": "sysmon_rules.api",
    "CompiledBlob": "sysmon_rules.api",
    "Decompiled": "sysmon_rules.api",
    "Evaluator": "sysmon_rules.engine",
    "Decision": "sysmon_rules.engine",
    "diff": "sysmon_rules.diffing",
    "ConfigDiff": "sysmon_rules.diffing",
    "coverage": "sysmon_rules.readiness",
    "CoverageReport": "sysmon_rules.readiness",
    "html_report": "sysmon_rules.htmlreport",
    "merge": "sysmon_rules.merging",
    "MergeResult": "sysmon_rules.merging",
    "load_rules": "sysmon_rules.rulesource",
    "RuleSource": "sysmon_rules.rulesource",
    "replay": "sysmon_rules.replaying",
    "ReplayResult": "sysmon_rules.replaying",
    "Summary": "sysmon_rules.replaying",
    "Comparison": "sysmon_rules.replaying",
}

__all__ = [
    "BlobFormatError",
    "Comparison",
    "CompiledBlob",
    "Config",
    "ConfigDiff",
    "ConfigSyntaxError",
    "ConfigValidationError",
    "CoverageReport",
    "Decision",
    "Decompiled",
    "Diagnostic",
    "Evaluator",
    "Event",
    "EventRules",
    "FileAccessError",
    "Filter",
    "Location",
    "MergeResult",
    "Option",
    "Origin",
    "PlatformError",
    "ReplayResult",
    "Rule",
    "RuleGroup",
    "RuleSource",
    "SchemaVersionError",
    "SourceError",
    "Summary",
    "SysmonRulesError",
    "compile_config",
    "coverage",
    "decompile",
    "diff",
    "from_blob",
    "html_report",
    "iter_errors",
    "lint_file",
    "load",
    "load_rules",
    "loads",
    "merge",
    "replay",
    "to_blob",
    "to_xml",
    "validate",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sysmon_rules' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
