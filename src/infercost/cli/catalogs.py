"""`catalog`: the tables, and importing a model."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from infercost.cli.app import (
    JsonOpt,
    catalog_app,
    emit_json,
    user_errors,
)

CATALOGS = ("gpus", "servers", "models", "prices", "api-prices", "engines")


@catalog_app.command("show")
@user_errors
def catalog_show(
    table: Annotated[
        str, typer.Argument(help="gpus, servers, models, prices, api-prices or engines.")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Print a catalog table."""
    from infercost.api import catalog_rows

    rows = catalog_rows(table=table)
    if as_json:
        emit_json(rows)
        return
    from infercost.cli.render import print_catalog

    print_catalog(Console(), table, rows)


def _show(table: str) -> Callable[..., None]:
    def command(as_json: JsonOpt = False) -> None:
        catalog_show(table, as_json)

    command.__doc__ = f"Print the {table} catalog."
    return command


for _name in CATALOGS:
    catalog_app.command(_name)(_show(_name))


@catalog_app.command("import-model")
@user_errors
def import_model(
    file: Annotated[Path, typer.Argument(help="A Hugging Face config.json.")],
    id: Annotated[str | None, typer.Option("--id", help="Id for the new entry.")] = None,
    into: Annotated[
        Path | None,
        typer.Option(help="Add it to this catalog folder's models.yaml (use with --catalog)."),
    ] = None,
    replace: Annotated[bool, typer.Option(help="Overwrite a row with the same id.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Turn a Hugging Face config.json into a catalog row (printed as YAML, or added --into)."""
    import yaml

    from infercost.api import import_model as verb

    result = verb(file=str(file), id=id, into=None if into is None else str(into), replace=replace)
    if as_json:
        emit_json(result.to_dict())
        return
    if result.written is None:
        sys.stdout.write(yaml.safe_dump({"rows": [result.row]}, sort_keys=False))
    sys.stderr.write(
        f"# {result.row['id']}: {result.total_params / 1e9:.2f} B parameters, "
        f"{result.active_params / 1e9:.2f} B active, {result.attention} attention"
        + (f"; added to {result.written}" if result.written else "")
        + "\n"
    )
