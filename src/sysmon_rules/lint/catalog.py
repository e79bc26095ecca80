"""Every lint rule: a stable code, a default severity, a one-line summary and the help text.

The help text is the same paragraph docs/lint-rules.md explains with examples; SARIF carries it
so code scanning shows it next to the finding.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import Severity


@dataclass(frozen=True)
class LintRule:
    code: str
    severity: Severity
    summary: str
    help: str


_RULES = [
    LintRule("invalid-config", "error", "Sysmon would reject this config or silently drop part of it",
             "A finding of the validator (DTD of the declared schema version, unknown condition, name "
             "too long, incorrect field, missing onmatch, option values), reported under the validator's "
             "own code (e.g. unknown-condition); invalid-config in --select/--ignore names them all."),
    LintRule("semicolon-in-single-value", "warning", "A ';' list given to a condition that takes one value",
             "Only 'contains any', 'contains all', 'excludes any', 'excludes all' and 'is any' split "
             "their value on ';'. Other conditions compare the whole text, ';' included."),
    LintRule("single-token-list", "warning", "A list condition with a single item",
             "'contains all' or 'excludes all' with one item behaves like 'contains' or the opposite of "
             "'excludes' respectively; say what you mean."),
    LintRule("and-repeated-field", "warning", "A field repeated at the top of an AND set is OR-ed",
             "In an AND rule set, filters on the same field outside <Rule> are combined with OR "
             "(Sysmon skips later filters on a field once one matched). Use <Rule groupRelation=\"and\">."),
    LintRule("is-not-pair", "warning", "'is not' twice on one field in an AND set matches everything",
             "The two 'is not' filters are OR-ed, and every value differs from at least one of them. "
             "Use 'excludes any' or a <Rule groupRelation=\"and\">."),
    LintRule("empty-list-item", "warning", "An empty item in a ';' list",
             "A trailing ';' makes 'contains any' match every value; ';;' makes Sysmon search for the "
             "rest of the text starting at ';'."),
    LintRule("is-without-path", "warning", "'is' with a bare file name on a field that holds a full path",
             "Image, ParentImage, SourceImage, TargetImage, ImageLoaded and TargetFilename hold full paths, "
             "and 'is' compares the whole value: 'is' wab.exe never matches C:\\Windows\\System32\\wab.exe. "
             "Use condition=\"image\" (it compares the file name when the value has no backslash) or "
             "'end with' \\wab.exe."),
    LintRule("is-not-without-path", "warning", "'is not' with a bare file name on a field that holds a full path",
             "Image, ParentImage, SourceImage, TargetImage, ImageLoaded and TargetFilename hold full paths, "
             "and 'is not' compares the whole value: 'is not' powershell.exe is true for "
             "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe too, so in a <Rule "
             "groupRelation=\"and\"> it excludes nothing. Use 'not end with' \\powershell.exe."),
    LintRule("string-compare-number", "warning", "'less than'/'more than' on a number compares text",
             "Sysmon compares values as case-insensitive strings: port 1024 is 'less than' 443."),
    LintRule("environment-variable", "warning", "A %VARIABLE% in a rule value",
             "Only Windows user-mode Sysmon expands environment variables, per logon session; the "
             "kernel driver and Sysmon for Linux see the text literally."),
    LintRule("whitespace-in-value", "warning", "Leading or trailing white space in a value",
             "Sysmon does not trim field text, so indentation and line breaks become part of the value."),
    LintRule("empty-value", "warning", "An empty value",
             "A missing event field reads as '-', so 'is' an empty value never matches and 'contains' "
             "an empty value always does."),
    LintRule("malformed-technique-name", "warning", "A RuleName that breaks the technique_id=,technique_name= form",
             "Names of the form technique_id=T1234,technique_name=Name (sysmon-modular's convention) are "
             "split on ',' and '=' by SIEM parsers: a key spelled 'technique', an id that is not T1234 or "
             "T1234.001, an empty technique_name or a part without '=' loses the technique in the SIEM."),
    LintRule("long-rule-name", "warning", "A <Rule> name longer than the 127 characters Sysmon keeps",
             "The RULE_AGGREGATION record keeps 127 UTF-16 units of a <Rule> name; Sysmon up to binary "
             "14.1 reports that cut name, and `sysmon -c` prints it cut."),
    LintRule("needs-newer-sysmon", "error", "Something the target Sysmon does not know",
             "With --target-sysmon (a Sysmon version such as 15.15 or 13.33, or a schema version such as "
             "4.50): an event element, option, field or condition that is not in the schema the target "
             "validates the file against, so that Sysmon rejects the whole file."),
    LintRule("bypassable-exclude", "warning", "An exclusion a renamed or relocated binary bypasses",
             "Excluding on an image field by file name alone (end with, contains, image without a path) "
             "excludes any binary of that name anywhere; match the full path with 'is'."),
    LintRule("duplicate-filter", "warning", "The same filter twice in one rule set",
             "The second copy can never change the outcome."),
    LintRule("shadowed-filter", "warning", "A filter that never decides because an earlier one covers it",
             "Sysmon tries include sets in reverse document order and filters in order; the first match "
             "decides and names the event. A filter every match of which is matched first by another "
             "never decides and never surfaces its RuleName."),
    LintRule("rule-name-captured", "warning", "A named filter whose events an earlier rule names first",
             "Sysmon tries include sets and their items in order; the first match names the event. An "
             "earlier <Rule groupRelation=\"and\"> (or EventType filter) whose filters follow from a later "
             "named filter's, or narrow only by EventType (e.g. every CreatePipe event) or by a test almost "
             "every value passes, takes those events first: they are logged under its RuleName, or none. "
             "Reported with a witness event the evaluator decides."),
    LintRule("cancelled-by-exclude", "warning", "An include filter whose every match an exclude drops",
             "Exclude sets are tried before include sets: every event this filter matches is matched by an "
             "exclude filter first, so it is never logged."),
    LintRule("matches-everything", "warning", "A filter that alone matches almost every event",
             "In an OR set or <Rule groupRelation=\"or\">, one 'is not', 'excludes', 'not begin with' or "
             "'not end with' filter, or a 'contains' of one character, matches nearly every value: the set "
             "logs (or, as an exclude, drops) almost every event of its type."),
    LintRule("or-tautology", "warning", "Two OR-ed filters on one field that together match every value",
             "A filter and its opposite ('is X' or 'is not X', 'begin with C:\\' or 'not begin with "
             "C:\\Windows', two different 'is not') combined with OR: every value matches one of them, "
             "so the set or <Rule> always matches."),
    LintRule("never-matches", "warning", "An AND <Rule> whose filters on one field contradict each other",
             "No value is both 'is A' and 'is B', or begins with two different texts neither of which "
             "starts the other: the <Rule groupRelation=\"and\"> never matches."),
    LintRule("excludes-list-inverted", "warning", "'excludes all' that matches the very values it lists",
             "'excludes all' is true when any one item of its list is missing, so a value holding one item "
             "(but not all) matches: it keeps out none of them. For \"none of these\", use 'excludes any'; "
             "for \"one of these\", 'is any' or 'contains any'."),
    LintRule("rule-name-never-surfaces", "warning", "RuleNames hidden because an earlier filter always answers",
             "An include filter that matches (almost) every event is tried before these named filters: "
             "the event is logged under the earlier filter's RuleName, so these names never appear."),
    LintRule("short-contains", "warning", "A 'contains' token of one or two characters",
             "A very short piece occurs in far more values than meant ('contains' 'ps' matches every "
             "path with 'https' or 'apps')."),
    LintRule("mixed-onmatch-group", "warning", "One RuleGroup holds include and exclude elements for one event",
             "Sysmon 10 honoured only the include element of such a group (SwiftOnSecurity/sysmon-config "
             "#81, #87). Checked in files declaring schema 4.23 or older (Sysmon 10's); later releases build "
             "both rule sets. Give each onmatch its own <RuleGroup>."),
    LintRule("blocks-system-path", "warning", "A blocking rule that blocks Windows Update, installers or Sysinternals",
             "FileBlockExecutable and FileBlockShredding include rules block what they match. Checked with the "
             "evaluator against files Windows Update, the servicing stack, Windows Installer, setup "
             "bootstrappers and Sysinternals tools write."),
    LintRule("bad-suppression", "warning", "A suppression comment with an unknown code, or that silences nothing",
             "<!-- sysmon-rules: ignore[code] --> applies to the element it ends the line of, or else the next "
             "one; a comment naming an unknown code or matching no finding there is stale."),
    LintRule("empty-exclude-beside-include", "warning",
             "An empty exclude set (log everything) that an include set elsewhere overrides",
             "An event type whose only exclude set is empty logs every event; an include set of that type "
             "elsewhere in the file makes Sysmon log only what the include matches. Reported at both sets, "
             "with an event logged without the include set and dropped with it, when the empty set stands "
             "alone before the include set (an empty set right beside its include set is a template's "
             "placeholder)."),
    LintRule("schema-version-unreleased", "warning", "A schemaversion above every Sysmon release",
             "Sysmon validates a config that declares a schema version newer than its own against its "
             "newest schema, silently: a schemaversion above every release (e.g. 5.10 for 4.90) is a typo "
             "that no Sysmon reports."),
    LintRule("module-schema-too-old", "warning", "A module declaring an older schema than its content needs",
             "With --modules TREE: the module uses an event, option or field newer than its declared "
             "schemaversion, so Sysmon rejects it standalone; the tree's build writes its template's "
             "schemaversion, where it loads, so it is reported as a warning and the module is judged at "
             "the build's version."),
    LintRule("merged-differently", "warning", "A module its tree's build merges into something else",
             "With --modules TREE: the build (sysmon-modular's Merge-SysmonXml.ps1) takes every "
             "RuleGroup's event elements into its template, so a module's options, elements outside a "
             "RuleGroup, RuleGroup names and 'and' relations are dropped, and an event element without "
             "onmatch is merged as include: the module means one thing alone and another in the build."),
    LintRule("empty-include-set", "warning", "An event type whose include set is empty while it has exclusions",
             "With two or more rule sets and no match Sysmon drops the event; an empty include set next "
             "to exclusions therefore logs nothing of this event type."),
]

RULES: dict[str, LintRule] = {r.code: r for r in _RULES}

# GitHub code scanning's security-severity (0-10: low below 4, medium below 7, high below 9) for
# each rule: events silently lost or never logged rank high, evasion medium, wrong or missing
# RuleNames and noise low.
_LOST, _EVASION, _NOISE, _NAMES, _STYLE = 7.5, 5.5, 4.0, 3.0, 1.5
SECURITY_SEVERITY: dict[str, float] = {
    "invalid-config": _LOST, "needs-newer-sysmon": _LOST, "cancelled-by-exclude": _LOST,
    "empty-include-set": _LOST, "empty-exclude-beside-include": _LOST, "never-matches": _LOST,
    "is-without-path": _LOST, "is-not-without-path": _LOST, "excludes-list-inverted": _LOST,
    "semicolon-in-single-value": _LOST, "empty-value": _LOST, "whitespace-in-value": _LOST,
    "environment-variable": _LOST, "mixed-onmatch-group": _LOST, "empty-list-item": _EVASION,
    "matches-everything": _EVASION, "or-tautology": _EVASION, "is-not-pair": _EVASION,
    "and-repeated-field": _EVASION, "bypassable-exclude": _EVASION, "blocks-system-path": _EVASION,
    "string-compare-number": _EVASION, "short-contains": _NOISE, "schema-version-unreleased": _NOISE,
    "module-schema-too-old": _NOISE, "merged-differently": _EVASION, "shadowed-filter": _NAMES,
    "rule-name-never-surfaces": _NAMES,
    "rule-name-captured": _NAMES, "malformed-technique-name": _NAMES, "long-rule-name": _NAMES,
    "single-token-list": _STYLE, "duplicate-filter": _STYLE, "bad-suppression": _STYLE,
}
VALIDATION_FAMILY = "invalid-config"  # not a code of its own: the name of every validator finding
