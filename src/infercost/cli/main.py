"""The `infercost` command: reproduce, estimate, simulate, measure, validate, catalog, scenarios.

Heavy modules are imported inside each command so that `infercost --help` and every answer
stay fast. Bad input of any kind ends in one line on stderr and exit status 2.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__.splitlines()[0])
catalog_app = typer.Typer(no_args_is_help=True, help="Look at the catalogs, or import a model.")
app.add_typer(catalog_app, name="catalog")

F = TypeVar("F", bound=Callable[..., Any])


def user_errors(func: F) -> F:
    """Turn an `InputError` into one line on stderr and exit 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from infercost.errors import InputError

        try:
            return func(*args, **kwargs)
        except InputError as exc:
            Console(stderr=True).print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def emit_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, indent=2, default=str) + "\n")


CalibrationOpt = Annotated[
    Path | None,
    typer.Option("--calibration", help="Efficiency factors file (default: the built-in fit)."),
]
NoCalibrationOpt = Annotated[
    bool, typer.Option("--no-calibration", help="Use the raw perf default efficiencies.")
]


def _loaded_calibration(path: Path | None, off: bool) -> Any:
    """Like `_calibration`, with the built-in file loaded."""
    from infercost.perf.calibration import load_calibration

    chosen = _calibration(path, off)
    return load_calibration() if chosen == "builtin" else chosen


def _calibration(path: Path | None, off: bool) -> Any:
    """The calibration the flags ask for: built-in, a file, or none."""
    from infercost.errors import InputError
    from infercost.perf.calibration import load_calibration

    if off and path is not None:
        raise InputError("--calibration", "cannot be combined with --no-calibration")
    if off:
        return None
    return load_calibration(path) if path is not None else "builtin"


@app.command()
@user_errors
def reproduce(
    name: Annotated[str, typer.Argument(help="A built-in scenario name or a scenario YAML file.")],
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override an input: PATH=VALUE (repeatable).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    calibration: CalibrationOpt = None,
    no_calibration: NoCalibrationOpt = False,
) -> None:
    """Recompute a published estimate from its stated assumptions."""
    from infercost.scenario.engine import run
    from infercost.scenario.loader import load

    scenario = load(name, set_ or [])
    doc = run(scenario, _calibration(calibration, no_calibration)).to_dict()
    if as_json:
        emit_json(doc)
        return
    from infercost.cli.render import print_scenario

    print_scenario(Console(), doc)


