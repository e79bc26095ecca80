"""How a config is laid out: RuleGroups that mix onmatch, and blocking rules that hit Windows itself."""

from __future__ import annotations

from collections.abc import Iterator

from ..engine.conditions import fold
from ..errors import Diagnostic, Location
from ..events import Event
from ..ruletable import RuleFilter, RuleSet
from ..schema import parse_version
from .catalog import RULES
from .context import LintContext
from .logic import test_of
from .sets import SetChecker

# FileBlockExecutable (27) and FileBlockShredding (28): an include match blocks the write or
# the shredding. Each sample is activity of Windows Update, an installer, a product updater or a
# Sysinternals tool.
BLOCK_EVENTS = frozenset({27, 28})
BLOCK_SAMPLES: tuple[tuple[str, dict[str, str]], ...] = (
    ("Windows Update downloading an update", {
        "Image": "C:\\Windows\\System32\\svchost.exe", "User": "NT AUTHORITY\\SYSTEM",
        "TargetFilename": "C:\\Windows\\SoftwareDistribution\\Download\\0f3a\\windows10.0-kb5034441-x64.exe"}),
    ("the servicing stack (TiWorker) staging a component", {
        "Image": "C:\\Windows\\WinSxS\\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.19041.3989_none"
                 "\\TiWorker.exe",
        "User": "NT AUTHORITY\\SYSTEM", "TargetFilename": "C:\\Windows\\WinSxS\\Temp\\InFlight\\1a2b\\wuaueng.dll"}),
    ("Windows Installer caching a package's custom action", {
        "Image": "C:\\Windows\\System32\\msiexec.exe", "User": "NT AUTHORITY\\SYSTEM",
        "TargetFilename": "C:\\Windows\\Installer\\MSI4F2A.tmp"}),
    ("a setup bootstrapper unpacking into %TEMP%", {
        "Image": "C:\\Users\\alice\\Downloads\\setup.exe", "User": "CONTOSO\\alice",
        "TargetFilename": "C:\\Users\\alice\\AppData\\Local\\Temp\\{6B2F1A3C-0D4E-4F5A-9B8C-7D6E5F4A3B2C}\\setup.exe"}),
    ("Process Monitor extracting its 64-bit binary", {
        "Image": "C:\\Tools\\Sysinternals\\Procmon.exe", "User": "CONTOSO\\alice",
        "TargetFilename": "C:\\Users\\alice\\AppData\\Local\\Temp\\Procmon64.exe"}),
    ("PsExec installing its service", {
        "Image": "C:\\Tools\\Sysinternals\\PsExec64.exe", "User": "CONTOSO\\alice",
        "TargetFilename": "C:\\Windows\\PSEXESVC.exe"}),
    ("Microsoft Defender installing a definition update", {
        "Image": "C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24090.11-0\\MsMpEng.exe",
        "User": "NT AUTHORITY\\SYSTEM",
        "TargetFilename": "C:\\ProgramData\\Microsoft\\Windows Defender\\Definition Updates\\"
                          "{5D1E0A4B-7A55-4E0C-9C61-2F3F3B7A9F11}\\mpengine.dll"}),
    ("Google's updater staging a browser update", {
        "Image": "C:\\Program Files (x86)\\Google\\GoogleUpdater\\128.0.6537.0\\updater.exe",
        "User": "NT AUTHORITY\\SYSTEM",
        "TargetFilename": "C:\\Program Files (x86)\\Google\\GoogleUpdater\\crx_cache\\chrome_installer.exe"}),
    ("Sysmon updating its own driver", {
        "Image": "C:\\Windows\\Sysmon64.exe", "User": "NT AUTHORITY\\SYSTEM",
        "TargetFilename": "C:\\Windows\\SysmonDrv.sys"}),
)  # fmt: skip


# Sysmon 10.x (schemas up to 4.23) kept only the include element of such a group (SwiftOnSecurity
# sysmon-config #81 on 10.0-10.2, #87); a file declaring 4.30 or later needs Sysmon 11 or later,
# which builds both rule sets (blob.compile does as they do), so there it is no defect.
_MIXED_UNTIL = 0x40017  # 4.23


def mixed_groups(ctx: LintContext) -> Iterator[Diagnostic]:
    code = "mixed-onmatch-group"
    if (parse_version(ctx.config.schema_version) or 0) > _MIXED_UNTIL:
        return
    for node in ctx.config.filtering:
        events = getattr(node, "events", None)
        if events is None:
            continue
        first: dict[str, str] = {}
        for ev in events:
            seen = first.setdefault(ev.element, ev.onmatch or "")
            if ev.onmatch and seen and ev.onmatch != seen:
                yield Diagnostic(code, RULES[code].severity,
                                 f"this <RuleGroup> holds <{ev.element} onmatch=\"{seen}\"> and "
                                 f"<{ev.element} onmatch=\"{ev.onmatch}\">; Sysmon 10 honoured only the include",
                                 ev.location, f"move the onmatch=\"{ev.onmatch}\" element into its own <RuleGroup>")
                first[ev.element] = ""  # one finding per element name and group


def blocked_samples(ctx: LintContext) -> Iterator[Diagnostic]:
    code = "blocks-system-path"
    sets = SetChecker(ctx)
    for rule_set in ctx.table.rule_sets:
        if rule_set.event_id not in BLOCK_EVENTS or rule_set.onmatch != "include":
            continue
        reported: set[int] = set()
        for what, fields in BLOCK_SAMPLES:
            culprit = _culprit(sets, rule_set, fields)
            if culprit is None or id(culprit) in reported:
                continue
            decision = ctx.evaluator.decide(Event(rule_set.event_id, fields))
            if decision.decision == "include" and decision.rule_set is rule_set:
                reported.add(id(culprit))
                yield Diagnostic(code, RULES[code].severity,
                                 f"{sets.describe(rule_set, culprit)} blocks {what} ({fields['TargetFilename']})",
                                 culprit.location or rule_set.location or Location(),
                                 "exclude these paths first, or narrow the rule")


def _culprit(sets: SetChecker, rule_set: RuleSet, fields: dict[str, str]) -> RuleFilter | None:
    """The first filter of the set that matches the sample (the one the finding points at)."""
    for flt in rule_set.filters:
        test = test_of(flt)
        value = fields.get(sets.field(rule_set, flt))
        if test is not None and value is not None and test(fold(value)):
            return flt
    return None


def check_structure(ctx: LintContext) -> Iterator[Diagnostic]:
    yield from mixed_groups(ctx)
    if ctx.valid:
        yield from blocked_samples(ctx)
