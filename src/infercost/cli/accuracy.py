"""`validate`: the performance model against measured benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from infercost.cli.app import (
    JsonOpt,
    app,
    emit_json,
    user_errors,
)
from infercost.cli.reports import HtmlOpt, html_target, write_html


@app.command()
@user_errors
def validate(
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="Measured points: structured CSV/JSONL/Parquet or the free-text CSV "
            "(default: the built-in data set).",
        ),
    ] = None,
    no_calibration: Annotated[
        bool, typer.Option("--no-calibration", help="Raw roofline with default efficiencies.")
    ] = False,
    as_json: JsonOpt = False,
    html: HtmlOpt = None,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write predicted vs measured (.html or image).")
    ] = None,
    rows: Annotated[
        bool, typer.Option("--rows", help="Show every row, not only summaries.")
    ] = False,
    write_calibration: Annotated[
        Path | None,
        typer.Option("--write-calibration", help="Fit factors on every row and save them here."),
    ] = None,
) -> None:
    """Check the performance model against measured benchmarks and report its error.

    Each row is predicted with efficiency factors fitted without its own source (leave one
    source out), so the error is out of sample; --no-calibration shows the raw roofline.
    """
    from infercost.api import validate as verb
    from infercost.cli.progress import counting

    report = html_target(html)
    with counting("fitting without each source", quiet=as_json) as progress:
        result = verb(
            data=None if data is None else str(data),
            calibrated=not no_calibration,
            plot=None if plot is None else str(plot),
            write_calibration=None if write_calibration is None else str(write_calibration),
            progress=progress,
        )
    write_html("validate", result.to_dict(), report, quiet=as_json)
    if as_json:
        emit_json(result.to_dict())
        return
    from infercost.cli.render import print_validation

    console = Console()
    print_validation(console, result.to_dict(), show_rows=rows)
    if plot:
        console.print(f"plot written to {plot}", highlight=False)
    if write_calibration:
        console.print(f"calibration written to {write_calibration}", highlight=False)


# --- simulate ------------------------------------------------------------------------------
