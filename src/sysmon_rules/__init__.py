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
    Location,
    SchemaVersionError,
    SysmonRulesError,
)
from .events import Event, Origin
from .model import Config, EventRules, Filter, Option, Rule, RuleGroup

if TYPE_CHECKING:
    from .blob.decode import from_blob
    from .blob.encode import to_blob
    from .diff import ConfigDiff, diff
    from .engine import Decision, Evaluator
    from .htmlreport import html_report
    from .validation import iter_errors, validate
    from .xml.reader import load, loads
    from .xml.writer import to_xml

# Heavier parts load on first use, so `import sysmon_rules` (and the pytest plugin) stays light.
_LAZY = {
    "load": "sysmon_rules.xml.reader",
    "loads": "sysmon_rules.xml.reader",
    "iter_errors": "sysmon_rules.validation",
    "validate": "sysmon_rules.validation",
    "to_blob": "sysmon_rules.blob.encode",
    "from_blob": "sysmon_rules.blob.decode",
    "to_xml": "sysmon_rules.xml.writer",
    "Evaluator": "sysmon_rules.engine",
    "Decision": "sysmon_rules.engine",
    "html_report": "sysmon_rules.htmlreport",
    "diff": "sysmon_rules.diff",
    "ConfigDiff": "sysmon_rules.diff",
}

__all__ = [
    "BlobFormatError",
    "Config",
    "ConfigDiff",
    "ConfigSyntaxError",
    "ConfigValidationError",
    "Decision",
    "Diagnostic",
    "Evaluator",
    "Event",
    "EventRules",
    "Filter",
    "Location",
    "Option",
    "Origin",
    "Rule",
    "RuleGroup",
    "SchemaVersionError",
    "SysmonRulesError",
    "diff",
    "from_blob",
    "html_report",
    "iter_errors",
    "load",
    "loads",
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
