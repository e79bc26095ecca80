"""The input surfaces the fuzz harness drives, and the real seeds each one starts from.

A surface is ``run(data, workdir)``: it feeds ``data`` through one public path of the library,
end to end (parse, then everything built on the result), and either returns or raises. Seeds
come from ``shared/`` when it is given (examples, the hostile-input reproducers, Sysmon EVTX
logs, conformance blobs), else from small built-in texts, so the harness runs anywhere.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from ..events import Event

PROBE = Event(1, {"Image": "C:\\Windows\\System32\\cmd.exe", "CommandLine": "cmd /c whoami"})
SMALL_CONFIG = b"""<Sysmon schemaversion="4.90">
  <HashAlgorithms>md5,sha256</HashAlgorithms>
  <EventFiltering>
    <RuleGroup name="g" groupRelation="or">
      <ProcessCreate onmatch="include">
        <Image name="technique_id=T1059.003" condition="end with">\\cmd.exe</Image>
        <Rule name="r" groupRelation="and">
          <CommandLine condition="contains any">whoami;net ;;</CommandLine>
          <ParentImage condition="is not">C:\\x.exe</ParentImage>
        </Rule>
      </ProcessCreate>
    </RuleGroup>
    <NetworkConnect onmatch="exclude"><DestinationPort condition="is">443</DestinationPort></NetworkConnect>
  </EventFiltering>
</Sysmon>
"""
_SMALL_EVENTS = [Event(1, {"Image": "C:\\Windows\\System32\\cmd.exe", "CommandLine": "whoami"}),
                 Event(3, {"Image": "C:\\a.exe", "DestinationPort": "443"})]
_SMALL_TEST = b"""config: c.xml
cases:
  - name: cmd
    event: ProcessCreate
    fields: {Image: 'C:\\\\Windows\\\\cmd.exe'}
    expect: include
    rule_name: T1059.003
  - {name: net, event: 3, fields: {DestinationPort: '443'}, expect: exclude}
