"""Commands that cost a fleet: `reproduce` a scenario, `estimate` a replica or a fleet,
list the built-in `scenarios`."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console

from infercost.cli.app import (
    CalibrationOpt,
    JsonOpt,
    NoCalibrationOpt,
    _accelerators,
    _calibration,
    app,
    emit_json,
    user_errors,
)
from infercost.cli.reports import HtmlOpt, html_target, write_html


@app.command()
@user_errors
def reproduce(
    scenario: Annotated[
        str, typer.Argument(help="A built-in scenario name or a scenario YAML file.")
    ],
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override an input: PATH=VALUE (repeatable).")
    ] = None,
    samples: Annotated[
        int | None,
        typer.Option(
            "--samples",
            "-n",
            help="Sample the scenario's ranges N times through the same pipeline (Monte "
            "Carlo): P10/P50/P90 of every figure and a tornado of the inputs.",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the Monte Carlo's samples.")] = 0,
    range_: Annotated[
        list[str] | None,
        typer.Option(
            "--range",
            help="An uncertain input: PATH=LOW:HIGH (uniform), PATH=LOW:MODE:HIGH "
            "(triangular) or PATH=lognormal:MEDIAN:P90 (repeatable; replaces the file's).",
        ),
    ] = None,
    headline: Annotated[
        str | None,
        typer.Option(
            help="The figure the tornado ranks inputs by (default: the first published "
            "dollar figure)."
        ),
    ] = None,
    variant: Annotated[
        str | None,
        typer.Option(help="Show one of the scenario's variants as the result (e.g. athena)."),
    ] = None,
    as_json: JsonOpt = False,
    calibration: CalibrationOpt = None,
    no_calibration: NoCalibrationOpt = False,
    html: HtmlOpt = None,
) -> None:
    """Recompute a published estimate from its stated assumptions."""
    from infercost.api import reproduce as verb

    report = html_target(html)
    request: dict[str, Any] = {
        "scenario": scenario,
        "set": set_ or [],
        "calibration": _calibration(calibration, no_calibration),
        "samples": samples,
        "seed": seed,
        "range": range_ or [],
        "headline": headline,
        "variant": variant,
    }
    result = verb(**request)
    write_html("reproduce", result.to_dict(), report, request, quiet=as_json)
    if as_json:
        emit_json(result.to_dict())
        return
    from infercost.cli.render import print_scenario

    console = Console()
    doc = result.to_dict()
    print_scenario(console, doc)
    if "quantiles" in doc:
        from infercost.cli.uncertainty import print_uncertainty

        print_uncertainty(console, doc)


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
    html: HtmlOpt = None,
) -> None:
    """Estimate one replica: memory, latency, throughput and $/1M tokens; with --qps, the fleet."""
    from infercost.api import estimate as verb

    report = html_target(html)
    request: dict[str, Any] = dict(
        model=model, gpu=_accelerators(gpu), gpus=gpus, tp=tp, pp=pp, precision=precision,
        kv_precision=kv_precision, engine=engine, max_seqs=max_seqs, input_tokens=input_tokens,
        output_tokens=output_tokens, cached_fraction=cached_fraction, concurrency=concurrency,
        target_interactivity=target_interactivity, price=price, qps=qps,
        queries_per_day=queries_per_day, peak_to_average=peak_to_average,
        utilisation=utilisation, calibration=_calibration(calibration, no_calibration),
    )  # fmt: skip
    result = verb(**request)
    write_html("estimate", result.to_dict(), report, request, quiet=as_json)
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
    from infercost.cli.labels import table

    out = table("Built-in scenarios", "scenario", "title")
    for row in rows:
        out.add_row(row["name"], row["title"])
    Console().print(out)