@app.command()
@user_errors
def estimate(
    model: Annotated[str, typer.Option("--model", "-m", help="Model id or alias.")],
    gpu: Annotated[str, typer.Option("--gpu", "-g", help="Accelerator id or alias.")],
    gpus: Annotated[int | None, typer.Option(help="Accelerators in the replica (tp × pp).")] = None,
    tp: Annotated[int | None, typer.Option(help="Tensor-parallel degree.")] = None,
    pp: Annotated[int, typer.Option(help="Pipeline-parallel degree.")] = 1,
    precision: Annotated[
        str, typer.Option(help="Weights: bf16, fp8, int8, int4, w4a16, fp4...")
    ] = "bf16",
    kv_precision: Annotated[
        str | None, typer.Option(help="KV cache precision (default bf16).")
    ] = None,
    input_tokens: Annotated[float, typer.Option(help="Prompt tokens per request.")] = 1000,
    output_tokens: Annotated[float, typer.Option(help="Generated tokens per request.")] = 200,
    concurrency: Annotated[
        int | None, typer.Option(help="Requests in flight (default: most that fit).")
    ] = None,
    price: Annotated[
        float | None, typer.Option(help="$ per GPU-hour (default: newest catalog price).")
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(help="Engine family for calibrated factors (vllm, sglang, tensorrt-llm...)."),
    ] = None,
    calibration: CalibrationOpt = None,
    no_calibration: NoCalibrationOpt = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Estimate one replica: memory, latency, throughput and $/1M tokens."""
    from infercost.errors import InputError
    from infercost.estimate import estimate as run_estimate

    for name, value in (
        ("--gpus", gpus),
        ("--tp", tp),
        ("--pp", pp),
        ("--concurrency", concurrency),
    ):
        if value is not None and value < 1:
            raise InputError(name, f"must be ≥ 1, got {value}")
    if price is not None and price <= 0:
        raise InputError("--price", f"must be > 0, got {price}")
    doc = run_estimate(
        model,
        gpu,
        gpus=gpus,
        tp=tp,
        pp=pp,
        precision_name=precision,
        kv_precision_name=kv_precision,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        concurrency=concurrency,
        usd_per_gpu_hour=price,
        engine=engine,
        calibration=_calibration(calibration, no_calibration),
    )
    if as_json:
        emit_json(doc)
        return
    from infercost.cli.render import computed_table

    flat = {
        **{k: v for k, v in doc["replica"].items() if not isinstance(v, dict)},
        "max_concurrency_that_fits": doc["max_concurrency_that_fits"],
        "output_tokens_per_s_per_gpu": doc["output_tokens_per_s_per_gpu"],
        "usd_per_gpu_hour": doc["usd_per_gpu_hour"],
        "usd_per_million_output_tokens": doc["usd_per_million_output_tokens"],
        "usd_per_million_tokens": doc["usd_per_million_tokens"],
    }
    d = doc["deployment"]
    title = f"{d['model']} on {d['gpus']}× {d['gpu']} ({d['weight_precision']} weights)"
    console = Console()
    console.print(computed_table(flat, title))
    console.print(computed_table(doc["replica"]["decode_step"], "Decode step (per GPU)"))
    console.print(computed_table(doc["replica"]["memory"], "Memory"))
    eff = doc["efficiency"]
    console.print(
        f"efficiency: compute {eff['compute']:.2f}, memory {eff['memory']:.2f}, "
        f"attention memory {eff['attention_memory']:.2f}, "
        f"step overhead {eff['step_overhead_s'] * 1e3:.2f} ms "
        f"(calibration group: {eff['calibration_group']})",
        highlight=False,
    )


@app.command()
@user_errors
def scenarios(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the built-in scenarios."""
    from infercost.scenario.loader import builtin_names, read_raw

    rows = [{"name": n, "title": read_raw(n).get("title", "")} for n in builtin_names()]
    if as_json:
        emit_json(rows)
        return
    from rich.table import Table

    table = Table("scenario", "title")
    for row in rows:
        table.add_row(row["name"], row["title"])
    Console().print(table)


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
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
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
    from infercost.validate.report import validate as run_validation

    result = run_validation(
        data, calibrated=not no_calibration, fit_all=write_calibration is not None
    )
    if write_calibration is not None and result.fitted is not None:
        from infercost.validate.store import save_fitted

        save_fitted(result, data, write_calibration)
    if plot is not None:
        from infercost.validate.plot import write_plot

        write_plot(result, plot)
    if as_json:
        emit_json(result.to_dict())
        return
    from infercost.cli.render import print_validation

    print_validation(Console(), result.to_dict(), show_rows=rows)
    notes = [f"plot written to {plot}"] if plot else []
    if write_calibration:
        notes.append(f"calibration written to {write_calibration}")
    for note in notes:
        Console().print(note, highlight=False)


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
    precision: Annotated[str, typer.Option(help="Weights: bf16, fp8, int4, ...")] = "bf16",
    kv_precision: Annotated[str | None, typer.Option(help="KV cache precision.")] = None,
    engine: Annotated[
        str | None, typer.Option(help="Engine family for calibrated factors.")
    ] = None,
    replicas: Annotated[int, typer.Option(help="Replicas behind the router.")] = 1,
    router: Annotated[str, typer.Option(help="round-robin or least-outstanding.")] = "round-robin",
    max_seqs: Annotated[int, typer.Option(help="Sequences a replica runs at once.")] = 256,
    rate: Annotated[float | None, typer.Option(help="Arrivals per second, whole fleet.")] = None,
    requests: Annotated[int, typer.Option(help="Requests to simulate.")] = 10_000,
    arrival: Annotated[str, typer.Option(help="poisson, gamma or diurnal.")] = "poisson",
    burstiness: Annotated[
        float, typer.Option(help="Gamma arrivals: coefficient of variation (1 = Poisson).")
    ] = 2.0,
    input_tokens: Annotated[
        str, typer.Option(help="Prompt length: N, uniform:A:B, lognormal:MEAN:SIGMA, file:PATH.")
    ] = "1000",
    output_tokens: Annotated[str, typer.Option(help="Output length, same forms.")] = "200",
    trace: Annotated[
        Path | None, typer.Option(help="Replay a CSV/JSONL trace (time, prompt, output).")
    ] = None,
    cached_fraction: Annotated[float, typer.Option(help="Prefix-cache hit ratio.")] = 0.0,
    scheduler_steps: Annotated[
        int, typer.Option(help="vLLM multi-step: decode steps planned at once.")
    ] = 1,
    prefill_apart: Annotated[
        bool, typer.Option(help="Run prefill steps alone (vLLM before V1, SGLang 0.3).")
    ] = False,
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
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Simulate a fleet request by request: latency percentiles, goodput, queues, KV."""
    from infercost.errors import InputError
    from infercost.sim.engine import Fleet
    from infercost.sim.records import parse_slos
    from infercost.simulate import deployment, from_scenario, make_requests

    fleet_size = None
    if scenario is not None:
        dep, reqs, fleet, slos, fleet_size = from_scenario(scenario, set_ or [], requests, seed)
        slos = parse_slos(slo) if slo else slos
    else:
        if model is None or gpu is None:
            raise InputError("--model", "give a scenario, or --model and --gpu")
        if gpus is not None and tp is not None and gpus != tp:
            raise InputError("--gpus", f"must equal --tp ({tp}); the simulator runs tp only")
        dep = deployment(
            model,
            gpu,
            tp=tp or gpus or 1,
            precision=precision,
            kv_precision=kv_precision,
            engine=engine,
            calibration=_loaded_calibration(calibration, no_calibration),
        )
        reqs = make_requests(
            rate=rate,
            n=requests,
            input_spec=input_tokens,
            output_spec=output_tokens,
            arrival=arrival,
            burstiness=burstiness,
            seed=seed,
            trace=trace,
        )
        fleet = Fleet(
            replicas, router, max_seqs, cached_fraction, scheduler_steps, not prefill_apart
        )
        slos = parse_slos(slo)
    result, summary = _simulate_with_progress(dep, reqs, fleet, slos, fleet_size, quiet=as_json)
    if records is not None:
        _write_records(result.records, records)
    if as_json:
        emit_json(summary)
        return
    from infercost.cli.render import print_simulation

    print_simulation(Console(), summary)


def _simulate_with_progress(
    dep: Any, reqs: Any, fleet: Any, slos: Any, size: Any, quiet: bool
) -> Any:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from infercost.simulate import run

    if quiet:
        return run(dep, reqs, fleet, slos, None, size)
    columns = (
        TextColumn("simulating"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
    )
    with Progress(
        *columns, TimeElapsedColumn(), console=Console(stderr=True), transient=True
    ) as bar:
        task = bar.add_task("requests", total=len(reqs.arrival_s))
        return run(dep, reqs, fleet, slos, lambda done, _: bar.update(task, completed=done), size)


def _write_records(recs: Any, path: Path) -> None:
    from infercost.errors import InputError

    suffix = path.suffix.lower()
    if suffix == ".csv":
        recs.write_csv(path)
    elif suffix == ".parquet":
        recs.write_parquet(path)
    else:
        raise InputError("--records", f"write .csv or .parquet, not {path.suffix or '(none)'}")


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
    precision: Annotated[str, typer.Option(help="Weight format served (fp8, q4_1, ...).")] = "bf16",
    engine: Annotated[
        str, typer.Option(help="Engine family: vllm, sglang, llama.cpp, tensorrt-llm, ...")
    ] = "other",
    slo: Annotated[
        str | None, typer.Option(help="Targets, e.g. ttft_p99=2s,tpot_p99=100ms.")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds before a request is given up.")] = 600.0,
    max_error_rate: Annotated[
        float, typer.Option(help="Exit 1 when more than this share of requests fail.")
    ] = 0.1,
    out: Annotated[Path | None, typer.Option(help="Directory for records and summary.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed for arrivals.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Load-test a live OpenAI-compatible server: latency, throughput and cost per token."""
    from infercost.errors import InputError
    from infercost.measure.run import Level, Plan, load_prompts
    from infercost.measure.run import measure as run_measure
    from infercost.sim.records import parse_slos

    levels: Any = _levels("concurrency", concurrency) + _levels("rate", rate)
    if trace is not None:
        if levels or sweep:
            raise InputError(
                "--trace", "sets its own schedule; drop --concurrency, --rate, --sweep"
            )
        levels = [Level("trace", 1)]
    if sweep:
        from infercost.measure.run import sweep as sweep_rule

        if levels:
            raise InputError("--sweep", "chooses its own levels; drop --concurrency and --rate")
        levels = sweep_rule(max_error_rate)
    elif not levels:
        levels = [Level("concurrency", 1)]
    for name, value in (
        ("--requests", requests),
        ("--gpus", gpus),
        ("--output-tokens", output_tokens),
    ):
        if value < 1:
            raise InputError(name, f"must be ≥ 1, got {value}")
    if not url.startswith(("http://", "https://")):
        raise InputError("--url", f"must start with http:// or https://, got {url!r}")
    try:
        extras = json.loads(extra) if extra else None
    except json.JSONDecodeError as exc:
        raise InputError("--extra", f"not JSON: {exc.msg}") from None
    setup = None
    if gpu is not None:
        from infercost.catalog.hardware import accelerator
        from infercost.catalog.models import model as catalog_lookup
        from infercost.measure.model import Setup

        arch = catalog_lookup(catalog_model or model)
        setup = Setup(arch.id, accelerator(gpu).id, gpus, precision, engine)
    plan = Plan(
        url=url.rstrip("/"), model=model, input_tokens=input_tokens, output_tokens=output_tokens,
        requests=requests, duration_s=duration, arrival=arrival, seed=seed, chat=chat,
        extra=extras, timeout_s=timeout, price_usd_per_gpu_hour=price, gpus=gpus, setup=setup,
        prompts=load_prompts(prompts) if prompts else (), trace=trace,
    )  # fmt: skip
    reports = _measure_with_progress(plan, levels, parse_slos(slo), out, run_measure, as_json)
    if as_json:
        emit_json(reports[0] if len(reports) == 1 else reports)
    else:
        from infercost.cli.render import print_measurement

        print_measurement(Console(), reports)
    sent = sum(r.get("requests", 0) for r in reports)
    failed = sum(r.get("errors", 0) for r in reports)
    if sent == 0 or failed == sent or failed / sent > max_error_rate:
        raise typer.Exit(1)


@app.command()
@user_errors
def calibrate(
    results: Annotated[Path, typer.Argument(help="A directory written by `measure --out`.")],
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
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Fit efficiency factors to a measurement; estimate/reproduce/simulate take --calibration."""
    from infercost.errors import InputError
    from infercost.measure.model import Setup, calibrate_to, load_results, predict_level
    from infercost.perf.calibration import save_calibration
    from infercost.perf.deployment import Efficiency

    reports, saved = load_results(results)
    merged = {**saved, **{k: v for k, v in {"gpu": gpu, "model": model, "gpus": gpus,
              "precision": precision, "engine": engine}.items() if v is not None}}  # fmt: skip
    if "gpu" not in merged or "model" not in merged:
        raise InputError("--gpu", "the measurement has no catalog setup; give --gpu and --model")
    setup = Setup(**merged)
    cal = calibrate_to(setup, reports)
    target = out or results / "calibration.yaml"
    save_calibration(cal, target)
    fitted = next(iter(cal.groups.values()))
    rows = []
    for report in reports:
        if not report.get("completed"):
            continue
        before = predict_level(setup, report, Efficiency())
        after = predict_level(setup, report, fitted.apply(Efficiency()))
        rows.append({"level": report["level"], "measured_tok_s": report["throughput_output_tok_s"],
                     "raw_tok_s": before["throughput_output_tok_s"],
                     "calibrated_tok_s": after["throughput_output_tok_s"]})  # fmt: skip
    doc = {
        "saved": str(target),
        "groups": sorted(cal.groups),
        "factors": fitted.to_dict(),
        "levels": rows,
    }
    if as_json:
        emit_json(doc)
        return
    from infercost.cli.render import computed_table

    console = Console()
    console.print(computed_table(fitted.values(), f"Fitted factors → {target}"))
    for row in rows:
        raw, fitted_tok = row["raw_tok_s"] or float("nan"), row["calibrated_tok_s"] or float("nan")
        console.print(
            f"{row['level']}: measured {row['measured_tok_s']:.1f} tok/s, raw model "
            f"{raw:.1f}, calibrated {fitted_tok:.1f}",
            highlight=False,
        )


def _levels(kind: str, text: str | None) -> list[Any]:
    from infercost.errors import InputError
    from infercost.measure.run import Level

    if not text:
        return []
    out = []
    for part in text.split(","):
        try:
            value = float(part)
        except ValueError:
            raise InputError(f"--{kind}", f"not a number: {part!r}") from None
        if value <= 0:
            raise InputError(f"--{kind}", f"must be > 0, got {value:g}")
        out.append(Level(kind, value))
    return out


def _measure_with_progress(
    plan: Any, levels: Any, slos: Any, out: Any, run: Any, quiet: bool
) -> Any:
    if quiet:
        return run(plan, levels, slos, out)
    from rich.progress import BarColumn, Progress, TextColumn

    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}"))
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        tasks: dict[str, Any] = {}

        def show(level: Any, done: int) -> None:
            if level.name not in tasks:
                tasks[level.name] = bar.add_task(level.name, total=plan.requests)
            bar.update(tasks[level.name], completed=done)

        return run(plan, levels, slos, out, show)


CATALOGS = ("gpus", "servers", "models", "prices")


@catalog_app.command("show")
@user_errors
def catalog_show(
    table: Annotated[str, typer.Argument(help="gpus, servers, models or prices.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Print a catalog table."""
    rows = _catalog_rows(table)
    if as_json:
        emit_json(rows)
        return
    from rich.table import Table

    columns = [k for k in rows[0] if not isinstance(rows[0][k], dict)] if rows else []
    out = Table(*columns, title=table, title_justify="left")
    for row in rows:
        out.add_row(*(_cell(row[c]) for c in columns))
    Console().print(out)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}" if value < 1e6 else f"{value:,.4e}"
    return str(value)


def _catalog_rows(table: str) -> list[dict[str, Any]]:
    from infercost.catalog import hardware, models, prices
    from infercost.errors import InputError

    sources: dict[str, Callable[[], Any]] = {
        "gpus": hardware.accelerators,
        "servers": hardware.servers,
        "models": models.models,
        "prices": prices.price_points,
    }
    if table not in sources:
        raise InputError("catalog", f"unknown table {table!r}; allowed: {', '.join(CATALOGS)}")
    return [row.to_dict() for row in sources[table]()]


def _show(table: str) -> Callable[..., None]:
    def command(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
        catalog_show(table, as_json)

    command.__doc__ = f"Print the {table} catalog."
    return command


for _name in CATALOGS:
    catalog_app.command(_name)(_show(_name))


@catalog_app.command("import-model")
@user_errors
def import_model(
    file: Annotated[Path, typer.Argument(help="A Hugging Face config.json.")],
    model_id: Annotated[str | None, typer.Option("--id", help="Id for the new entry.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Turn a Hugging Face config.json into a catalog row (printed as YAML)."""
    import yaml

    from infercost.catalog.hf_import import arch_to_row, load_hf_config

    arch = load_hf_config(file, model_id)
    row = arch_to_row(arch)
    if as_json:
        emit_json(
            {"row": row, "total_params": arch.total_params(), "active_params": arch.active_params()}
        )
        return
    sys.stdout.write(yaml.safe_dump({"rows": [row]}, sort_keys=False))
    sys.stderr.write(
        f"# {arch.id}: {arch.total_params() / 1e9:.2f} B parameters, "
        f"{arch.active_params() / 1e9:.2f} B active, {arch.attention_kind} attention\n"
    )


def main() -> None:
    app()
