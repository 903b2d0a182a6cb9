"""A progress bar for long work (rebuilds, checks, replays): it hears (done, total)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A bar on stderr for the block; gone when it ends, leaving the summary line alone.
    Drawn on a terminal only: into a file or a pipe it would leave its frames (and a blank
    line) among the lines a script reads."""
    console = Console(stderr=True)
    with Progress(
        TextColumn(f"{label:<20}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task(label, total=None)

        def advanced(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advanced
