"""Every command x every kind of bad input: one error line and the same exit code (docs/cli.md).

The matrix: empty folder, folder without a file of the command's kind, missing path, wrong kind of
file, truncated EVTX (commands that read events), unwritable ``-o``, ``-o -``, Ctrl-C. No cell may
exit 0 having checked nothing, none may be an internal error (70). ``python
tests/test_cli_conventions.py`` prints the table (exit code and first line of stderr per cell).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sysmon_rules.cli import run

ROOT = Path(__file__).resolve().parents[1]
EVTX = Path("corpus") / "evtx" / "Defense Evasion" / "DE_UAC_Disabled_Sysmon_12_13.evtx"
SIGMA = """title: whoami run
id: 8f0a2a7e-3c5d-4a8e-9f6b-0c1d2e3f4a5b
status: test
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswith: '\\\\whoami.exe'
    condition: selection
level: low
"""
COMMANDS = ("validate", "lint", "compile", "decompile", "dump", "schema", "evaluate", "test", "merge", "diff",
            "coverage", "report", "tune")
# Commands whose answer may be "no" (exit 1) on good input: the "-o -" cell accepts it.
ANSWERS = {"validate": (0, 1), "lint": (0, 1), "test": (0, 1), "diff": (0, 1, 3)}


@dataclass(frozen=True)
class Files:
    """The inputs every cell draws from, made once per module."""

    root: Path

    def __getattr__(self, name: str) -> str:
        return str(self.root / {"cfg": "sysmonconfig.xml", "other": "other.xml", "blob": "rules.bin",
                                "events": "events.jsonl", "tests": "sysmonconfig.sysmon-test.yaml",
                                "sigma": "whoami.yml", "evtx": "log.evtx", "cut": "cut.evtx", "logs": "logs",
                                "empty": "empty", "text_only": "text-only", "missing": "no/such/path",
                                "out": "out.file", "unwritable": "no-such-folder/out.file"}[name])


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, shared_dir: Path) -> Files:
    return make_files(tmp_path_factory.mktemp("inputs"), shared_dir)


def make_files(root: Path, shared_dir: Path) -> Files:
    for name in ("sysmonconfig.xml", "events.jsonl", "sysmonconfig.sysmon-test.yaml"):
        shutil.copy(ROOT / "examples" / name, root / name)
    config = (root / "sysmonconfig.xml").read_text("utf-8")
    (root / "other.xml").write_text(config.replace("cmd.exe", "pwsh.exe"), "utf-8")
    (root / "whoami.yml").write_text(SIGMA, "utf-8")
    evtx = (shared_dir / EVTX).read_bytes()
    (root / "log.evtx").write_bytes(evtx)
    (root / "cut.evtx").write_bytes(evtx[:20_000])  # inside the first chunk: the header promises more
    (root / "logs").mkdir()  # a cut log beside a whole one: some events are read
    (root / "logs" / "cut.evtx").write_bytes(evtx[:20_000])
    (root / "logs" / "whole.evtx").write_bytes(evtx)
    (root / "empty").mkdir()
    (root / "text-only").mkdir()
    (root / "text-only" / "notes.txt").write_text("not an input of any kind\n", "utf-8")
    from sysmon_rules import load, to_blob

    (root / "rules.bin").write_bytes(to_blob(load(root / "sysmonconfig.xml")))
    return Files(root)


def base(command: str, f: Files, *, out: str | None = None) -> list[str]:
    """A good invocation of ``command``; ``out`` replaces (or adds) its -o."""
    o = ["-o", out] if out is not None else []
    return {
        "validate": ["validate", f.cfg, "--format", "json", *o],
        "lint": ["lint", f.cfg, *o],
        "compile": ["compile", f.cfg, *(o or ["-o", f.out])],
        "decompile": ["decompile", f.blob, *o],
        "dump": ["dump", f.blob, *o],
        "schema": ["schema", *o],
        "evaluate": ["evaluate", f.cfg, f.events, "--format", "json", *o],
        "test": ["test", f.tests, *o],
        "merge": ["merge", f.cfg, *(o or ["-o", f.out])],
        "diff": ["diff", f.cfg, f.other, *o],
        "coverage": ["coverage", f.cfg, "--sigma", f.sigma, *o],
        "report": ["report", f.cfg, *(o or ["-o", f.out])],
        "tune": ["tune", f.cfg, "--events", f.events, *o],  # -o: the patch
    }[command]


def with_input(command: str, f: Files, path: str) -> list[str] | None:
    """``command`` with ``path`` as the input the case is about (its main one; events or rules where those
    are the many-file input); None where the command reads no input."""
    return {
        "validate": ["validate", path],
        "lint": ["lint", path],
        "compile": ["compile", path, "-o", f.out],
        "decompile": ["decompile", path],
        "dump": ["dump", path],
        "evaluate": ["evaluate", f.cfg, path],
        "test": ["test", path],
        "merge": ["merge", path, "-o", f.out],
        "diff": ["diff", f.cfg, path],
        "coverage": ["coverage", f.cfg, "--sigma", path],
        "report": ["report", f.cfg, "--events", path, "-o", f.out],
        "tune": ["tune", f.cfg, "--events", path],
    }.get(command)


WRONG_KIND: dict[str, Callable[[Files], tuple[list[str], int, str]]] = {
    # validate and lint answer about the file: not a config Sysmon would load (exit 1); the rest stop (exit 2)
    "validate": lambda f: (["validate", f.evtx], 1, "error[xml-syntax]"),
    "lint": lambda f: (["lint", f.evtx], 1, "error["),
    "compile": lambda f: (["compile", f.evtx, "-o", f.out], 2, "log.evtx:"),
    "decompile": lambda f: (["decompile", f.cfg], 2, "this is an XML config"),
    "dump": lambda f: (["dump", f.evtx], 2, "this is an EVTX event log"),
    "evaluate": lambda f: (["evaluate", f.cfg, f.cfg], 2, "sysmonconfig.xml: error[unknown-format]: cannot tell"),
    "test": lambda f: (["test", f.cfg], 1, "ERROR"),  # a broken test file is a failed test (docs/testing.md)
    "merge": lambda f: (["merge", f.evtx, "-o", f.out], 2, "log.evtx:"),
    "diff": lambda f: (["diff", f.cfg, f.evtx], 2, "log.evtx:"),
    "coverage": lambda f: (["coverage", f.cfg, "--sigma", f.cfg], 2, "no Sigma rule could be read"),
    "report": lambda f: (["report", f.evtx, "-o", f.out], 2, "log.evtx:"),
    "tune": lambda f: (["tune", f.cfg, "--events", f.cfg], 2, "sysmonconfig.xml: error[unknown-format]: cannot tell"),
}
READS_EVENTS: dict[str, Callable[[Files, str], list[str]]] = {
    "evaluate": lambda f, logs: ["evaluate", f.cfg, logs, "--format", "json"],
    "report": lambda f, logs: ["report", f.cfg, "--events", logs, "-o", f.out],
    "diff": lambda f, logs: ["diff", f.cfg, f.other, "--events", logs],
    "tune": lambda f, logs: ["tune", f.cfg, "--events", logs],
}
# Where Ctrl-C lands in each command: a function it calls while working.
INTERRUPT_AT = {
    "validate": "sysmon_rules.cli.validate.iter_errors",
    "lint": "sysmon_rules.cli.lint.lint_document",
    "compile": "sysmon_rules.cli.compile.compile_config",
    "decompile": "sysmon_rules.cli.decompile.to_xml",
    "dump": "sysmon_rules.cli.dump.dump_text",
    "schema": "sysmon_rules.cli.schema.render",
    "test": "sysmon_rules.cli.test.run_test_file",
    "merge": "sysmon_rules.cli.merge.merge",
    "diff": "sysmon_rules.cli.diff.diff",
    "coverage": "sysmon_rules.readiness.coverage",
    "report": "sysmon_rules.htmlreport.html_report",
    "tune": "sysmon_rules.tuning.tune",
}


def invoke(argv: list[str], capsys: pytest.CaptureFixture[bytes]) -> tuple[int, bytes, str]:
    with pytest.raises(SystemExit) as done:
        run(argv)
    captured = capsys.readouterr()
    code = done.value.code
    return code if isinstance(code, int) else (0 if code is None else 1), captured.out, captured.err.decode()


def one_line(err: str, *parts: str) -> None:
    """One error line (beside warnings and progress such as "c.xml: valid"), saying ``parts``."""
    lines = [line for line in err.splitlines() if ": error[" in line]
    assert len(lines) == 1, err
    assert all(part in lines[0] for part in parts), err
    assert "Traceback" not in err and "error[internal]" not in err


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "schema"])
@pytest.mark.parametrize("case", ["empty folder", "folder without the kind", "missing path"])
def test_nothing_to_read_is_one_line_and_exit_2(command: str, case: str, files: Files,
                                                capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    path = {"empty folder": files.empty, "folder without the kind": files.text_only,
            "missing path": files.missing}[case]
    argv = with_input(command, files, path)
    assert argv is not None
    code, _, err = invoke(argv, capsysbinary)
    assert code == 2, err
    one_line(err, f"{path}: error[no-input]: ")


@pytest.mark.parametrize("command", sorted(WRONG_KIND))
def test_a_file_of_the_wrong_kind_is_one_line(command: str, files: Files,
                                              capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    argv, expected, part = WRONG_KIND[command](files)
    code, out, err = invoke(argv, capsysbinary)
    assert code == expected, err
    said = err if command not in ("validate", "lint", "test") else out.decode("utf-8", "replace") + err
    assert part in said and "Traceback" not in said and "internal" not in said, said


@pytest.mark.parametrize("command", sorted(READS_EVENTS))
def test_a_truncated_evtx_is_counted_and_an_error_under_strict(command: str, files: Files,
                                                               capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, _, err = invoke(READS_EVENTS[command](files, files.logs), capsysbinary)
    assert code in ANSWERS.get(command, (0,)) and "damaged record" in err, err
    code, _, err = invoke([*READS_EVENTS[command](files, files.cut), "--strict"], capsysbinary)
    assert code == 2, err
    one_line(err, f"{files.cut}: error[damaged-record]: ", "damaged record")
    # the cut log alone: every record damaged, nothing was checked, so no answer
    code, _, err = invoke(READS_EVENTS[command](files, files.cut), capsysbinary)
    assert code == 2, err
    one_line(err, f"{files.cut}: error[no-input]: ", "no Sysmon event read (3 damaged record(s) skipped)")


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unwritable_output_is_one_line_and_exit_2(command: str, files: Files,
                                                     capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, _, err = invoke(base(command, files, out=files.unwritable), capsysbinary)
    assert code == 2, err
    one_line(err, f"{files.unwritable}: error[file-access]: cannot write the file")
    assert not Path(files.unwritable).parent.exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_dash_o_dash_is_standard_output(command: str, files: Files, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, err = invoke(base(command, files, out="-"), capsysbinary)
    assert code in ANSWERS.get(command, (0,)), err
    assert out, f"{command} -o - wrote nothing to standard output"
    assert not Path("-").exists()


@pytest.mark.parametrize("fmt", ["summary", "json", "jsonl"])
def test_evaluate_writes_every_format_to_o(fmt: str, files: Files, tmp_path: Path,
                                           capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    target = tmp_path / f"out.{fmt}"
    code, out, err = invoke(["evaluate", files.cfg, files.events, "--format", fmt, "-o", str(target)], capsysbinary)
    assert code == 0 and out == b"", err
    _, to_stdout, _ = invoke(["evaluate", files.cfg, files.events, "--format", fmt], capsysbinary)
    assert target.read_bytes() == to_stdout.replace(b"\r\n", b"\n")  # the same bytes, to the file


def interrupt_in(command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while ``command`` works: KeyboardInterrupt from a function it calls; for evaluate, the
    replay's own Interrupted carrying what was decided (as its SIGINT handling hands it back)."""
    if command == "evaluate":
        import sysmon_rules.cli.evaluate as module
        from sysmon_rules.replaying import Interrupted

        real = module.replay

        def stopped(*args: object, **kwargs: object) -> object:
            raise Interrupted(real(*args, **kwargs))  # type: ignore[arg-type]

        monkeypatch.setattr(module, "replay", stopped)
        return

    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(INTERRUPT_AT[command], interrupt)


