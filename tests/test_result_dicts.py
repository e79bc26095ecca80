"""`to_dict()` of the results that lacked it (compiled blobs, decompiled blobs, lint results, HTML
report facts): JSON-ready, and saying the same as the bytes and the CLI's own JSON."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from click.testing import CliRunner

import sysmon_rules as sr
from sysmon_rules.cli import main


def test_compiled_blob_dict_carries_sysmons_bytes(shared_dir: Path) -> None:
    configs = sorted((shared_dir / "conformance" / "compile").glob("*.xml"))[:25]
    assert configs
    for config in configs:
        golden = config.with_name(config.name + ".bin").read_bytes()
        shape = json.loads(json.dumps(sr.compile_config(sr.load(config)).to_dict()))
        data = base64.b64decode(shape["base64"])
        # bytes 0-3 hold the writer's binary version, which differs between Sysmon builds
        assert data[4:] == golden[4:], config.name
        assert shape["size"] == len(golden) and shape["sha256"] == hashlib.sha256(data).hexdigest()
        assert shape["binary_version"] == "18" and data[:4] == (18 << 16).to_bytes(4, "little")


def test_decompiled_dict_xml_compiles_back_to_the_blob(shared_dir: Path) -> None:
    for blob in sorted((shared_dir / "conformance" / "compile").glob("*.bin"))[:25]:
        data = blob.read_bytes()
        decompiled = sr.decompile(data)
        shape = json.loads(json.dumps(decompiled.to_dict()))
        assert shape["binary_version"] == decompiled.decoded.fmt.name and shape["notes"] == list(decompiled.notes)
        assert sr.to_blob(sr.loads(shape["xml"]))[4:] == data[4:], blob.name


def test_lint_result_dict_is_what_lint_json_prints(project_root: Path) -> None:
    path = project_root / "examples" / "lint-mistakes.xml"
    printed = json.loads(CliRunner().invoke(main, ["lint", str(path), "--format", "json", "--fail-on", "never"]).stdout)
    result = sr.lint_document(path)
    shape = json.loads(json.dumps(result.to_dict()))
    assert len(shape["findings"]) == len(printed[0]["findings"]) > 3
    for mine, theirs in zip(shape["findings"], printed[0]["findings"], strict=True):
        assert mine.pop("fingerprint") and mine == theirs


def test_report_dict_is_json_ready(project_root: Path) -> None:
    report = sr.collect_report(project_root / "examples" / "sysmonconfig.xml",
                               events=[project_root / "examples" / "events.jsonl"])
    shape = json.loads(json.dumps(report.to_dict()))
    assert shape["replay"]["events"] == report.replay["events"] > 0  # type: ignore[index]
    assert shape["config"]["path"] == str(report.config["path"])
