"""Every code a validation Diagnostic can carry, with what it means in one line.

Lint reports these findings under their own codes (SARIF ``ruleId``), so code scanning can
filter on them; ``lint --select/--ignore invalid-config`` names them all at once.
"""

from __future__ import annotations

CODES: dict[str, str] = {
    "file-access": "The config file cannot be read",
    "xml-syntax": "Not well-formed XML, not an encoding Sysmon reads, or not a <Sysmon> document",
    "invalid-input": "Input Sysmon cannot take",
    "schema-version": "A schemaversion that is missing, malformed or older than Sysmon reads",
    "unknown-attribute": "An attribute the DTD of the declared schema version does not have",
    "attribute-value": "An attribute value outside the DTD's enumerated set",
    "missing-attribute": "An attribute the DTD requires is missing",
    "unexpected-element": "An element the DTD does not allow here",
    "unexpected-content": "Content the DTD does not allow in this element",
    "unexpected-text": "Text where the DTD allows only elements",
    "option-value": "An option value Sysmon rejects",
    "unknown-condition": "A condition Sysmon does not know: it refuses the config",
    "name-too-long": "A rule name over 255 UTF-8 bytes: Sysmon refuses the config",
    "incorrect-field": "A field no event of the element has: Sysmon drops this and every later such element",
    "dropped-element": "An element Sysmon drops because an earlier one of its name had an incorrect field",
    "missing-onmatch": "An event element without onmatch: Sysmon ignores it",
    "onmatch-and-default": "An event element with both onmatch and default: Sysmon ignores it",
}
