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


def _events(suffix: str) -> Callable[[bytes, Path], None]:
    def run(data: bytes, workdir: Path) -> None:
        from ..collectors import EventStream, available

        path = workdir / f"input{suffix}"
        path.write_bytes(data)
        evaluator = _evaluator()
        for event in EventStream([path], strict=len(data) % 3 == 0, collectors=_cached(available)):
            evaluator.decide(event)  # type: ignore[attr-defined]
            json.dumps(dict(event.fields), ensure_ascii=False)

    return run


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
    "evtx": _events(".evtx"),
    "xml": _events(".xml"),
    "jsonl": _events(".jsonl"),
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


def _yaml_seeds(shared: Path | None) -> list[bytes]:
    seeds = [_SMALL_TEST]
    if shared is not None:
        seeds += [s for s in _files(shared / "fuzz", "yaml_*") if len(s) < 4096]
    return seeds


@cache
def seeds_for(surface: str, shared: Path | None) -> list[bytes]:
    """The real inputs ``surface`` mutates (never empty)."""
    if surface == "cli":  # every kind of input, each command given each kind
        return [seed for name in ("config", "blob", "reg", "jsonl", "xml", "yaml") for seed in seeds_for(name, shared)]
    if surface == "config":
        return _configs(shared)
    if surface == "blob":
        return _blobs(shared)
    if surface == "reg":
        return _reg_texts(shared)
    if surface == "dumptext":
        from ..blob.dump import dump_text

        return [dump_text(blob).encode() for blob in _blobs(shared)[:1] + _valid_blobs(shared)]
    if surface == "yaml":
        return _yaml_seeds(shared)
    return _event_seeds(surface, shared)
