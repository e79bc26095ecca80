"""The `sysmon-rules` command: a click group; each subcommand lives in its own module.

Command modules are imported only when their command runs: `sysmon-rules --help` reads each
command's name and help from its module's source (no import of the engine, lxml, lark, rich),
so the shell gets an answer in well under 0.15 s.
"""

from __future__ import annotations

import ast
import contextlib
import errno
import functools
import importlib
import importlib.util
import io
import os
import sys

import click

from ..errors import SysmonRulesError

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

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_names())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = _names().get(cmd_name)
        return _load(module) if module is not None else None

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
    """The output did not fit: one line, exit 1, and stdout pointed at /dev/null so that the
    interpreter's own flush at exit does not complain a second time."""
    click.echo(f"error: cannot write output: {exc.strerror or exc}", err=True)
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(1)


def run(argv: list[str] | None = None) -> None:
    """Console entry point: bad input is one line on stderr and exit 1 (2 for usage), Ctrl-C
    exit 130, never a traceback."""
    _tolerant_output()
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
    except click.exceptions.Abort:  # click's name for Ctrl-C
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except SysmonRulesError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except (BrokenPipeError, KeyboardInterrupt):
        sys.exit(130)
    except OSError as exc:
        if exc.errno not in _OUTPUT_ERRNOS:
            _internal(exc)
        _output_failed(exc)
    except Exception as exc:  # a bug: say so in one line, with where to look
        _internal(exc)
    sys.exit(code)  # type: ignore[arg-type]


def _internal(exc: Exception) -> None:
    click.echo(f"internal error: {type(exc).__name__}: {exc} (please report this)", err=True)
    sys.exit(70)
