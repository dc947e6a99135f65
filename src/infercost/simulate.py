"""Simulate a fleet from a scenario or from flags: the request set, the fleet, the run.

From flags: one replica layout (model, accelerator, tp), `replicas` of them, Poisson, gamma
or diurnal arrivals at `rate` requests/s (or a replayed trace), and length laws for prompts
and outputs. From a scenario: its deployment and efficiencies, its traffic at peak
(average × peak-to-average), its sized fleet; a fleet larger than `subset` replicas is
simulated through `subset` of them at the same load per replica (see `sim.engine`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from infercost.catalog.hardware import accelerator
from infercost.errors import InputError
from infercost.perf.calibration import Calibration, load_calibration
from infercost.perf.deployment import Deployment, Efficiency, build
from infercost.sim.engine import Fleet, SimResult, simulate
from infercost.sim.records import Slo, parse_slos
from infercost.workload.arrivals import arrivals
from infercost.workload.lengths import lengths
from infercost.workload.trace import load_trace

SUBSET = 8  # replicas simulated in full for a larger fleet


@dataclass(frozen=True)
class Requests:
    arrival_s: np.ndarray
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    rate_per_s: float


def make_requests(
    *,
    rate: float | None,
    n: int,
    input_spec: str,
    output_spec: str,
    arrival: str = "poisson",
    burstiness: float = 2.0,
    seed: int = 0,
    trace: Path | None = None,
) -> Requests:
    """Arrivals and lengths from the options (a trace gives all three itself)."""
    if trace is not None:
        times, prompts, outputs = load_trace(trace)
        span = float(times.max()) if len(times) > 1 else 1.0
        return Requests(times, prompts, outputs, len(times) / max(span, 1e-9))
    if rate is None:
        raise InputError("rate", "give --rate (requests/s) or --trace FILE")
    if n < 1:
        raise InputError("requests", f"must be ≥ 1, got {n}")
    options = {"burstiness": burstiness} if arrival == "gamma" else {}
    times = arrivals(arrival, rate, n, seed, **options)
    rng = np.random.default_rng(seed + 1)
    prompts = lengths(input_spec, n, rng, "input_tokens", minimum=0)
    outputs = lengths(output_spec, n, rng, "output_tokens", minimum=1)
    return Requests(times, prompts, outputs, rate)


def deployment(
    model: str,
    gpu: str,
    *,
    tp: int = 1,
    precision: str = "bf16",
    kv_precision: str | None = None,
    engine: str | None = None,
    calibration: Calibration | None = None,
    max_batched_tokens: int | None = None,
) -> Deployment:
    """One replica, with calibrated efficiencies (for `engine`) unless `calibration` is None."""
    eff = Efficiency()
    if calibration is not None:
        calibration.check_engine(engine)
        eff = calibration.efficiency(accelerator(gpu), engine)
    if max_batched_tokens:
        eff = replace(eff, max_batched_tokens=max_batched_tokens)
    return build(
        model, gpu, tp=tp, precision_name=precision, kv_precision_name=kv_precision, efficiency=eff
    )


def run(
    dep: Deployment,
    requests: Requests,
    fleet: Fleet,
    slos: list[Slo],
    progress: Callable[[int, int], None] | None = None,
    fleet_replicas: int | None = None,
) -> tuple[SimResult, dict[str, Any]]:
    """Simulate and summarise; `fleet_replicas` > fleet.replicas marks a subset run."""
    result = simulate(
        dep, requests.arrival_s, requests.input_tokens, requests.output_tokens, fleet, progress
    )
    summary = result.summary(slos)
    summary["offered_rate_rps"] = requests.rate_per_s
    summary["deployment"] = dep.to_dict()
    summary["fleet"] = {
        "replicas_simulated": fleet.replicas,
        "replicas_in_fleet": fleet_replicas or fleet.replicas,
        "router": fleet.router,
        "max_seqs": fleet.max_seqs,
        "gpus_per_replica": dep.gpus,
    }
    return result, summary


def from_scenario(
    name: str, overrides: list[str], n: int, seed: int, subset: int = SUBSET
) -> tuple[Deployment, Requests, Fleet, list[Slo], int]:
    """A scenario's deployment, peak traffic and fleet (through a subset when large)."""
    from infercost.scenario.engine import deployment as scenario_deployment
    from infercost.scenario.engine import run_inputs, traffic
    from infercost.scenario.loader import load

    scenario = load(name, overrides)
    inputs = scenario.inputs
    if inputs.prefill is not None:
        raise InputError(
            "scenario", "simulating separate prefill and decode pools is not supported"
        )
    cal = load_calibration()
    dep = scenario_deployment(inputs, calibration=cal)
    computed, _ = run_inputs(inputs, cal)
    replicas = int(computed["replicas"])
    peak = traffic(inputs).queries_per_s * inputs.workload.peak_to_average
    simulated = min(replicas, subset)
    rate = peak * simulated / replicas
    w = inputs.workload
    requests = make_requests(
        rate=rate,
        n=n,
        input_spec=str(w.input_tokens),
        output_spec=str(w.output_tokens),
        seed=seed,
    )
    fleet = Fleet(
        replicas=simulated,
        router="least-outstanding",
        max_seqs=inputs.serving.concurrency or inputs.serving.max_concurrency,
        cached_fraction=w.cached_input_fraction,
    )
    return dep, requests, fleet, parse_slos(inputs.serving.slo), replicas