@pytest.mark.parametrize("command", COMMANDS)
def test_ctrl_c_is_one_line_and_exit_130(command: str, files: Files, monkeypatch: pytest.MonkeyPatch,
                                         capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    interrupt_in(command, monkeypatch)
    code, _, err = invoke(base(command, files), capsysbinary)
    assert code == 130, err
    one_line(err, f"sysmon-rules {command}: error[interrupted]: interrupted (Ctrl-C)")
    if command in ("coverage", "diff", "report", "evaluate"):  # what was done, not only that it stopped
        assert any(word in err for word in ("while", "after")), err


def _table(files: Files) -> Iterator[str]:  # pragma: no cover - run by hand for the issue's closing note
    """The matrix as Markdown: exit code and the first error line per cell."""
    import contextlib
    import io

    def cell(argv: list[str] | None, command: str = "", ctrl_c: bool = False) -> str:
        if argv is None:
            return "n/a"
        err, out = io.StringIO(), io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
        with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            if ctrl_c:
                interrupt_in(command, patch)
            try:
                run(argv)
                code: object = 0
            except SystemExit as exc:
                code = exc.code
        out.flush()
        printed = out.buffer.getvalue()  # type: ignore[attr-defined]
        lines = err.getvalue().splitlines() + printed.decode("utf-8", "replace").splitlines()  # validate: stdout
        first = next((line for line in lines if ": error[" in line or line.startswith("ERROR")), "")
        if argv[-2:] == ["-o", "-"]:
            first = f"{len(printed):,} bytes on stdout"
        return f"{code or 0}: `{first.replace(str(files.root) + '/', '')[:100]}`"

    yield ("| command | empty folder | missing path | wrong kind | truncated EVTX --strict | unwritable -o | -o - "
           "| Ctrl-C |")
    yield "| --- | --- | --- | --- | --- | --- | --- | --- |"
    for command in COMMANDS:
        wrong = WRONG_KIND.get(command)
        cut = READS_EVENTS.get(command)
        yield "| " + " | ".join([command, cell(with_input(command, files, files.empty)),
                                 cell(with_input(command, files, files.missing)),
                                 cell(wrong(files)[0] if wrong else None),
                                 cell([*cut(files, files.cut), "--strict"] if cut else None),
                                 cell(base(command, files, out=files.unwritable)),
                                 cell(base(command, files, out="-")),
                                 cell(base(command, files), command, ctrl_c=True)]) + " |"


if __name__ == "__main__":  # pragma: no cover
    import tempfile

    shared = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT.parent / "shared")
    print("\n".join(_table(make_files(Path(tempfile.mkdtemp(prefix="inputs")), shared))))


