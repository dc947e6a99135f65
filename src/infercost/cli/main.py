"""The `infercost` command: each subcommand turns its options into a request, calls the verb
of the same name (`infercost.api`) and renders the result.

Heavy modules are imported inside each command so that `infercost --help` and every answer
stay fast. Bad input of any kind ends in one line on stderr naming the option, and exit
status 2; `measure` exits 1 when the server failed too many requests.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar, get_type_hints

import typer
from rich.console import Console
from typer.core import TyperGroup

HELP = """What it costs to serve a large language model, and the proof.

\b
  estimate   one replica (or several accelerators side by side), and the fleet for a traffic
  reproduce  a published estimate recomputed from its assumptions
  simulate   a fleet request by request: latency percentiles, goodput, queues
  measure    load-test a live OpenAI-compatible server; cost per token as measured
  calibrate  fit the efficiency factors to a measurement
  validate   the performance model against measured public benchmarks
  catalog    accelerators, servers, models, prices and engines; import a model
  scenarios  the built-in scenarios
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
    Console(stderr=True).print(f"[red]error:[/red] {where}{text}", highlight=False, soft_wrap=True)
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
    Console(stderr=True).print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
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


# --- reproduce -----------------------------------------------------------------------------


@app.command()
@user_errors
def reproduce(
    scenario: Annotated[
        str, typer.Argument(help="A built-in scenario name or a scenario YAML file.")
    ],
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override an input: PATH=VALUE (repeatable).")
    ] = None,
    as_json: JsonOpt = False,
    calibration: CalibrationOpt = None,
    no_calibration: NoCalibrationOpt = False,
) -> None:
    """Recompute a published estimate from its stated assumptions."""
    from infercost.api import reproduce as verb

    result = verb(
        scenario=scenario, set=set_ or [], calibration=_calibration(calibration, no_calibration)
    )
    if as_json:
        emit_json(result.to_dict())
        return
    from infercost.cli.render import print_scenario

    print_scenario(Console(), result.to_dict())


# --- estimate ------------------------------------------------------------------------------


