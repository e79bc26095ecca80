"""The `sysmon-rules` command: a click group; each subcommand lives in its own module.

Command modules are imported only when their command runs: `sysmon-rules --help` reads each
command's name and help from its module's source (no import of the engine, lxml, lark, rich),
so the shell gets an answer in well under 0.15 s.
"""

from __future__ import annotations

import ast
import atexit
import contextlib
import errno
import functools
import importlib
import importlib.util
import io
import os
import sys
import threading

import click

from ..errors import Diagnostic, Location, SysmonRulesError
from ..exitcodes import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_TROUBLE, Interrupted

# Errors of a write that did not fit (a full disk, /dev/full): bad output, not a bug.
_OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})

# One line per subcommand module; each module defines `command` (a click.Command).
_COMMAND_MODULES = (
    "validate",
    "schema",
    "compile",
    "decompile",
    "dump",
    "evaluate",
    "test",
    "lint",
    "report",
    "coverage",
    "diff",
    "merge",
    "tune",
)




def _declared(module: str) -> tuple[str, str] | None:
    """``(command name, help)`` from the source of a command module, without importing it.

    Reads ``@click.command("name")`` on ``def command`` and that function's docstring; None when
    the source is not there (then the module is imported instead).
    """
    spec = importlib.util.find_spec(f"{__name__}.{module}")
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return None
    with open(spec.origin, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), spec.origin)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "command":
            for deco in node.decorator_list:
                if (isinstance(deco, ast.Call) and isinstance(deco.func, ast.Attribute)
                        and deco.func.attr in ("command", "group") and deco.args
                        and isinstance(deco.args[0], ast.Constant) and isinstance(deco.args[0].value, str)):
                    return deco.args[0].value, ast.get_docstring(node) or ""
    return None


@functools.cache
def _names() -> dict[str, str]:
    """Command name -> module, for every module in ``_COMMAND_MODULES``."""
    names: dict[str, str] = {}
    for module in _COMMAND_MODULES:
        declared = _declared(module)
        names[declared[0] if declared else _load(module).name or module] = module
    return names


@functools.cache
def _load(module: str) -> click.Command:
    command: click.Command = importlib.import_module(f"{__name__}.{module}").command
    return command