@pytest.mark.parametrize(("argv", "where"), [
    (["validate"], "sysmon-rules validate: error[usage]: Missing argument 'FILES...'."),
    (["nope"], "sysmon-rules: error[usage]: No such command 'nope'."),
    (["evaluate", str(ROOT / "examples" / "sysmonconfig.xml"), "-", "--format", "xml"],
     "sysmon-rules evaluate: error[usage]: Invalid value for '--format'"),
    (["report", str(ROOT / "examples" / "sysmonconfig.xml")], "sysmon-rules report: error[usage]: Missing option"),
])
def test_a_usage_mistake_is_one_line_and_exit_2(argv: list[str], where: str,
                                                capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, _, err = invoke(argv, capsysbinary)
    assert code == 2 and err.count("\n") == 1 and err.startswith(where), err
    assert err.rstrip().endswith("--help)")  # where to look next


def test_a_bug_is_one_line_and_exit_70(monkeypatch: pytest.MonkeyPatch,
                                       capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("an invariant broke")

    monkeypatch.setattr("sysmon_rules.cli.schema.render", broken)
    code, _, err = invoke(["schema"], capsysbinary)
    assert code == 70 and err == ("sysmon-rules schema: error[internal]: RuntimeError: an invariant broke "
                                  "(a bug; please report it)\n")


def test_a_missing_optional_part_names_its_extra(monkeypatch: pytest.MonkeyPatch,
                                                 capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    """In this environment every extra is installed: an import that fails as it would without one."""
    import builtins

    real = builtins.__import__

    def without_altair(name: str, *args: object, **kwargs: object) -> object:
        if name.partition(".")[0] == "altair":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real(name, *args, **kwargs)  # type: ignore[arg-type]

    for loaded in [m for m in sys.modules if m.startswith(("altair", "sysmon_rules.htmlreport"))]:
        monkeypatch.delitem(sys.modules, loaded)
    monkeypatch.setattr(builtins, "__import__", without_altair)
    code, _, err = invoke(["report", str(ROOT / "examples" / "sysmonconfig.xml"), "-o", "-"], capsysbinary)
    assert code == 2 and err == ("sysmon-rules report: error[missing-extra]: this needs the optional package "
                                 "'altair': pip install 'sysmon-rules[report]' (or 'sysmon-rules[all]')\n")