@app.command()
@user_errors
def estimate(
    model: Annotated[str, typer.Option("--model", "-m", help="Model id or alias.")],
    gpu: Annotated[
        str, typer.Option("--gpu", "-g", help="Accelerator id or alias; several to compare: a,b.")
    ],
    gpus: Annotated[int | None, typer.Option(help="Accelerators in the replica (tp × pp).")] = None,
    tp: Annotated[int | None, typer.Option(help="Tensor-parallel degree.")] = None,
    pp: Annotated[int, typer.Option(help="Pipeline-parallel degree.")] = 1,
    precision: Annotated[
        str, typer.Option(help="Weights: bf16, fp8, int8, int4, w4a16, fp4...")
    ] = "bf16",
    kv_precision: Annotated[
        str | None, typer.Option(help="KV cache precision (default bf16).")
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(help="Engine: vllm, sglang, tensorrt-llm, llama.cpp... (catalog engines)."),
    ] = None,
    max_seqs: Annotated[
        int | None, typer.Option(help="Sequences the engine runs at once (default: its own).")
    ] = None,
    input_tokens: Annotated[float, typer.Option(help="Prompt tokens per request.")] = 1000,
    output_tokens: Annotated[float, typer.Option(help="Generated tokens per request.")] = 200,
    cached_fraction: Annotated[float, typer.Option(help="Prefix-cache hit ratio.")] = 0.0,
    concurrency: Annotated[
        int | None, typer.Option(help="Requests in flight (default: most that fit).")
    ] = None,
    target_interactivity: Annotated[
        float | None, typer.Option(help="Per-user speed to keep, tokens/s (lowers concurrency).")
    ] = None,
    price: Annotated[
        float | None, typer.Option(help="$ per GPU-hour (default: newest catalog price).")
    ] = None,
    qps: Annotated[
        float | None, typer.Option(help="Traffic: queries per second (average).")
    ] = None,
    queries_per_day: Annotated[float | None, typer.Option(help="Traffic: queries per day.")] = None,
    peak_to_average: Annotated[
        float | None, typer.Option(help="Peak over average traffic (default 1).")
    ] = None,
    utilisation: Annotated[
        float | None, typer.Option(help="Target utilisation at peak, (0, 1] (default 1).")
    ] = None,
    calibration: CalibrationOpt = None,
    no_calibration: NoCalibrationOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Estimate one replica: memory, latency, throughput and $/1M tokens; with --qps, the fleet."""
    from infercost.api import estimate as verb

    result = verb(
        model=model, gpu=_words(gpu), gpus=gpus, tp=tp, pp=pp, precision=precision,
        kv_precision=kv_precision, engine=engine, max_seqs=max_seqs, input_tokens=input_tokens,
        output_tokens=output_tokens, cached_fraction=cached_fraction, concurrency=concurrency,
        target_interactivity=target_interactivity, price=price, qps=qps,
        queries_per_day=queries_per_day, peak_to_average=peak_to_average,
        utilisation=utilisation, calibration=_calibration(calibration, no_calibration),
    )  # fmt: skip
    if as_json:
        emit_json(result.to_dict())
        return
    from infercost.cli.render import print_estimates

    print_estimates(Console(), result.to_dict())


# --- scenarios and validate ----------------------------------------------------------------


@app.command()
@user_errors
def scenarios(as_json: JsonOpt = False) -> None:
    """List the built-in scenarios."""
    from infercost.scenario.loader import builtin_names, read_raw

    rows = [{"name": n, "title": read_raw(n).get("title", "")} for n in builtin_names()]
    if as_json:
        emit_json(rows)
        return
    from infercost.cli.render import table

    out = table("Built-in scenarios", "scenario", "title")
    for row in rows:
        out.add_row(row["name"], row["title"])
    Console().print(out)


@app.command()
@user_errors
def validate(
    data: Annotated[
        Path | None,
        typer.Option("--data", help="A measured-points CSV (default: the built-in data set)."),
    ] = None,
    no_calibration: Annotated[
        bool, typer.Option("--no-calibration", help="Raw roofline with default efficiencies.")
    ] = False,
    as_json: JsonOpt = False,
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

    with counting("fitting without each source", quiet=as_json) as progress:
        result = verb(
            data=None if data is None else str(data),
            calibrated=not no_calibration,
            plot=None if plot is None else str(plot),
            write_calibration=None if write_calibration is None else str(write_calibration),
            progress=progress,
        )
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


@app.command()
@user_errors
def simulate(
    scenario: Annotated[
        str | None,
        typer.Argument(help="A built-in scenario or a scenario file (else give --model, --gpu)."),
    ] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Model id or alias.")] = None,
    gpu: Annotated[str | None, typer.Option("--gpu", "-g", help="Accelerator id or alias.")] = None,
    gpus: Annotated[int | None, typer.Option(help="Accelerators per replica (= tp).")] = None,
    tp: Annotated[int | None, typer.Option(help="Tensor-parallel degree.")] = None,
    precision: Annotated[
        str | None, typer.Option(help="Weights: bf16, fp8, int4, ... (default bf16).")
    ] = None,
    kv_precision: Annotated[str | None, typer.Option(help="KV cache precision.")] = None,
    engine: Annotated[str | None, typer.Option(help="Engine (catalog engines).")] = None,
    replicas: Annotated[
        int | None, typer.Option(help="Replicas behind the router (a scenario: its fleet).")
    ] = None,
    router: Annotated[
        str | None, typer.Option(help="round-robin (default) or least-outstanding (scenarios).")
    ] = None,
    max_seqs: Annotated[
        int | None, typer.Option(help="Sequences a replica runs at once (default: the engine's).")
    ] = None,
    rate: Annotated[float | None, typer.Option(help="Arrivals per second, whole fleet.")] = None,
    requests: Annotated[int, typer.Option(help="Requests to simulate.")] = 10_000,
    arrival: Annotated[str, typer.Option(help="poisson, gamma, diurnal or constant.")] = "poisson",
    burstiness: Annotated[
        float, typer.Option(help="Gamma arrivals: coefficient of variation (1 = Poisson).")
    ] = 2.0,
    input_tokens: Annotated[
        str | None,
        typer.Option(help="Prompt length: N, uniform:A:B, lognormal:MEAN:SIGMA, file:PATH."),
    ] = None,
    output_tokens: Annotated[str | None, typer.Option(help="Output length, same forms.")] = None,
    trace: Annotated[
        Path | None, typer.Option(help="Replay a CSV/JSONL trace (time, prompt, output).")
    ] = None,
    cached_fraction: Annotated[float | None, typer.Option(help="Prefix-cache hit ratio.")] = None,
    scheduler_steps: Annotated[
        int | None, typer.Option(help="vLLM multi-step: decode steps planned at once.")
    ] = None,
    prefill_apart: Annotated[
        bool | None,
        typer.Option(
            "--prefill-apart/--prefill-mixed",
            help="Run prefill steps alone (SGLang, vLLM before V1) or mixed with decodes.",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    slo: Annotated[
        str | None, typer.Option(help="Targets, e.g. ttft_p99=2s,tpot_p99=100ms.")
    ] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Scenario override PATH=VALUE.")
    ] = None,
    records: Annotated[
        Path | None, typer.Option(help="Write per-request records (.csv or .parquet).")
    ] = None,
    calibration: CalibrationOpt = None,
    no_calibration: NoCalibrationOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Simulate a fleet request by request: latency percentiles, goodput, queues, KV."""
    from infercost.api import simulate as verb
    from infercost.cli.progress import counting

    with counting("simulating", quiet=as_json) as progress:
        result = verb(
            scenario=scenario, set=set_ or [], model=model, gpu=gpu, gpus=gpus, tp=tp,
            precision=precision, kv_precision=kv_precision, engine=engine, replicas=replicas,
            router=router, max_seqs=max_seqs, rate=rate, requests=requests, arrival=arrival,
            burstiness=burstiness, input_tokens=input_tokens, output_tokens=output_tokens,
            trace=None if trace is None else str(trace), cached_fraction=cached_fraction,
            scheduler_steps=scheduler_steps, prefill_apart=prefill_apart, seed=seed, slo=slo,
            records=None if records is None else str(records),
            calibration=_calibration(calibration, no_calibration), progress=progress,
        )  # fmt: skip
    if as_json:
        emit_json(result.to_dict())
        return
    from infercost.cli.render import print_simulation

    print_simulation(Console(), result.to_dict())


# --- measure and calibrate -----------------------------------------------------------------


@app.command()
@user_errors
def measure(
    url: Annotated[str, typer.Option(help="Server base URL, e.g. http://127.0.0.1:8080.")],
    model: Annotated[str, typer.Option(help="Model name the server expects.")],
    concurrency: Annotated[
        str | None, typer.Option(help="Load levels: requests in flight, e.g. 1,2,4,8.")
    ] = None,
    rate: Annotated[str | None, typer.Option(help="Load levels: requests/s, e.g. 0.5,1,2.")] = None,
    arrival: Annotated[str, typer.Option(help="poisson or gamma arrivals for --rate.")] = "poisson",
    sweep: Annotated[
        bool, typer.Option(help="Double the concurrency until goodput falls or errors rise.")
    ] = False,
    trace: Annotated[
        Path | None, typer.Option(help="Replay a CSV/JSONL trace (time, prompt, output tokens).")
    ] = None,
    prompts: Annotated[
        Path | None, typer.Option(help="Prompts to send: one per line, or JSONL with 'prompt'.")
    ] = None,
    requests: Annotated[int, typer.Option(help="Requests per load level.")] = 100,
    duration: Annotated[
        float | None, typer.Option(help="Stop a level after this many seconds.")
    ] = None,
    input_tokens: Annotated[int, typer.Option(help="Prompt length, in words.")] = 128,
    output_tokens: Annotated[int, typer.Option(help="max_tokens per request.")] = 128,
    chat: Annotated[bool, typer.Option(help="Use /v1/chat/completions.")] = False,
    extra: Annotated[
        str | None, typer.Option(help="Extra JSON body fields, e.g. '{\"ignore_eos\": true}'.")
    ] = None,
    gpus: Annotated[int, typer.Option(help="Accelerators the server uses.")] = 1,
    price: Annotated[float | None, typer.Option(help="USD per GPU-hour.")] = None,
    gpu: Annotated[
        str | None, typer.Option(help="Catalog accelerator, for predictions beside the results.")
    ] = None,
    catalog_model: Annotated[
        str | None, typer.Option(help="Catalog model (default: --model, if the catalog knows it).")
    ] = None,
    precision: Annotated[
        str | None, typer.Option(help="Weight format served (fp8, q4_1, ...; default bf16).")
    ] = None,
    engine: Annotated[
        str | None, typer.Option(help="Engine: vllm, sglang, llama.cpp, ... (default other).")
    ] = None,
    slo: Annotated[
        str | None, typer.Option(help="Targets, e.g. ttft_p99=2s,tpot_p99=100ms.")
    ] = None,
    timeout: Annotated[
        float, typer.Option(help="Seconds a request may wait for the next byte from the server.")
    ] = 60.0,
    max_error_rate: Annotated[
        float, typer.Option(help="Exit 1 when more than this share of requests fail.")
    ] = 0.1,
    out: Annotated[Path | None, typer.Option(help="A new folder for records and summary.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed for arrivals.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Load-test a live OpenAI-compatible server: latency, throughput and cost per token."""
    from infercost.api import measure as verb
    from infercost.cli.progress import levels

    with levels(requests, quiet=as_json) as progress:
        result = verb(
            url=url, model=model, concurrency=_numbers("concurrency", concurrency, int),
            rate=_numbers("rate", rate, float), arrival=arrival, sweep=sweep,
            trace=None if trace is None else str(trace),
            prompts=None if prompts is None else str(prompts), requests=requests,
            duration=duration, input_tokens=input_tokens, output_tokens=output_tokens, chat=chat,
            extra=_json_object("extra", extra), gpus=gpus, price=price, gpu=gpu,
            catalog_model=catalog_model, precision=precision, engine=engine, slo=slo,
            timeout=timeout, max_error_rate=max_error_rate,
            out=None if out is None else str(out), seed=seed, progress=progress,
        )  # fmt: skip
    if as_json:
        emit_json(result.to_dict())
    else:
        from infercost.cli.render import print_measurement

        print_measurement(Console(), result.to_dict())
    if result.error_line:
        Console(stderr=True).print(result.error_line, highlight=False, soft_wrap=True)
    if result.interrupted:
        raise typer.Exit(130)
    if result.exit_code:
        raise typer.Exit(result.exit_code)


def _numbers(field: str, text: str | None, kind: type) -> list[Any]:
    from infercost.errors import InputError

    out = []
    for part in _words(text):
        try:
            out.append(kind(part))
        except ValueError:
            raise InputError(field, f"not a number: {part!r}") from None
    return out


def _json_object(field: str, text: str | None) -> dict[str, Any] | None:
    from infercost.errors import InputError

    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(field, f"not JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise InputError(field, "must be a JSON object of body fields")
    return value


@app.command()
@user_errors
def calibrate(
    results: Annotated[Path, typer.Argument(help="A folder written by `measure --out`.")],
    gpu: Annotated[
        str | None, typer.Option(help="Catalog accelerator (default: as measured).")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Catalog model (default: as measured).")] = None,
    gpus: Annotated[int | None, typer.Option(help="Accelerators (default: as measured).")] = None,
    precision: Annotated[
        str | None, typer.Option(help="Weight format (default: as measured).")
    ] = None,
    engine: Annotated[
        str | None, typer.Option(help="Engine family (default: as measured).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Where to save (default: RESULTS/calibration.yaml).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Fit efficiency factors to a measurement; estimate/reproduce/simulate take --calibration."""
    from infercost.api import calibrate as verb

    result = verb(
        results=str(results), gpu=gpu, model=model, gpus=gpus, precision=precision,
        engine=engine, out=None if out is None else str(out),
    )  # fmt: skip
    if as_json:
        emit_json(result.to_dict())
        return
    from infercost.cli.render import print_calibration

    print_calibration(Console(), result.to_dict())


# --- catalog -------------------------------------------------------------------------------

CATALOGS = ("gpus", "servers", "models", "prices", "engines")


@catalog_app.command("show")
@user_errors
def catalog_show(
    table: Annotated[str, typer.Argument(help="gpus, servers, models, prices or engines.")],
    as_json: JsonOpt = False,
) -> None:
    """Print a catalog table."""
    from infercost.api import catalog_rows
    from infercost.errors import InputError

    if table not in CATALOGS:
        raise InputError("table", f"unknown table {table!r}; allowed: {', '.join(CATALOGS)}")
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


def main() -> None:
    app()