"""


@cache
def _cached(make: Callable[[], object]) -> Any:
    return make()


@cache
def _evaluator() -> object:
    from ..engine import Evaluator
    from ..validation import loads

    return Evaluator(loads(SMALL_CONFIG))


def _config(data: bytes, _workdir: Path) -> None:
    from ..blob.encode import to_blob
    from ..decompiling import from_blob
    from ..engine import Evaluator
    from ..validation import iter_errors, loads
    from ..xml.writer import to_xml

    for diagnostic in iter_errors(data):  # never raises; each message is one line
        if "\n" in diagnostic.message or "\r" in diagnostic.message:
            raise AssertionError(f"multi-line {diagnostic.code} diagnostic")
    config = loads(data)
    blob = to_blob(config)
    from_blob(blob)
    Evaluator(config).decide(PROBE)
    to_xml(config)


def _blob(data: bytes, _workdir: Path) -> None:
    from ..blob.decode import decode_blob
    from ..blob.dump import dump_json, dump_text
    from ..blob.reconstruct import rebuild
    from ..blob.textforms import read_blob
    from ..engine import Evaluator
    from ..xml.writer import to_xml

    blob = read_blob(data)
    config, notes = rebuild(decode_blob(blob))
    to_xml(config, notes=notes)
    dump_text(blob)
    json.dumps(dump_json(blob))
    Evaluator(blob).decide(PROBE)


def _dump_text(data: bytes, _workdir: Path) -> None:
    """`sysmon -c` text read back (blob.dumptext), then the blob it stands for, end to end."""
    from ..blob.dumptext import blob_from_text

    found = blob_from_text(data)
    if found is not None:
        _blob(found[0], _workdir)


def _capture(data: bytes, _workdir: Path) -> None:
    """Rules as a host holds them, through the one loader: `sysmon -c` captures (banners, host
    lines, CRLF, UTF-16LE, tabs turned to spaces), blobs and their text forms; then decided."""
    from ..engine import Evaluator
    from ..rulesource import load_rules

    rules = load_rules(data, platform="linux" if len(data) % 4 == 1 else "windows", label="capture")
    if rules.config is None:
        rules.blob_bytes  # noqa: B018  # the blob the rules stand for, encoded
        rules.hidden_sets  # noqa: B018
    Evaluator(rules.table).decide(PROBE)


def _events(suffix: str) -> Callable[[bytes, Path], None]:
    def run(data: bytes, workdir: Path) -> None:
        from ..collectors import EventStream, available
        from ..fileio import json_text

        path = workdir / f"input{suffix}"
        path.write_bytes(data)
        evaluator = _evaluator()
        stream = EventStream([path], strict=len(data) % 3 == 0, collectors=_cached(available))
        for event in stream:
            evaluator.decide(event)  # type: ignore[attr-defined]
            json_text(dict(event.fields)).encode("utf-8")  # any output can carry what was read
        json_text(dict(stream.stats.other)).encode("utf-8")

    return run


def _event_values(data: bytes, _workdir: Path) -> None:
    """``Event(id, fields)`` from a JSON object of typed values: the event as Sysmon renders it,
    decided; or its refusal, an ``Event:`` TypeError/ValueError (the constructor's documented one)."""
    from ..errors import SysmonRulesError

    try:
        spec = json.loads(data.decode("utf-8", "surrogatepass"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return  # not a spec: nothing to make
    if not isinstance(spec, dict) or not isinstance(spec.get("fields"), dict):
        return
    fields = {k: _typed(v) for k, v in spec["fields"].items()}
    try:
        event = Event(spec.get("id", 1), fields)  # type: ignore[arg-type]  # typed values: rendered or refused
    except (TypeError, ValueError) as exc:
        if not str(exc).startswith("Event: ") or "\n" in str(exc):
            raise
        raise SysmonRulesError(str(exc)) from None
    _evaluator().decide(event)  # type: ignore[attr-defined]


def _typed(value: object) -> object:
    """A JSON value as a caller's Python value: {"uuid": "..."} is a uuid.UUID."""
    import uuid

    if isinstance(value, dict) and isinstance(value.get("uuid"), str):
        try:
            return uuid.UUID(value["uuid"])
        except ValueError:
            return value
    return value


def _yaml(data: bytes, workdir: Path) -> None:
    from ..testing.testfile import load_test_file, run_case, run_test_file

    config = workdir / "c.xml"
    if not config.exists():
        config.write_bytes(SMALL_CONFIG)
    path = workdir / "t.sysmon-test.yaml"
    path.write_bytes(data)
    test_file = load_test_file(path)
    if test_file.config_path == config and test_file.platform == "windows":
        for case in test_file.cases:  # the seeds' config: its evaluator is built once
            run_case(_evaluator(), case)  # type: ignore[arg-type]
    else:
        run_test_file(test_file)


# The CLI on one input: which command reads it, by a byte of the input (so each is reproducible).
_COMMANDS = (("validate", "{x}"), ("lint", "{x}"), ("compile", "{x}", "-o", "{w}/out.bin"),
             ("decompile", "{x}"), ("dump", "{x}"), ("evaluate", "{c}", "{x}", "--format", "jsonl"),
             ("evaluate", "{x}", "{e}", "--explain"), ("test", "{x}"))


def _cli(data: bytes, workdir: Path) -> None:
    """A command on the input, in process (click's runner): exit 0, 1 or 2, never an exception."""
    from click.testing import CliRunner

    from ..cli import main

    source, config, events = workdir / "input", workdir / "c.xml", workdir / "e.jsonl"
    source.write_bytes(data)
    if not config.exists():
        config.write_bytes(SMALL_CONFIG)
        events.write_text("".join(json.dumps({"EventID": e.event_id, "fields": dict(e.fields)}) + "\n"
                                  for e in _SMALL_EVENTS), "utf-8")
    command = _COMMANDS[(data[-1] if data else 0) % len(_COMMANDS)]
    args = [a.format(x=source, c=config, e=events, w=workdir) for a in command]
    result = CliRunner().invoke(main, args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    if result.exit_code not in (0, 1, 2):
        raise AssertionError(f"{' '.join(command)}: exit {result.exit_code}")


SURFACES: dict[str, Callable[[bytes, Path], None]] = {
    "config": _config,
    "blob": _blob,
    "reg": _blob,  # the same path, from .reg/hex/base64 text seeds
    "dumptext": _dump_text,
    "capture": _capture,  # `sysmon -c` as captured on a host, and every rules form, via rulesource
    "evtx": _events(".evtx"),
    "xml": _events(".xml"),
    "jsonl": _events(".jsonl"),
    "eventjson": _events(".json"),  # the evtx library's JSON, pretty or per line; ECS, Splunk exports
    "event": _event_values,
    "gzip": _events(".gz"),
    "zip": _events(".zip"),
    "yaml": _yaml,
    "cli": _cli,
}


def _files(folder: Path, pattern: str, limit: int = 20, max_size: int = 96 * 1024) -> list[bytes]:
    found = sorted(p for p in folder.glob(pattern) if p.is_file() and p.stat().st_size <= max_size)
    return [p.read_bytes() for p in found[:limit]]


def _configs(shared: Path | None) -> list[bytes]:
    seeds = [SMALL_CONFIG]
    if shared is not None:
        seeds += _files(shared / "fuzz", "config_*.xml") + _files(shared / "fuzz", "sysmonconfig.xml")
        seeds += _files(shared / "conformance" / "compile", "*.xml", limit=30, max_size=16 * 1024)
    return seeds


def _blobs(shared: Path | None) -> list[bytes]:
    from ..blob.encode import to_blob
    from ..validation import loads

    seeds = [to_blob(loads(SMALL_CONFIG))]
    if shared is not None:
        seeds += _files(shared / "fuzz", "blob_*.bin")
        seeds += _files(shared / "conformance" / "compile", "*.bin", limit=30, max_size=16 * 1024)
    return seeds


def _valid_blobs(shared: Path | None) -> list[bytes]:
    if shared is None:
        return []
    return _files(shared / "conformance" / "compile", "*.bin", limit=12, max_size=16 * 1024)


def _reg_texts(shared: Path | None) -> list[bytes]:
    from ..blob.compile import compile_config
    from ..blob.regfile import render_reg
    from ..validation import loads

    config = loads(SMALL_CONFIG)
    compiled = compile_config(config)
    blob = compiled.data
    seeds = [render_reg(config, compiled.table, blob).encode("utf-16"), blob.hex().encode(),
             base64.b64encode(blob), ("[" + ", ".join(str(b) for b in blob) + "]").encode()]
    return seeds + [b.hex(",").encode() for b in _blobs(shared)[1:6]]


def _event_texts(fmt: str, shared: Path | None) -> list[bytes]:
    from ..collectors import read
    from ..collectors.export import export

    events = list(_SMALL_EVENTS)
    if shared is not None and (shared / "fuzz" / "events.jsonl").is_file():
        events += list(read(shared / "fuzz" / "events.jsonl"))
    return ["".join(line + "\n" for line in export(events, fmt)).encode()]


_EVENT_SPECS = [b'{"id": 3, "fields": {"DestinationPort": 3389, "Initiated": true, "SourceIsIpv6": false, '
                b'"ProcessGuid": {"uuid": "23f38d93-ceb4-5f8e-9f08-000000000c00"}, "Image": "C:\\\\a.exe"}}',
                b'{"id": 10, "fields": {"GrantedAccess": 2097151, "SourceProcessId": 4, "TargetImage": "x"}}',
                b'{"id": 1, "fields": {"LogonId": 999, "TerminalSessionId": 1, "CommandLine": "cmd /c whoami"}}']


def _event_json_seeds(shared: Path | None) -> list[bytes]:
    """Event JSON as tools write it, from the smallest corpus logs and SigmaHQ's regression data."""
    if shared is None:
        return [b'{"Event": {"System": {"Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}}, '
                b'"EventID": 1, "EventRecordID": 5}, "EventData": {"Image": "C:\\\\cmd.exe"}}}\n']
    from evtx import PyEvtxParser

    logs = sorted((shared / "corpus" / "evtx").rglob("*.evtx"), key=lambda p: p.stat().st_size)[:2]
    records = [r for log in logs for r in PyEvtxParser(str(log)).records_json() if r is not None]
    bodies = [json.loads(r["data"]) for r in records][:40]
    rendered = [r for r in PyEvtxParser(str(logs[0])).records() if r is not None]
    xml = [str(r["data"]).split("?>", 1)[-1].strip() for r in rendered][:20]
    ecs = [_ecs(body["Event"]) for body in bodies]
    seeds = ["".join(json.dumps(b) + "\n" for b in bodies),
             "".join(f"Record {n}\n{json.dumps(b, indent=2)}\n" for n, b in enumerate(bodies, 1)),
             json.dumps(bodies[:10], indent=2),
             "".join(json.dumps(d) + "\n" for d in ecs),
             "".join(json.dumps({"_index": "w", "_source": d}) + "\n" for d in ecs[:10]),
             "".join(json.dumps({"preview": False, "result": {"_raw": x, "sourcetype": "XmlWinEventLog"}}) + "\n"
                     for x in xml),
             json.dumps({"preview": False, "results": [{"_raw": x} for x in xml[:5]]}),
             "".join(json.dumps({"result": {"_raw": _classic(d)}}) + "\n" for d in ecs[:10])]
    sigma = sorted((shared / "corpus" / "sigma" / "regression_data").rglob("*.json"))
    return [s.encode() for s in seeds] + _files_of(sigma[::20], max_size=32 * 1024)


def _ecs(event: dict[str, Any]) -> dict[str, Any]:
    """A Winlogbeat document of one record of the evtx library's JSON."""
    system = event["System"]
    data = event.get("EventData") or {}
    return {"winlog": {"event_id": str(system["EventID"]), "record_id": system["EventRecordID"],
                       "provider_name": system["Provider"]["#attributes"]["Name"], "computer_name": system["Computer"],
                       "event_data": {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}},
            "event": {"code": str(system["EventID"])}}


def _classic(ecs: dict[str, Any]) -> str:
    """Splunk's classic WinEventLog text of a Winlogbeat document: header lines, then the message."""
    winlog = ecs["winlog"]
    message = "\r\n".join(["Event:", *(f"{k}: {v}" for k, v in winlog["event_data"].items())])
    return (f"LogName=Microsoft-Windows-Sysmon/Operational\nEventCode={winlog['event_id']}\nEventType=4\n"
            f"SourceName={winlog['provider_name']}\nRecordNumber={winlog['record_id']}\nMessage={message}")


def _files_of(paths: list[Path], max_size: int) -> list[bytes]:
    return [p.read_bytes() for p in paths if p.stat().st_size <= max_size]


def _event_seeds(surface: str, shared: Path | None) -> list[bytes]:
    if surface == "evtx":
        seeds = [b"ElfFile\x00" + bytes(4088)]
        if shared is not None:
            logs = sorted((shared / "corpus" / "evtx").rglob("*.evtx"), key=lambda p: p.stat().st_size)
            seeds += [p.read_bytes() for p in logs[:4]] + _files(shared / "fuzz", "evtx_*")
        return seeds
    if surface == "xml":
        seeds = _event_texts("wevtutil", shared) + _event_texts("splunk", shared) + _event_texts("syslog", shared)
        return seeds + (_files(shared / "fuzz", "xmlev_*") if shared is not None else [])
    seeds = [s for fmt in ("canonical", "nxlog", "otrf2022", "winlogbeat") for s in _event_texts(fmt, shared)]
    if shared is not None:
        seeds += _files(shared / "fuzz", "jsonl_*") + _files(shared / "fuzz", "events*.jsonl")
    if surface == "gzip":
        seeds = [gzip.compress(s) for s in seeds[:4] + _event_texts("wevtutil", shared)]
        seeds += _files(shared / "fuzz", "gzip_*") if shared is not None else []
    if surface == "zip":
        seeds = [_zip({"a.jsonl": seeds[0], "b.xml.gz": gzip.compress(_event_texts("wevtutil", shared)[0]),
                       "c.txt": b"notes"})]
    return seeds


def _zip(members: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# What surrounds `sysmon -c` output in a capture (Sysmon's banners, "Current configuration:" host
# lines), a few lines of each: the loader's tests hold the full forms.
_BANNERS = ("\n\nSystem Monitor v15.15 - System activity monitor\nSysinternals - www.sysinternals.com\n\n",
            "\nSysmon v1.3.3 - Monitors system events\nUsing libxml2. libxml2 is Copyright (C) 1998-2012 "
            "Daniel Veillard. All Rights Reserved.\n\n")
_HOST_LINES = " - Service name:                  Sysmon64\n - Config hash:                   SHA256=00AB\n"


def _captures(texts: list[bytes]) -> list[bytes]:
    """Each dump text as hosts' captures have it: a banner and host lines, CRLF, UTF-16LE with a
    BOM (PowerShell 5.1's ``>``), tabs turned to spaces, blank lines between, no final newline."""
    seeds = []
    for number, raw in enumerate(texts[:6]):
        text = raw.decode("utf-8", "replace")
        hosted = _BANNERS[number % 2] + text.replace("Current configuration:\n",
                                                        "Current configuration:\n" + _HOST_LINES, 1)
        seeds += [hosted.encode(), ("\ufeff" + hosted.replace("\n", "\r\n")).encode("utf-16-le"),
                  text.expandtabs(8).rstrip("\n").encode(), "\n\n".join(text.split("\n")).encode()]
    return seeds


def _yaml_seeds(shared: Path | None) -> list[bytes]:
    seeds = [_SMALL_TEST]
    if shared is not None:
        seeds += [s for s in _files(shared / "fuzz", "yaml_*") if len(s) < 4096]
    return seeds


@cache
def seeds_for(surface: str, shared: Path | None) -> list[bytes]:
    """The real inputs ``surface`` mutates (never empty)."""
    if surface == "cli":  # every kind of input, each command given each kind
        return [seed for name in ("config", "blob", "reg", "capture", "jsonl", "eventjson", "xml", "yaml")
                for seed in seeds_for(name, shared)]
    if surface == "config":
        return _configs(shared)
    if surface == "blob":
        return _blobs(shared)
    if surface == "reg":
        return _reg_texts(shared)
    if surface == "dumptext":
        from ..blob.dump import dump_text

        return [dump_text(blob).encode() for blob in _blobs(shared)[:1] + _valid_blobs(shared)]
    if surface == "capture":
        return _captures(seeds_for("dumptext", shared)) + seeds_for("reg", shared)[:2] + _blobs(shared)[:2]
    if surface == "yaml":
        return _yaml_seeds(shared)
    if surface == "eventjson":
        return _event_json_seeds(shared)
    if surface == "event":
        return list(_EVENT_SPECS)
    return _event_seeds(surface, shared)
