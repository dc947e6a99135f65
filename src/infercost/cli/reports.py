"""HTML reports from the command line: `--html FILE` on the verbs, and `infercost report`
for saved runs. The file is checked before the run starts and written after it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from infercost.cli.app import app, user_errors

HtmlOpt = Annotated[
    Path | None,
    typer.Option(
        "--html",
        help="Also write a self-contained HTML report (charts included, opens offline).",
    ),
]
SUFFIXES = (".html", ".htm")


def html_target(path: Path | None) -> Path | None:
    """The report's file, checked before any work starts."""
    from infercost.api.options import output_file

    return output_file(None if path is None else str(path), "html", SUFFIXES)


def write_html(
    kind: str,
    doc: dict[str, Any],
    path: Path | None,
    request: dict[str, Any] | None = None,
    quiet: bool = False,
) -> None:
    """Write the report of `doc` to `path` (nothing when no path was given)."""
    if path is None:
        return
    import sys

    from infercost.report import write

    write(kind, doc, path, request=request)
    if not quiet:
        sys.stderr.write(f"report written to {path}\n")


@app.command()
@user_errors
def report(
    results: Annotated[
        list[Path],
        typer.Argument(
            help="A saved result: the --json output of reproduce, estimate, plan, simulate or "
            "validate, or a `measure --out` folder. Further simulate or measure results are "
            "overlaid on the first's latency charts."
        ),
    ],
    html: Annotated[
        Path | None,
        typer.Option("--html", help="The report's file (default: the first result's, .html)."),
    ] = None,
) -> None:
    """Write the HTML report of a saved run (no rerun: the saved figures, drawn)."""
    from infercost.report import write_saved

    first = results[0]
    default = first / "report.html" if first.is_dir() else first.with_suffix(".html")
    target = html_target(html or default) or default
    write_saved(results, target)
    typer.echo(f"report written to {target}")
