"""Progress on the terminal while a long verb runs (on stderr, gone when it ends).

`counting` shows done of total for the simulator and validation; `levels` shows, for each
load level of a measurement, the requests finished, those in flight and the time elapsed, so
a server that has gone quiet is visible as a clock that keeps running with nothing finishing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text


@contextmanager
def counting(what: str, quiet: bool = False) -> Iterator[Callable[[int, int], None] | None]:
    """A `progress(done, total)` callback drawing a bar, or None when quiet or not a terminal."""
    console = Console(stderr=True)
    if quiet or not console.is_terminal:
        yield None
        return
    columns = (TextColumn(what), BarColumn(), TextColumn("{task.completed:,}/{task.total:,}"))
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as bar:
        task: list[TaskID] = []

        def update(done: int, total: int) -> None:
            if not task:
                task.append(bar.add_task(what, total=total))
            bar.update(task[0], completed=done, total=total)

        yield update


class InFlight(ProgressColumn):
    """Requests sent and not yet answered, read live from the level's run statistics."""

    def __init__(self) -> None:
        super().__init__()
        self.stats: dict[TaskID, Any] = {}

    def render(self, task: Task) -> Text:
        stats = self.stats.get(task.id)
        waiting = max(stats.sent - stats.finished, 0) if stats is not None else 0
        return Text(f"{task.completed:,.0f} done, {waiting:,} in flight")


@contextmanager
def levels(requests: int, quiet: bool = False) -> Iterator[Callable[[Any, Any], None] | None]:
    """A `progress(level, stats)` callback for `measure`: one line per load level."""
    console = Console(stderr=True)
    if quiet or not console.is_terminal:
        yield None
        return
    live = InFlight()
    columns = (TextColumn("{task.description}"), BarColumn(), live, TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def update(level: Any, stats: Any) -> None:
            if level.name not in tasks:
                tasks[level.name] = bar.add_task(level.name, total=requests)
                live.stats[tasks[level.name]] = stats
            bar.update(tasks[level.name], completed=stats.finished)

        yield update