class _LazyGroup(click.Group):
    """A group whose commands are imported on first use (see the module docstring)."""

    running = "sysmon-rules"  # the command being run: where an error without a file of its own is placed

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:  # before click's own handler, which prints a bare blank line
            raise Interrupted("interrupted (Ctrl-C); nothing written") from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_names())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = _names().get(cmd_name)
        if module is None:
            return None
        _LazyGroup.running = f"sysmon-rules {cmd_name}"
        return _load(module)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names), default=0)
        rows = []
        for name in names:
            declared = _declared(_names()[name])
            # The same shortening click applies, on a stand-in built from the declared help.
            command = click.Command(name, help=declared[1]) if declared else _load(_names()[name])
            rows.append((name, command.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sysmon-rules")
def main() -> None:
    """Compile, decompile, validate, evaluate and lint Sysmon configurations offline."""
    _tolerant_output()  # also when the commands run in process (tests, the fuzzer, an embedding tool)


def _tolerant_output() -> None:
    """Text that cannot be encoded (a lone surrogate from a blob or a file name) is escaped, not fatal."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


def _output_failed(exc: OSError) -> None:
    """The output did not fit: one line, exit 2, and stdout pointed at /dev/null so that the
    interpreter's own flush at exit does not complain a second time."""
    _error("<stdout>", "file-access", f"cannot write the file: {exc.strerror or exc}")  # as fileio says it
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(EXIT_TROUBLE)


def _error(where: str | None, code: str, message: str) -> None:
    """The one error line, ``where: error[code]: message``, placed at the command when ``where`` is None."""
    _echo_error(Diagnostic(code, "error", message, Location(where)))


def _echo_error(diagnostic: Diagnostic) -> None:
    from .messages import render  # on failure only: `--help` imports no command module

    click.echo(render(diagnostic, _LazyGroup.running), err=True)


def run(argv: list[str] | None = None) -> None:
    """Console entry point: every failure is one line on stderr, never a traceback. Exit codes
    (docs/cli.md): 0 ok, 1 findings, 2 usage or unusable input/output, 3 undecided, 70 a bug,
    130 interrupted."""
    _tolerant_output()
    _LazyGroup.running = "sysmon-rules"
    # Arrow's default pool (mimalloc) keeps the pages freed by each reading thread: 60-100 MB more
    # peak RSS on a replay of 50k JSON lines, and more system time. Read when the pool is first
    # used, so set before pyarrow loads; a user's own choice stands.
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    try:
        try:
            code: object = main.main(args=argv, prog_name="sysmon-rules", standalone_mode=False)
        except SystemExit as exc:
            code = exc.code
        sys.stdout.flush()  # a full stdout fails here, inside the handlers below
    except Interrupted as exc:
        _error(None, "interrupted", exc.done)
        sys.exit(EXIT_INTERRUPTED)
    except click.exceptions.Abort:  # click's name for Ctrl-C outside a command
        _error(None, "interrupted", "interrupted (Ctrl-C)")
        sys.exit(EXIT_INTERRUPTED)
    except click.UsageError as exc:
        ctx = exc.ctx
        if type(exc).__name__ == "NoArgsIsHelpError":  # `sysmon-rules` alone: the help, as click shows it
            exc.show()
            sys.exit(EXIT_TROUBLE)
        helping = f"{ctx.command_path} --help" if ctx is not None else "sysmon-rules --help"
        _error(ctx.command_path if ctx is not None else None, "usage", f"{exc.format_message()} (see {helping})")
        sys.exit(EXIT_TROUBLE)
    except click.ClickException as exc:
        _error(None, "usage", exc.format_message())
        sys.exit(EXIT_TROUBLE)
    except SysmonRulesError as exc:
        for diagnostic in exc.as_diagnostics():
            _echo_error(diagnostic)
        sys.exit(EXIT_TROUBLE)
    except BrokenPipeError:  # the reader went away (`| head`): nothing to say to it
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EXIT_INTERRUPTED)
    except KeyboardInterrupt:
        _error(None, "interrupted", "interrupted (Ctrl-C)")
        sys.exit(EXIT_INTERRUPTED)
    except ModuleNotFoundError as exc:
        _missing_extra(exc)
    except OSError as exc:
        if exc.errno not in _OUTPUT_ERRNOS:
            _internal(exc)
        _output_failed(exc)
    except Exception as exc:  # a bug: say so in one line, with where to look
        _internal(exc)
    sys.exit(code)  # type: ignore[arg-type]


def console() -> None:
    """The console script: :func:`run`, then the process ends without the interpreter's teardown.

    Tearing down frees every object one by one and runs a last full garbage collection: about
    40 ms after a replay of 50k JSON lines, a sixteenth of it, with nothing left to do by then.
    So once stdout and stderr are flushed and the exit handlers have run (temporary folders,
    worker processes, logging), the process exits at once with run's code. Anything unusual
    takes the interpreter's own way out: a code that is not a number, a thread still running,
    a flush that fails.
    """
    try:
        run()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if exit_handlers is None or not (code is None or isinstance(code, int)) or threading.active_count() > 1:
        sys.exit(code)  # type: ignore[arg-type]
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)
    exit_handlers()
    os._exit(code or 0)


def _missing_extra(exc: ModuleNotFoundError) -> None:
    """An optional part that is not installed: which extra brings it, in one line (exit 2)."""
    from .extras import extra_for

    extra = extra_for(exc.name or "")
    if extra is None:
        _internal(exc)
        return
    _error(None, "missing-extra", f"this needs the optional package {exc.name!r}: "
                                  f"pip install 'sysmon-rules[{extra}]' (or 'sysmon-rules[all]')")
    sys.exit(EXIT_TROUBLE)


def _internal(exc: Exception) -> None:
    _error(None, "internal", f"{type(exc).__name__}: {exc} (a bug; please report it)")
    sys.exit(EXIT_INTERNAL)
