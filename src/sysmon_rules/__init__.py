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

if TYPE_CHECKING:  # what the lazy table below loads, named for type checkers
    from . import fuzz
    from .blob.compile import CompiledBlob, compile_config
    from .blob.dump import dump_text
    from .blob.dumptext import UNKNOWNS as DUMP_TEXT_UNKNOWNS
    from .blob.encode import to_blob
    from .collectors import CollectorError, EventStream, ReadStats
    from .collectors import read as read_events
    from .collectors.arrow import to_batch
    from .collectors.parquet import write_parquet
    from .decompiling import Decompiled, decompile, from_blob
    from .diffing import ConfigDiff, diff
    from .engine import Decision, Evaluator
    from .events import Event, Origin
    from .htmlreport import Report, html_report
    from .htmlreport import collect as collect_report
    from .inputfiles import NoInputError, input_files
    from .lint import LintResult, lint_document, lint_file
    from .merging import MergeResult, merge
    from .merging.lintmodules import lint_modules
    from .model import Config, EventRules, Filter, Option, Rule, RuleGroup
    from .readiness import CoverageReport, config_techniques, coverage
    from .readiness.evidence import EventPool
    from .readiness.lost import Loss, rule_loses
    from .readiness.rules import read_rules as read_sigma_rules
    from .render import to_markdown, to_text
    from .replaying import (
        Comparison,
        ConfigLoadError,
        Interrupted,
        JsonLines,
        ParquetFile,
        ReplayResult,
        Summary,
        Traces,
        Volume,
        replay,
    )
    from .rulesource import RuleSource, load_rules
    from .ruletable import RuleFilter, RuleSet, RuleTable
    from .schema import newest, schema_for
    from .schema.releases import release_label, resolve_target
    from .testing import strategies
    from .testing.testfile import load_test_file, run_test_file
    from .tuning import TuneResult, tune
    from .validation import diagnostic_order, iter_errors, load, loads, validate
    from .validation.dtd_text import dtd_text
    from .witness import Constraint, disjoint, distinguish, event_with, implies, set_event, solve_field
    from .witness.domains import field_domain, realize
    from .xml.writer import to_xml

# Heavier parts load on first use, so `import sysmon_rules` (and the pytest plugin) stays light:
# public name -> the module that defines it (and its name there, when it differs).
_LAZY: dict[str, tuple[str, str]] = {
    # The config model (a replay from the compiled-config cache never needs it)
    **{name: ("sysmon_rules.model", name)
       for name in ("Config", "EventRules", "Filter", "Option", "Rule", "RuleGroup")},
    # Reading and validating a config
    "load": ("sysmon_rules.validation", "load"),
    "diagnostic_order": ("sysmon_rules.validation", "diagnostic_order"),
    "loads": ("sysmon_rules.validation", "loads"),
    "iter_errors": ("sysmon_rules.validation", "iter_errors"),
    "validate": ("sysmon_rules.validation", "validate"),
    "to_xml": ("sysmon_rules.xml.writer", "to_xml"),
    # Rule blobs
    "CompiledBlob": ("sysmon_rules.blob.compile", "CompiledBlob"),
    "compile_config": ("sysmon_rules.blob.compile", "compile_config"),
    "to_blob": ("sysmon_rules.blob.encode", "to_blob"),
    "Decompiled": ("sysmon_rules.decompiling", "Decompiled"),
    "decompile": ("sysmon_rules.decompiling", "decompile"),
    "from_blob": ("sysmon_rules.decompiling", "from_blob"),
    "dump_text": ("sysmon_rules.blob.dump", "dump_text"),
    "DUMP_TEXT_UNKNOWNS": ("sysmon_rules.blob.dumptext", "UNKNOWNS"),
    "RuleFilter": ("sysmon_rules.ruletable", "RuleFilter"),
    "RuleSet": ("sysmon_rules.ruletable", "RuleSet"),
    "RuleTable": ("sysmon_rules.ruletable", "RuleTable"),
    # Rules as a host holds them (XML, blob, .reg, reg query, hex/base64, `sysmon -c` text)
    "load_rules": ("sysmon_rules.rulesource", "load_rules"),
    # Inputs named on a command line (files, folders, globs)
    "input_files": ("sysmon_rules.inputfiles", "input_files"),
    "NoInputError": ("sysmon_rules.inputfiles", "NoInputError"),
    "RuleSource": ("sysmon_rules.rulesource", "RuleSource"),
    # Schemas and releases
    "newest": ("sysmon_rules.schema", "newest"),
    "schema_for": ("sysmon_rules.schema", "schema_for"),
    "release_label": ("sysmon_rules.schema.releases", "release_label"),
    "resolve_target": ("sysmon_rules.schema.releases", "resolve_target"),
    "dtd_text": ("sysmon_rules.validation.dtd_text", "dtd_text"),
    # Lint
    "LintResult": ("sysmon_rules.lint", "LintResult"),
    "lint_document": ("sysmon_rules.lint", "lint_document"),
    "lint_file": ("sysmon_rules.lint", "lint_file"),
    "lint_modules": ("sysmon_rules.merging.lintmodules", "lint_modules"),
    # Deciding events
    "Decision": ("sysmon_rules.engine", "Decision"),
    "Evaluator": ("sysmon_rules.engine", "Evaluator"),
    # Reading events (Event types its values by the schema, so it loads lazily too)
    "Event": ("sysmon_rules.events", "Event"),
    "Origin": ("sysmon_rules.events", "Origin"),
    "CollectorError": ("sysmon_rules.collectors", "CollectorError"),
    "EventStream": ("sysmon_rules.collectors", "EventStream"),
    "ReadStats": ("sysmon_rules.collectors", "ReadStats"),
    "read_events": ("sysmon_rules.collectors", "read"),
    "to_batch": ("sysmon_rules.collectors.arrow", "to_batch"),
    "write_parquet": ("sysmon_rules.collectors.parquet", "write_parquet"),
    # Replaying events
    "Comparison": ("sysmon_rules.replaying", "Comparison"),
    "ConfigLoadError": ("sysmon_rules.replaying", "ConfigLoadError"),
    "Interrupted": ("sysmon_rules.replaying", "Interrupted"),
    "JsonLines": ("sysmon_rules.replaying", "JsonLines"),
    "ParquetFile": ("sysmon_rules.replaying", "ParquetFile"),
    "ReplayResult": ("sysmon_rules.replaying", "ReplayResult"),
    "Summary": ("sysmon_rules.replaying", "Summary"),
    "Traces": ("sysmon_rules.replaying", "Traces"),
    "Volume": ("sysmon_rules.replaying", "Volume"),
    "replay": ("sysmon_rules.replaying", "replay"),
    # Tools
    "MergeResult": ("sysmon_rules.merging", "MergeResult"),
    "merge": ("sysmon_rules.merging", "merge"),
    "ConfigDiff": ("sysmon_rules.diffing", "ConfigDiff"),
    "diff": ("sysmon_rules.diffing", "diff"),
    "CoverageReport": ("sysmon_rules.readiness", "CoverageReport"),
    "config_techniques": ("sysmon_rules.readiness", "config_techniques"),
    "coverage": ("sysmon_rules.readiness", "coverage"),
    "EventPool": ("sysmon_rules.readiness.evidence", "EventPool"),
    "Loss": ("sysmon_rules.readiness.lost", "Loss"),
    "rule_loses": ("sysmon_rules.readiness.lost", "rule_loses"),
    "read_sigma_rules": ("sysmon_rules.readiness.rules", "read_rules"),
    "Report": ("sysmon_rules.htmlreport", "Report"),
    "html_report": ("sysmon_rules.htmlreport", "html_report"),
    "collect_report": ("sysmon_rules.htmlreport", "collect"),
    "TuneResult": ("sysmon_rules.tuning", "TuneResult"),
    "tune": ("sysmon_rules.tuning", "tune"),
    "Constraint": ("sysmon_rules.witness", "Constraint"),
    "disjoint": ("sysmon_rules.witness", "disjoint"),
    "distinguish": ("sysmon_rules.witness", "distinguish"),
    "event_with": ("sysmon_rules.witness", "event_with"),
    "implies": ("sysmon_rules.witness", "implies"),
    "set_event": ("sysmon_rules.witness", "set_event"),
    "solve_field": ("sysmon_rules.witness", "solve_field"),
    "field_domain": ("sysmon_rules.witness.domains", "field_domain"),
    "realize": ("sysmon_rules.witness.domains", "realize"),
    # Config tests
    "load_test_file": ("sysmon_rules.testing.testfile", "load_test_file"),
    "run_test_file": ("sysmon_rules.testing.testfile", "run_test_file"),
    # Results as text
    "to_markdown": ("sysmon_rules.render", "to_markdown"),
    "to_text": ("sysmon_rules.render", "to_text"),
}
# Public modules: hypothesis strategies (docs/testing.md) and the fuzz harness.
_MODULES = {"strategies": "sysmon_rules.testing.strategies", "fuzz": "sysmon_rules.fuzz"}

