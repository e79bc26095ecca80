"""The fuzz harness over every input surface (see :mod:`sysmon_rules.fuzz.harness`).

It drives the CLI too, so it sits above every other part of the package (docs/architecture.md).
"""
