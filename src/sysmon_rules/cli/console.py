"""The rich console on standard error: warnings, and a live count of events while a command reads."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rich is imported only when something is printed with it
    from rich.console import Console


class Stderr:
    """The rich console on stderr for warnings and the progress display, made on first use."""

    def __init__(self) -> None:
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=True)
        return self._console

    def warn(self, message: str) -> None:
        self.console.print(f"warning: {message}", markup=False, highlight=False, soft_wrap=True)


@contextmanager
def progress(enabled: bool, err: Stderr) -> Iterator[Callable[[int], None] | None]:
    """A live count of events read, on a terminal only (stderr), gone when done."""
    if not enabled:
        yield None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.completed:,} events"), TimeElapsedColumn(),
                  console=err.console, transient=True) as progress:
        task = progress.add_task("reading", total=None)
        yield lambda count: progress.advance(task, count)
