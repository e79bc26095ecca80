"""Real history: upstream commits whose per-change effect the diff must get right (issue 25).

Each old config is rebuilt from the corpus config (the newer commit, byte for byte as upstream
has it) by undoing what the upstream commit did, as read from the upstream history:

- NextronSystems/sysmon-config 5ba379c -> cfe23bf added four COM filters (among them
  ``\\Open\\Command\\DelegateExecute``) and renamed three T1122 filters to T1546.015;
  ``\\command\\`` (contains, T1042) comes earlier in the same set, so DelegateExecute never decides;
- SwiftOnSecurity/sysmon-config 443afc3 -> 1836897 added ``.amazontrust.com`` (end with) to the
  DnsQuery exclude set that already holds ``amazontrust.com``;
- SwiftOnSecurity 80d268d -> 1836897 added ``\\postex_`` and, right after it, ``\\postex_ssh_``
  (both begin with): the second is dead behind the first;
- olafhartong/sysmon-modular: the committed sysmonconfig.xml is stale against the PipeEvent
  module include_powershell.xml, which rewrote two AND rules (``\\PSHost`` and Image ``is not``
  powershell.exe / powershell_ise.exe) into one (Image ``excludes any`` both): a pipe from
  powershell.exe was logged as T1059.001 and is now dropped.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sysmon_rules import Evaluator, Event, loads
from sysmon_rules.diffing import diff

DELEGATE = '<TargetObject name="T1546.015" condition="end with">\\Open\\Command\\DelegateExecute</TargetObject>'


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8-sig")


def _without(text: str, *lines: str) -> str:
    for line in lines:
        assert text.count(line) == 1, line
        text = text.replace(line, "")
    return text


def _change(result: object, needle: str) -> object:
    found = [c for c in result.changes if needle in c.description]  # type: ignore[attr-defined]
    assert len(found) == 1, [c.description for c in result.changes]  # type: ignore[attr-defined]
    return found[0]


@pytest.fixture
def nextron(shared_dir: Path) -> tuple[str, str]:
    new = _read(shared_dir / "corpus/configs/nextron/sysmonconfig-export.xml")
    old = _without(new, DELEGATE,
                   '<TargetObject name="T1546.015" condition="end with">\\LocalServer32\\(Default)</TargetObject>',
                   '<TargetObject name="T1546.015" condition="end with">\\TreatAs\\(Default)</TargetObject>',
                   '<TargetObject name="T1546.015" condition="end with">\\ScriptletURL\\(Default)</TargetObject>')
    for value in ("\\ddeexec\\", "{86C86720-42A0-1069-A2E8-08002B30309D}"):
        old = old.replace(f'name="T1546.015" condition="contains">{value}',
                          f'name="T1122" condition="contains">{value}')
    old = old.replace('name="T1546.015" condition="end with">\\InprocServer32',
                      'name="T1122" condition="end with">\\InprocServer32')
    return old, new


def test_nextron_delegate_execute_is_shadowed(nextron: tuple[str, str]) -> None:
    old, new = nextron
    result = diff(old.encode(), new.encode())
    delegate = _change(result, "DelegateExecute")
    assert (delegate.kind, delegate.effect) == ("filter-added", "none")  # type: ignore[attr-defined]
    assert "contains '\\\\command\\\\'" in delegate.proof and "T1042" in delegate.proof  # type: ignore[attr-defined]
    # The other three added filters log events the old config dropped; the renames rename.
    for needle in ("LocalServer32", "TreatAs", "ScriptletURL"):
        assert _change(result, needle).effect == "behaviour"  # type: ignore[attr-defined]
    assert result.verdict == "different"
    assert not [c for c in result.changes if c.effect == "unknown"]


def test_nextron_covering_filter_decides_first(nextron: tuple[str, str]) -> None:
    """The proof checked against the evaluator: the new config reports T1042 for the key."""
    new = Evaluator(loads(nextron[1].encode()))
    key = "HKCR\\Folder\\shell\\Open\\Command\\DelegateExecute"
    assert new.decide(Event(13, {"TargetObject": key})).rule_name == "T1042"


def test_swiftonsecurity_amazontrust_is_covered(shared_dir: Path) -> None:
    new = _read(shared_dir / "corpus/configs/swiftonsecurity/sysmonconfig-export.xml")
    old = _without(new, '<QueryName condition="end with">.amazontrust.com</QueryName>')
    result = diff(old.encode(), new.encode())
    change = _change(result, ".amazontrust.com")
    assert (change.kind, change.effect) == ("filter-added", "none")  # type: ignore[attr-defined]
    assert "end with 'amazontrust.com'" in change.proof  # type: ignore[attr-defined]
    assert result.verdict == "equivalent"  # that was the whole change


def test_swiftonsecurity_postex_ssh_is_dead_behind_postex(shared_dir: Path) -> None:
    new = _read(shared_dir / "corpus/configs/swiftonsecurity/sysmonconfig-export.xml")
    old = _without(new, '<PipeName condition="begin with">\\postex_</PipeName>',
                   '<PipeName condition="begin with">\\postex_ssh_</PipeName>')
    result = diff(old.encode(), new.encode())
    ssh = _change(result, "postex_ssh_")
    assert (ssh.kind, ssh.effect) == ("filter-added", "none")  # type: ignore[attr-defined]
    assert "begin with '\\\\postex_'" in ssh.proof  # type: ignore[attr-defined]
    postex = _change(result, "'\\\\postex_' added")
    assert postex.effect == "behaviour"  # type: ignore[attr-defined]
    event = postex.witness.event  # type: ignore[attr-defined]
    assert event.fields["PipeName"].startswith("\\postex_")
    assert Evaluator(loads(new.encode())).decide(event).decision == "include"
    assert Evaluator(loads(old.encode())).decide(event).decision == "exclude"


STALE_RULES = """<Rule groupRelation="and">
          <PipeName name="technique_id=T1059.001,technique_name=PowerShell" condition="begin with">\\PSHost</PipeName>
          <Image condition="is not">powershell.exe</Image>
        </Rule>
        <Rule groupRelation="and">
          <PipeName name="technique_id=T1059.001,technique_name=PowerShell" condition="begin with">\\PSHost</PipeName>
          <Image condition="is not">powershell_ise.exe</Image>
        </Rule>"""
MODULE_RULE = """<Rule groupRelation="and">
          <PipeName name="technique_id=T1059.001,technique_name=PowerShell" condition="begin with">\\PSHost</PipeName>
          <Image condition="excludes any">powershell.exe;powershell_ise.exe</Image>
        </Rule>"""
T1059 = "technique_id=T1059.001,technique_name=PowerShell"


def test_sysmon_modular_pshost_rewrite_has_its_witness(shared_dir: Path) -> None:
    old = _read(shared_dir / "corpus/configs/sysmon-modular/sysmonconfig.xml").replace("\r\n", "\n")
    assert old.count(STALE_RULES) == 1
    new = old.replace(STALE_RULES, MODULE_RULE)
    module = _read(shared_dir / "corpus/configs/sysmon-modular/17_18_pipe_event/include_powershell.xml")
    assert "excludes any\">powershell.exe;powershell_ise.exe" in module  # the module says so
    result = diff(old.encode(), new.encode())
    assert result.verdict == "different"
    rewrite = [c for c in result.changes if "PSHost" in c.description or "powershell" in c.description]
    assert rewrite and all(c.effect == "behaviour" for c in rewrite)
    shown = [c.witness for c in rewrite if c.witness is not None and "PipeName" in c.witness.event.fields and
             c.witness.event.fields["PipeName"].startswith("\\pshost")]
    assert shown
    for witness in shown:
        assert "powershell" in witness.event.fields["Image"]
        assert [(d.decision, d.rule_name) for d in witness.decisions] == [("include", T1059), ("exclude", None)]
    # The issue's own event, decided by the evaluator.
    image = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"
    event = Event(17, {"PipeName": "\\PSHost.1", "Image": image})
    assert Evaluator(loads(old.encode())).decide(event).rule_name == T1059
    assert Evaluator(loads(new.encode())).decide(event).decision == "exclude"
