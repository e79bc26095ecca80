"""Witness values are values Sysmon writes: each field's domain, and every coverage witness inside it."""

from __future__ import annotations

from typing import Any

import pytest

from sysmon_rules.readiness import CoverageReport
from sysmon_rules.witness.domains import field_domain, realize


@pytest.mark.parametrize(("event_id", "field", "inside", "outside"), [
    (1, "ProcessGuid", ["{3FA85F64-5717-4562-B3FC-2C963F66AFA6}", "0197231E-F943-69E5-A527-000000000800"],
     ["x", "-", "{3fa85f64}"]),
    (3, "DestinationPort", ["443", "65535", "0"], ["65536", "x", "-1", "-"]),
    (3, "DestinationIp", ["10.0.0.5", "fe80::1", "-"], ["x", "10.0.0", "999.1.1.1"]),
    (3, "Protocol", ["tcp", "UDP"], ["x", "icmp"]),
    (3, "Initiated", ["true", "false"], ["x", "1", "-"]),
    (10, "GrantedAccess", ["0x1410", "0x1FFFFF"], ["1410", "x"]),
    (12, "EventType", ["CreateKey", "DeleteValue"], ["SetValue", "x"]),
    (13, "EventType", ["SetValue"], ["CreateKey"]),
    (17, "EventType", ["CreatePipe"], ["ConnectPipe"]),
    (20, "Operation", ["Created", "Deleted"], ["x"]),
    (1, "Image", [r"C:\Windows\System32\cmd.exe", r"\\server\share\x.exe", "System", "<unknown process>", "-"],
     [r"\cmd.exe", "cmd.exe", "x"]),
    (11, "TargetFilename", [r"D:\data\x.txt", r"\Device\HarddiskVolume2\x"], ["x.txt", "System"]),
    (1, "Hashes", ["SHA1=0A,MD5=FF,SHA256=00,IMPHASH=12"], ["x", "SHA1="]),
    (1, "FileVersion", ["10.0.1", "-", "?"], []),
    (1, "CommandLine", ["anything", "-"], []),
])
def test_field_domains(event_id: int, field: str, inside: list[str], outside: list[str]) -> None:
    domain = field_domain(event_id, field)
    assert all(v in domain for v in inside), [v for v in inside if v not in domain]
    assert not any(v in domain for v in outside), [v for v in outside if v in domain]
    assert all(v in domain for v in domain.examples())


def test_realize_completes_a_solvers_answer() -> None:
    assert realize(1, "Image", "\\wget.exe", lambda v: v.endswith("\\wget.exe")) == "c:\\windows\\system32\\wget.exe"
    assert realize(3, "DestinationIp", "192.168.", lambda v: v.startswith("192.168.")) == "192.168.0.1"
    assert realize(3, "Protocol", "x", lambda v: v != "tcp") == "udp"
    assert realize(1, "Image", "x.exe", lambda v: v == "x.exe") is None  # an eq on a bare name: no real path


def test_every_coverage_witness_is_a_value_sysmon_writes(windows_coverage: tuple[list[Any], CoverageReport]) -> None:
    """Property over every SigmaHQ Windows rule's witnesses (solver's and typical) under sysmon-modular."""
    _, report = windows_coverage
    witnesses = [(r.path, w) for r in report.rules for w in r.witnesses]
    assert len(witnesses) > 5000
    outside = [(path, w.event_id, k, v) for path, w in witnesses for k, v in w.fields.items()
               if v not in field_domain(w.event_id, k)]
    assert outside == []
