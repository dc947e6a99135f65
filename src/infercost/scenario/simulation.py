"""A scenario's fleet at its peak, as a simulation: the replica, the requests, the fleet.

The scenario is evaluated once through the pipeline (for its replica and the number of
replicas its traffic needs); its peak traffic (average × peak-to-average) is then spread
over the fleet. A fleet larger than `subset` replicas is simulated through `subset` of
them at the same load per replica (see `sim.engine`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from infercost.errors import InputError
from infercost.evaluate.config import Resolved
from infercost.perf.calibration import Calibration
from infercost.records import Slo, parse_slos
from infercost.scenario.engine import evaluate_inputs, traffic
from infercost.scenario.schema import Scenario
from infercost.sim.engine import Fleet
from infercost.workload.requests import Requests, make_requests

SUBSET = 8  # replicas simulated in full for a larger fleet


@dataclass(frozen=True)
class ScenarioSimulation:
    resolved: Resolved
    requests: Requests
    fleet: Fleet
    slos: list[Slo]
    fleet_replicas: int  # replicas the scenario's fleet has (the simulated ones stand for it)


def simulation_of(
    scenario: Scenario,
    calibration: Calibration | None,
    *,
    n: int,
    seed: int = 0,
    replicas: int | None = None,
    router: str = "least-outstanding",
    arrival: str = "poisson",
    burstiness: float = 2.0,
    cached_fraction: float | None = None,
    subset: int = SUBSET,
) -> ScenarioSimulation:
    """The scenario's peak through its fleet (or `replicas` of its replica)."""
    inputs = scenario.inputs
    if inputs.prefill is not None:
        raise InputError(
            "scenario", "simulating separate prefill and decode pools is not supported yet"
        )
    e = evaluate_inputs(inputs, calibration)
    assert e.fleet is not None
    fleet_replicas = replicas or e.fleet.replicas
    peak = traffic(inputs).queries_per_s * inputs.workload.peak_to_average
    simulated = min(fleet_replicas, subset)
    w = inputs.workload
    requests = make_requests(
        rate=peak * simulated / fleet_replicas,
        n=n,
        input_spec=str(w.input_tokens),
        output_spec=str(w.output_tokens),
        arrival=arrival,
        burstiness=burstiness,
        seed=seed,
    )
    cached = w.cached_input_fraction if cached_fraction is None else cached_fraction
    # Each replica runs the batch the scenario's steady state assumed (stated, the most
    # that fit, or the most that keep its speed target).
    fleet = replace(
        Fleet.of(e.resolved, simulated, router, cached), max_seqs=int(e.performance.concurrency)
    )
    return ScenarioSimulation(
        e.resolved, requests, fleet, parse_slos(inputs.serving.slo), fleet_replicas
    )