__all__ = [
    "DUMP_TEXT_UNKNOWNS",
    "BlobFormatError",
    "CollectorError",
    "Comparison",
    "CompiledBlob",
    "Config",
    "ConfigDiff",
    "ConfigLoadError",
    "ConfigSyntaxError",
    "ConfigValidationError",
    "Constraint",
    "CoverageReport",
    "Decision",
    "Decompiled",
    "Diagnostic",
    "Evaluator",
    "Event",
    "EventPool",
    "EventRules",
    "EventStream",
    "FileAccessError",
    "Filter",
    "Interrupted",
    "JsonLines",
    "LintResult",
    "Location",
    "Loss",
    "MergeResult",
    "NoInputError",
    "Option",
    "Origin",
    "ParquetFile",
    "PlatformError",
    "ReadStats",
    "ReplayResult",
    "Report",
    "Rule",
    "RuleFilter",
    "RuleGroup",
    "RuleSet",
    "RuleSource",
    "RuleTable",
    "SchemaVersionError",
    "SourceError",
    "Summary",
    "SysmonRulesError",
    "Traces",
    "TuneResult",
    "Volume",
    "collect_report",
    "compile_config",
    "config_techniques",
    "coverage",
    "decompile",
    "diagnostic_order",
    "diff",
    "disjoint",
    "distinguish",
    "dtd_text",
    "dump_text",
    "event_with",
    "field_domain",
    "from_blob",
    "fuzz",
    "html_report",
    "implies",
    "input_files",
    "iter_errors",
    "lint_document",
    "lint_file",
    "lint_modules",
    "load",
    "load_rules",
    "load_test_file",
    "loads",
    "merge",
    "newest",
    "read_events",
    "read_sigma_rules",
    "realize",
    "release_label",
    "replay",
    "resolve_target",
    "rule_loses",
    "run_test_file",
    "schema_for",
    "set_event",
    "solve_field",
    "strategies",
    "to_batch",
    "to_blob",
    "to_markdown",
    "to_text",
    "to_xml",
    "tune",
    "validate",
    "write_parquet",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        value: Any = importlib.import_module(_MODULES[name])
    elif name in _LAZY:
        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module), attribute)
    else:
        raise AttributeError(f"module 'sysmon_rules' has no attribute {name!r}")
    globals()[name] = value
    return value
