"""The `infercost` application: the command group, its global options, and what every
subcommand shares (one-line errors naming the option, strict JSON output)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar, get_type_hints

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup

HELP = """What it costs to serve a large language model, and the proof.

\b
  estimate   a replica on one or more accelerators; with traffic, the fleet
  plan       the cheapest fleet that meets latency targets, proved by simulation
  reproduce  a published estimate recomputed from its assumptions
  simulate   a fleet request by request: latency percentiles, goodput
  sweep      one verb over a grid of inputs, a Parquet row per cell
  measure    load-test a live OpenAI-compatible server, cost per token
  calibrate  fit the efficiency factors to a measurement
  validate   the performance model against measured benchmarks
  catalog    accelerators, servers, models, prices, engines; import
  scenarios  the built-in scenarios
  serve      the web calculator and REST API on http://127.0.0.1:8000
"""


class OneLineErrors(TyperGroup):
    """The command group, with a usage error (an unknown option, a value of the wrong type)
    printed as one line naming the option, exit 2, like every other bad input."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except typer.Abort:
            sys.stderr.write("interrupted\n")
            sys.exit(130)
        except typer.TyperException as exc:  # click's usage errors
            if type(exc).__name__ == "NoArgsIsHelpError":  # `infercost` or a group alone
                sys.stdout.write(exc.format_message() + "\n")
                sys.exit(0)
            sys.exit(_usage_error(exc))
        sys.exit(code if isinstance(code, int) else 0)


def _usage_error(exc: Any) -> int:
    opts = getattr(getattr(exc, "param", None), "opts", None)
    where = f"{max(opts, key=len)}: " if opts else ""
    text = " ".join(str(exc.format_message()).split())
    line = Text.assemble(("error:", "red"), f" {where}{text}")
    Console(stderr=True, emoji=False).print(line, highlight=False, soft_wrap=True)
    return int(getattr(exc, "exit_code", 2) or 2)


app = typer.Typer(add_completion=False, no_args_is_help=True, help=HELP, cls=OneLineErrors)
catalog_app = typer.Typer(no_args_is_help=True, help="Look at the catalogs, or import a model.")
app.add_typer(catalog_app, name="catalog")

F = TypeVar("F", bound=Callable[..., Any])


def options_of(func: Callable[..., Any]) -> dict[str, str]:
    """How a command spells each of its parameters: `--input-tokens`, `SCENARIO`."""
    from typer.models import ArgumentInfo, OptionInfo

    out: dict[str, str] = {}
    for name, hint in get_type_hints(func, include_extras=True).items():
        for meta in getattr(hint, "__metadata__", ()):
            field = name.rstrip("_")
            if isinstance(meta, ArgumentInfo):
                out[field] = field.upper()
            elif isinstance(meta, OptionInfo):
                decls = [meta.default, *(meta.param_decls or ())]
                long = [d for d in decls if isinstance(d, str) and d.startswith("--")]
                out[field] = long[0].split("/")[0] if long else "--" + field.replace("_", "-")
    return out


def user_errors(func: F) -> F:
    """Turn an `InputError` into one line on stderr, naming the option, and exit 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from infercost.errors import InputError

        try:
            return func(*args, **kwargs)
        except InputError as exc:
            fail(f"{options_of(func).get(exc.field, exc.field)}: {exc.message}")

    return wrapper  # type: ignore[return-value]


def fail(message: str, code: int = 2) -> None:
    """One line on stderr, the message printed as it is (no markup, no emoji codes)."""
    line = Text.assemble(("error:", "red"), " ", message)
    Console(stderr=True, emoji=False).print(line, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def emit_json(doc: Any) -> None:
    from infercost.files import strict_json

    sys.stdout.write(strict_json(doc) + "\n")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        sys.stdout.write(f"infercost {version('infercost')}\n")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
    catalog: Annotated[
        Path | None,
        typer.Option(
            "--catalog",
            envvar="INFERCOST_CATALOG",
            help="A folder of your own catalog YAML files (gpus.yaml, models.yaml, ...).",
        ),
    ] = None,
) -> None:
    """What it costs to serve a large language model, and the proof."""
    from infercost.catalog.lookup import use_catalog
    from infercost.errors import InputError

    try:
        use_catalog(catalog)  # every run starts from its own choice (None: the built-ins)
    except InputError as exc:
        fail(f"--catalog: {exc.message}")


CalibrationOpt = Annotated[
    Path | None,
    typer.Option("--calibration", help="Efficiency factors file (default: the built-in fit)."),
]
NoCalibrationOpt = Annotated[
    bool, typer.Option("--no-calibration", help="Use the raw perf default efficiencies.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
# Request lengths and traffic as `simulate` and `plan` both take them.
InputLengthOpt = Annotated[
    str | None,
    typer.Option(help="Prompt length: N, uniform:MIN:MAX, lognormal:MEAN:SIGMA, file:PATH."),
]
OutputLengthOpt = Annotated[str | None, typer.Option(help="Output length, same forms.")]
TraceOpt = Annotated[
    Path | None, typer.Option(help="Replay a CSV/JSONL trace: its schedule and lengths.")
]
CachedFractionOpt = Annotated[float | None, typer.Option(help="Prefix-cache hit ratio.")]


def _calibration(path: Path | None, off: bool) -> str | None:
    """The request's calibration: "builtin", a file, or None (off)."""
    from infercost.errors import InputError

    if off and path is not None:
        raise InputError("calibration", "cannot be combined with --no-calibration")
    if off:
        return None
    return str(path) if path is not None else "builtin"


def _words(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _accelerators(text: str | None) -> list[str]:
    """`h100,h200:memory=192GB,bf16=1000` → ["h100", "h200:memory=192GB,bf16=1000"]: a
    `NAME=VALUE` with no colon of its own belongs to the what-if before it."""
    out: list[str] = []
    for part in _words(text):
        if out and "=" in part and ":" not in part and ":" in out[-1]:
            out[-1] += f",{part}"
        else:
            out.append(part)
    return out


# --- reproduce -----------------------------------------------------------------------------
