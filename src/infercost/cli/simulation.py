"""`simulate`: a fleet request by request."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from infercost.cli.app import (
    CachedFractionOpt,
    CalibrationOpt,
    InputLengthOpt,
    JsonOpt,
    NoCalibrationOpt,
    OutputLengthOpt,
    TraceOpt,
    _calibration,
    app,
    emit_json,
    user_errors,
)
from infercost.cli.reports import HtmlOpt, html_target, write_html


@app.command()
@user_errors
def simulate(
    scenario: Annotated[
        str | None,
        typer.Argument(help="A built-in scenario or a scenario file (else give --model, --gpu)."),
    ] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Model id or alias.")] = None,
    gpu: Annotated[str | None, typer.Option("--gpu", "-g", help="Accelerator id or alias.")] = None,
    gpus: Annotated[
        int | None, typer.Option(help="Accelerators per replica (= tp × pp × dp-attention).")
    ] = None,
    tp: Annotated[int | None, typer.Option(help="Tensor-parallel degree.")] = None,
    pp: Annotated[int | None, typer.Option(help="Pipeline-parallel stages.")] = None,
    ep: Annotated[int | None, typer.Option(help="Expert-parallel degree (MoE models).")] = None,
    dp_attention: Annotated[
        int | None, typer.Option(help="Attention data-parallel copies (MoE models).")
    ] = None,
    precision: Annotated[
        str | None, typer.Option(help="Weights: bf16, fp8, int4, ... (default bf16).")
    ] = None,
    kv_precision: Annotated[str | None, typer.Option(help="KV cache precision.")] = None,
    engine: Annotated[str | None, typer.Option(help="Engine (catalog engines).")] = None,
    replicas: Annotated[
        int | None, typer.Option(help="Replicas behind the router (a scenario: its fleet).")
    ] = None,
    prefill_replicas: Annotated[
        int | None,
        typer.Option(help="A disaggregated scenario's prefill pool (--replicas: its decode pool)."),
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
    input_tokens: InputLengthOpt = None,
    output_tokens: OutputLengthOpt = None,
    trace: TraceOpt = None,
    cached_fraction: CachedFractionOpt = None,
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
    whole_fleet: Annotated[
        bool,
        typer.Option(
            "--whole-fleet",
            help="Simulate every replica of the scenario's fleet, sharded across workers "
            "(not a representative subset).",
        ),
    ] = False,
    hours: Annotated[
        float | None,
        typer.Option(help="Whole fleet: hours simulated (default 24 with --profile, else 1)."),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            help="Whole fleet: the day's shape, diurnal or sinusoid:A[:H] (its mean the "
            "scenario's daily average); default flat at the peak."
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Whole fleet: worker processes (default: the CPUs).")
    ] = None,
    ray: Annotated[
        str | None,
        typer.Option(help="Whole fleet on Ray: local (start one here), auto, or an ADDRESS."),
    ] = None,
    as_json: JsonOpt = False,
    html: HtmlOpt = None,
) -> None:
    """Simulate a fleet request by request: latency percentiles, goodput, queues, KV."""
    from infercost.api import simulate as verb
    from infercost.cli.progress import counting

    report = html_target(html)
    with counting("simulating", quiet=as_json) as progress:
        result = verb(
            scenario=scenario, set=set_ or [], model=model, gpu=gpu, gpus=gpus, tp=tp, pp=pp,
            ep=ep, dp_attention=dp_attention,
            precision=precision, kv_precision=kv_precision, engine=engine, replicas=replicas,
            prefill_replicas=prefill_replicas, router=router, max_seqs=max_seqs, rate=rate,
            requests=requests, arrival=arrival,
            burstiness=burstiness, input_tokens=input_tokens, output_tokens=output_tokens,
            trace=None if trace is None else str(trace), cached_fraction=cached_fraction,
            scheduler_steps=scheduler_steps, prefill_apart=prefill_apart, seed=seed, slo=slo,
            records=None if records is None else str(records),
            calibration=_calibration(calibration, no_calibration), progress=progress,
            whole_fleet=whole_fleet, hours=hours, profile=profile, workers=workers, ray=ray,
        )  # fmt: skip
    write_html("simulate", result.to_dict(), report, quiet=as_json)
    if as_json:
        emit_json(result.to_dict())
        return
    from infercost.cli.render import print_simulation

    print_simulation(Console(), result.to_dict())


# --- measure and calibrate -----------------------------------------------------------------
