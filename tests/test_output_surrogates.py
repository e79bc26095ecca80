"""A lone UTF-16 surrogate in a value (a JSON ``\\ud800`` escape, a blob's name) never breaks an
output: through a strict UTF-8 stream, in a file, JSON stays JSON and reads back the same text."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from sysmon_rules.cli import main
from sysmon_rules.fileio import json_text, write_output

SURROGATE = "\ud800"
RECORDS = [
    # another provider's record: its channel is named in the summary
    {"EventID": 1, "SourceName": "Other", "Channel": f"Chan{SURROGATE}nel", "Image": "x"},
    {"EventID": 1, "fields": {"Image": f"C:\\{SURROGATE}\\cmd.exe", "CommandLine": "whoami"}},
    # a plain event: the batch path reads one Sysmon event at least (none read would be an error)
    {"EventID": 1, "fields": {"Image": "C:\\Windows\\notepad.exe", "CommandLine": "notepad"}},
]


def _strict_run(args: list[str]) -> str:
    """The command in process, its stdout a strict UTF-8 stream (as under an en_US.UTF-8 locale)."""
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8", errors="strict", newline="\n")
    with contextlib.redirect_stdout(stream), contextlib.suppress(SystemExit):
        main.main(args=args, standalone_mode=False)
    stream.flush()
    return raw.getvalue().decode("utf-8")  # what was written is UTF-8


@pytest.mark.parametrize("fmt", ["json", "jsonl", "summary"])
@pytest.mark.parametrize("explain", [False, True])
def test_a_lone_surrogate_in_events_never_breaks_stdout(project_root: Path, tmp_path: Path, fmt: str,
                                                        explain: bool) -> None:
    events = tmp_path / "e.jsonl"
    events.write_text("".join(json.dumps(r) + "\n" for r in RECORDS), "utf-8")
    args = ["evaluate", str(project_root / "examples" / "sysmonconfig.xml"), str(events), "--format", fmt]
    out = _strict_run(args + (["--explain"] if explain else []))
    if fmt == "json":
        assert json.loads(out)["other_records"] == {f"Chan{SURROGATE}nel": 1}
    elif fmt == "jsonl" and explain:  # the event path keeps the value; its line is still JSON
        lines = [json.loads(line) for line in out.splitlines()]
        assert len(lines) == 2 and "\\ud800" in lines[0]["explanation"]  # the trace quotes values (repr)
    elif fmt == "summary":
        assert "events read: " in out
    else:  # batches: Arrow strings are UTF-8, so that record is a damaged one (named on stderr)
        assert [json.loads(line)["line"] for line in out.splitlines()] == [3]


def test_json_text_reads_back_the_same_and_files_take_it(tmp_path: Path) -> None:
    value = {"name": f"a{SURROGATE}b\u00e9\U0001f600", "n": [1, None]}
    text = json_text(value, indent=2)
    assert json.loads(text) == value and "\u00e9\U0001f600" in text
    text.encode("utf-8")  # encodable
    out = tmp_path / "out.json"
    write_output(out, json.dumps(value, ensure_ascii=False))  # a producer that did not escape
    assert json.loads(out.read_text("utf-8")) == value
