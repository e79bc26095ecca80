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
    LintRule("long-rule-name", "warning", "A <Rule> name longer than the 127 characters Sysmon keeps",
             "The RULE_AGGREGATION record keeps 127 UTF-16 units of a <Rule> name; Sysmon up to binary "
             "14.1 reports that cut name, and `sysmon -c` prints it cut."),
    LintRule("needs-newer-sysmon", "error", "An event or option the target Sysmon does not know",
             "With --target-sysmon, events and options that first appear in a later schema version."),
    LintRule("bypassable-exclude", "warning", "An exclusion a renamed or relocated binary bypasses",
             "Excluding on an image field by file name alone (end with, contains, image without a path) "
             "excludes any binary of that name anywhere; match the full path with 'is'."),
    LintRule("duplicate-filter", "warning", "The same filter twice in one rule set",
             "The second copy can never change the outcome."),
    LintRule("shadowed-filter", "warning", "A filter that never decides because an earlier one covers it",
             "Sysmon tries include sets in reverse document order and filters in order; the first match "
             "decides and names the event. A filter every match of which is matched first by another "
             "never decides and never surfaces its RuleName."),
    LintRule("cancelled-by-exclude", "warning", "An include filter whose every match an exclude drops",
             "Exclude sets are tried before include sets: every event this filter matches is matched by an "
             "exclude filter first, so it is never logged."),
    LintRule("empty-include-set", "warning", "An event type whose include set is empty while it has exclusions",
             "With two or more rule sets and no match Sysmon drops the event; an empty include set next "
             "to exclusions therefore logs nothing of this event type."),
]

RULES: dict[str, LintRule] = {r.code: r for r in _RULES}
VALIDATION_FAMILY = "invalid-config"  # not a code of its own: the name of every validator finding
