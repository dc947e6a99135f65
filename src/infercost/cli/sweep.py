"""`infercost sweep SPEC.yaml --out results.parquet`: one verb over a grid, a Parquet row per
cell, in a process pool (`--workers`) or on Ray (`--ray`), resumable (rerun the same command).

The spec file is validated by `SweepSpec` (unknown keys are errors); the progress bar shows
cells done of the total and cells per second on stderr, and disappears at the end, where one
summary line (or, with `--json`, one JSON object) says what was done. Ctrl-C keeps every
finished chunk in the cache; the same command resumes from there.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from infercost.cli.app import JsonOpt, app, emit_json, fail, user_errors


@app.command()
@user_errors
def sweep(
    spec: Annotated[Path, typer.Argument(help="The sweep file (YAML): verb, grid, samples, seed.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The Parquet file to write.")],
    ray: Annotated[
        str | None,
        typer.Option(help="Run on Ray: local, auto, or a cluster's ADDRESS (pip install ray)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Processes (or a local Ray's CPUs); default: this machine's CPUs."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Evaluate, plan or simulate every cell of a grid; one Parquet row per cell."""
    from infercost.api import SweepSpec, parse
    from infercost.api import sweep as verb
    from infercost.files import read_yaml

    doc = read_yaml(spec, "spec")
    if not isinstance(doc, dict):
        fail(f"spec: {spec} must be a mapping with verb and grid")
    parse(SweepSpec, doc)  # the file's own keys only: out, workers and ray are options
    request: dict[str, Any] = {**doc, "out": str(out), "workers": workers, "ray": ray}
    try:
        with cells_progress(quiet=as_json) as progress:
            result = verb(request, progress=progress)
    except KeyboardInterrupt:
        cache = out.with_name(out.name + ".cache")
        sys.stderr.write(f"interrupted: finished cells kept in {cache}; rerun to resume\n")
        raise typer.Exit(130) from None
    summary = result.to_dict()
    if as_json:
        emit_json(summary)
        return
    rate = summary["cells_per_s"]
    Console(highlight=False).print(
        f"{result.cells:,} cells, {result.failed:,} failed, {result.cached:,} cached, "
        f"{result.seconds:.1f} s, {'-' if rate is None else f'{rate:,.0f}'} cells/s "
        f"({result.backend}) → {result.out}"
    )


@contextmanager
def cells_progress(quiet: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A `progress(done, total)` bar with cells per second, or None when quiet or piped."""
    console = Console(stderr=True)
    if quiet or not console.is_terminal:
        yield None
        return
    columns = (
        TextColumn("sweep"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} cells"),
        TextColumn("{task.fields[rate]} cells/s"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task: list[TaskID] = []

        def update(done: int, total: int) -> None:
            if not task:
                task.append(bar.add_task("sweep", total=total, rate="-", start_done=done))
            first = bar.tasks[0].fields["start_done"]
            elapsed = bar.tasks[0].elapsed or 0.0
            rate = f"{(done - first) / elapsed:,.0f}" if elapsed > 0 else "-"
            bar.update(task[0], completed=done, total=total, rate=rate)

        yield update
