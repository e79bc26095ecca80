"""Sigma field references (``A|fieldref: B``): proofs stay proofs, witnesses hold the reference."""

from __future__ import annotations

from sigma.collection import SigmaCollection

import sysmon_rules as sr
from sysmon_rules.events import Event
from sysmon_rules.readiness import EventPool, coverage

OWN_IMAGE = r"""
title: Own image deleted
id: 33333333-3333-4333-8333-333333333333
logsource: {product: windows, category: process_creation}
detection:
    selection: {CommandLine|contains: 'del '}
    same: {CurrentDirectory|fieldref: ParentImage}
    other_user: {User|fieldref: ParentUser}
    condition: selection and same and not other_user
"""

CONFIG = r"""<Sysmon schemaversion="4.90"><EventFiltering>
  <RuleGroup groupRelation="or"><ProcessCreate onmatch="include">
    <ParentImage condition="end with">\cmd.exe</ParentImage>
  </ProcessCreate></RuleGroup>
</EventFiltering></Sysmon>"""


def test_field_references_are_reasoned_about_and_witnessed() -> None:
    rule = SigmaCollection.from_yaml(OWN_IMAGE)
    (result,) = coverage(sr.loads(CONFIG), [rule], captures=False).rules
    assert result.status in ("partial", "dropped-in-practice"), result.reasons
    assert result.witnesses
    for w in result.witnesses:  # every shown event satisfies both references, as Sigma reads them
        assert w.fields.get("CurrentDirectory", "-").lower() == w.fields.get("ParentImage", "-").lower()
        assert w.fields.get("User", "-").lower() != w.fields.get("ParentUser", "-").lower()
    off = sr.loads('<Sysmon schemaversion="4.90"><EventFiltering><ProcessCreate onmatch="include"/>'
                   "</EventFiltering></Sysmon>")
    (dropped,) = coverage(off, [rule], captures=False).rules
    assert dropped.status == "dropped"  # a proof over more events than the rule's holds for the rule's


def test_evidence_reads_field_references() -> None:
    rule = SigmaCollection.from_yaml(OWN_IMAGE)
    same = {"CommandLine": "cmd /c del x", "CurrentDirectory": r"C:\Windows\System32\cmd.exe",
            "ParentImage": r"c:\windows\system32\CMD.exe", "User": "a", "ParentUser": "b"}
    events = [Event(1, same), Event(1, {**same, "ParentUser": "A"}), Event(1, {**same, "ParentImage": "x"})]
    (result,) = coverage(sr.loads(CONFIG), [rule], events=EventPool(events), captures=False).rules
    assert result.evidence is not None and (result.evidence.events, result.evidence.logged) == (1, 1)
