"""A scenario's fleet at its peak, as a simulation: the replica, the requests, the fleet.

The scenario is evaluated once through the pipeline (for its replica and the number of
replicas its traffic needs); its peak traffic (average × peak-to-average) is then spread
over the fleet. A fleet larger than `subset` replicas is simulated through `subset` of
them at the same load per replica (see `sim.engine`).

A disaggregated scenario (one with a `prefill` block) has two pools, each sized by the
pipeline for the day's tokens (`evaluate.disaggregated`) and rounded up to whole replicas.
A subset of each is simulated at the fleet's load per replica: p of the P prefill replicas
fed p/P of the traffic, where p/P ≥ d/D for the d of the D decode replicas simulated, and a
random (d/D) ÷ (p/P) of the prefilled requests go on to those decode replicas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from infercost.errors import InputError
from infercost.evaluate.config import Resolved
from infercost.limits import MAX_SIM_SEQUENCES
from infercost.perf.calibration import Calibration
from infercost.records import Slo, parse_slos
from infercost.scenario.engine import evaluate_inputs, pools_of, traffic
from infercost.scenario.schema import Scenario
from infercost.sim.disaggregated import Pool
from infercost.sim.disaggregated import subset as subset_of
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
        raise InputError("scenario", "has separate prefill and decode pools: see pools_simulation")
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


@dataclass(frozen=True)
class PoolsSimulation:
    prefill: Pool
    decode: Pool
    prefill_resolved: Resolved
    decode_resolved: Resolved
    requests: Requests
    slos: list[Slo]
    prefill_replicas: int  # in the fleet (the simulated ones stand for them)
    decode_replicas: int
    decode_share: float  # of the prefilled requests, the share the simulated decode pool takes

    def fleet_dict(self) -> dict[str, Any]:
        return {
            "prefill": {"replicas_in_fleet": self.prefill_replicas,
                        "replicas_simulated": self.prefill.fleet.replicas},
            "decode": {"replicas_in_fleet": self.decode_replicas,
                       "replicas_simulated": self.decode.fleet.replicas,
                       "share_of_prefilled_requests": self.decode_share},
        }  # fmt: skip


def pools_simulation(
    scenario: Scenario,
    calibration: Calibration | None,
    *,
    n: int,
    seed: int = 0,
    prefill_replicas: int | None = None,
    decode_replicas: int | None = None,
    router: str = "least-outstanding",
    arrival: str = "poisson",
    burstiness: float = 2.0,
    subset: int = SUBSET,
) -> PoolsSimulation:
    """A disaggregated scenario's peak through both pools (see the module docstring)."""
    inputs = scenario.inputs
    pools = pools_of(inputs, calibration)
    prefill_r, decode_r = pools.prefill, pools.decode.resolved
    node = prefill_r.gpus_per_server
    big_p = prefill_replicas or math.ceil(pools.nodes_prefill * node / prefill_r.gpus - 1e-9)
    big_d = decode_replicas or math.ceil(pools.nodes_decode * node / decode_r.gpus - 1e-9)
    d, p = subset_of(big_p, big_d, subset)
    w = inputs.workload
    peak = pools.input_tokens_per_s / w.input_tokens * w.peak_to_average
    requests = make_requests(
        rate=peak * p / big_p,  # the simulated prefill replicas' share, at the fleet's load
        n=n,
        input_spec=str(w.input_tokens),
        output_spec=str(w.output_tokens),
        arrival=arrival,
        burstiness=burstiness,
        seed=seed,
    )
    admits = min(prefill_r.max_sequences, MAX_SIM_SEQUENCES)  # its token budget binds first
    prefill = Pool(
        prefill_r.deployment,
        replace(Fleet.of(prefill_r, p, router, w.cached_input_fraction), max_seqs=admits),
    )
    batch = max(int(pools.decode.performance.concurrency), 1)
    decode = Pool(decode_r.deployment, replace(Fleet.of(decode_r, d, router), max_seqs=batch))
    share = (d / big_d) / (p / big_p)  # of the prefilled requests, what d decode replicas take
    return PoolsSimulation(
        prefill, decode, prefill_r, decode_r, requests, parse_slos(inputs.serving.slo),
        big_p, big_d, share,
    )  # fmt: skip
