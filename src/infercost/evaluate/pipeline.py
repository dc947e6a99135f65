"""The one pipeline: a resolved configuration under a workload and a cost basis → a result.

    configuration ──resolve──▶ deployment
    workload (lengths, traffic) + serving targets ──▶ concurrency per replica:
        stated, else the most sequences that fit (memory and the engine's cap), lowered
        to the largest that still meets a per-user speed target
    ──▶ replica performance (perf.replica: throughput, TTFT, TPOT, E2E)
    ──▶ feasibility (one answer to "does it fit", with the binding limit)
    ──▶ fleet size (workload.traffic: replicas for the peak at the target utilisation)
    ──▶ cost ($/GPU-hour rented or owned; $ per day, query and million tokens; energy)

`estimate`, `reproduce`, `simulate` (from a scenario), `validate` and `measure`'s
predictions all ask this module; none of them recomputes a step of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from infercost.catalog.prices import owner_profiles, prices_for
from infercost.cost.fleet import MILLION, FleetCost, usd_per_unit
from infercost.cost.gpu_hour import GpuHourCost, own, rent
from infercost.elementwise import every, is_array, largest, maximum, scalar
from infercost.errors import InputError
from infercost.evaluate.config import CalibrationChoice, Resolved
from infercost.evaluate.feasibility import (
    Feasibility,
    check,
    describe_layout,
    max_concurrency,
    smallest_layout,
)
from infercost.perf.replica import ReplicaPerformance, replica_performance
from infercost.workload.traffic import FleetSize, Traffic, size_fleet

# Without an owner profile, what a busy accelerator draws and what the facility adds.
POWER_UTILISATION = 0.7
PUE = 1.2


@dataclass(frozen=True)
class Workload:
    """The requests: mean lengths, the prefix-cache hit ratio and, to size a fleet, traffic."""

    input_tokens: float
    output_tokens: float
    cached_input_fraction: float = 0.0
    traffic: Traffic | None = None


@dataclass(frozen=True)
class Serving:
    """How a replica is run: its concurrency, or a per-user speed it must keep."""

    concurrency: int | None = None
    target_interactivity_tokens_per_s: float | None = None
    include_prefill: bool = True  # False: the decode pool of a disaggregated deployment
    arrival_group: float = 1.0  # requests that arrive at once (a closed loop in lockstep: all)


@dataclass(frozen=True)
class CostBasis:
    """What an accelerator-hour costs: a rental price, or owning a server."""

    mode: Literal["rent", "own", "catalog"] = "catalog"
    usd_per_gpu_hour: float | None = None
    owner_profile: str = "hyperscaler-2023"
    server_price_usd: float | None = None


@dataclass(frozen=True)
class Evaluation:
    resolved: Resolved
    workload: Workload
    performance: ReplicaPerformance
    feasibility: Feasibility
    concurrency_basis: str  # stated | memory | engine cap | speed target
    gpu_hour: GpuHourCost | None
    fleet: FleetSize | None
    cost: FleetCost | None

    def require_feasible(self, field: str = "concurrency") -> Evaluation:
        self.feasibility.require(field)
        return self

    @property
    def gpus(self) -> int:
        return self.resolved.gpus

    @property
    def usd_per_replica_hour(self) -> float | None:
        return None if self.gpu_hour is None else self.gpu_hour.usd_per_gpu_hour * self.gpus

    @property
    def usd_per_million_output_tokens(self) -> float | None:
        """A busy replica's cost per million output tokens (no idle capacity)."""
        return usd_per_unit(
            self.usd_per_replica_hour, self.performance.output_tokens_per_s, MILLION
        )

    @property
    def usd_per_million_tokens(self) -> float | None:
        perf = self.performance
        per_s = perf.output_tokens_per_s + perf.input_tokens_per_s
        return usd_per_unit(self.usd_per_replica_hour, per_s, MILLION)

    @property
    def usd_per_query(self) -> float | None:
        return usd_per_unit(self.usd_per_replica_hour, self.performance.requests_per_s)

    def to_dict(self) -> dict[str, Any]:
        perf = self.performance
        out: dict[str, Any] = {
            "deployment": self.resolved.to_dict(),
            "concurrency": perf.concurrency,
            "concurrency_basis": self.concurrency_basis,
            "max_concurrency_that_fits": self.feasibility.max_concurrency,
            "feasibility": self.feasibility.to_dict(),
            "replica": perf.to_dict(),
            "output_tokens_per_s_per_gpu": perf.output_tokens_per_s / self.gpus,
            "usd_per_gpu_hour": None if self.gpu_hour is None else self.gpu_hour.usd_per_gpu_hour,
            "gpu_hour": None if self.gpu_hour is None else self.gpu_hour.to_dict(),
            "usd_per_million_output_tokens": self.usd_per_million_output_tokens,
            "usd_per_million_tokens": self.usd_per_million_tokens,
            "usd_per_query": self.usd_per_query,
            "efficiency": self.resolved.efficiency_dict(),
        }
        if self.fleet is not None:
            out["fleet"] = self.fleet.to_dict()
        if self.cost is not None:
            out["fleet_cost"] = self.cost.to_dict()
        if self.workload.traffic is not None:
            out["traffic"] = self.workload.traffic.to_dict()
        if self.resolved.uncalibrated:
            out["warnings"] = [self.resolved.uncalibrated]
        return out


def gpu_hour(r: Resolved, basis: CostBasis) -> GpuHourCost | None:
    """$ per accelerator-hour: the stated rent, the owner's cost, a what-if chip's own rent, or
    the newest catalog price."""
    stated = r.deployment.gpu.rent_usd_per_hour  # a what-if's own rent (price=)
    if basis.mode == "rent":
        price = basis.usd_per_gpu_hour if basis.usd_per_gpu_hour is not None else stated
        if price is None:
            raise InputError("usd_per_gpu_hour", "is required when renting")
        return rent(price)
    if basis.mode == "own":
        if r.server is None:
            raise InputError("server", f"no server in the catalog holds {r.deployment.gpu.id}")
        return own(r.server, owner_profiles().get(basis.owner_profile), basis.server_price_usd)
    if basis.usd_per_gpu_hour is not None:
        return rent(basis.usd_per_gpu_hour)
    if stated is not None:
        return rent(stated)
    points = prices_for(r.deployment.gpu.id)
    return rent(points[0].usd_per_gpu_hour) if points else None


def performance(
    r: Resolved, w: Workload, s: Serving, concurrency: float, stalls: float | None = None
) -> ReplicaPerformance:
    return replica_performance(
        r.deployment,
        concurrency,
        w.input_tokens,
        w.output_tokens,
        include_prefill=s.include_prefill,
        cached_fraction=w.cached_input_fraction,
        mixed_prefill=r.mixed_prefill,
        scheduler_steps=r.scheduler_steps,
        stalls=stalls,
        arrival_group=s.arrival_group,
    )


def choose_concurrency(r: Resolved, w: Workload, s: Serving) -> tuple[int, str]:
    """The concurrency per replica and why (see the module docstring)."""
    if s.concurrency is not None:
        return s.concurrency, "stated"
    ceiling = max_concurrency(r, w.input_tokens, w.output_tokens)
    basis = "engine cap" if every(ceiling == r.max_sequences) else "memory"
    target = s.target_interactivity_tokens_per_s
    if target is None:
        return maximum(ceiling, 1), basis
    scalar(ceiling)  # the search below takes one request shape at a time
    if ceiling < 1:
        return 1, basis
    lo, hi = 1, ceiling
    while lo < hi:  # largest concurrency whose per-user speed still meets the target
        mid = (lo + hi + 1) // 2
        fast = performance(r, w, s, mid).interactivity_tokens_per_s >= target
        lo, hi = (mid, hi) if fast else (lo, mid - 1)
    return lo, "speed target" if lo < ceiling else basis


def evaluate(
    r: Resolved,
    w: Workload,
    s: Serving | None = None,
    basis: CostBasis | None = None,
    calibration: CalibrationChoice = None,
    *,
    alternatives: bool = True,
) -> Evaluation:
    """Performance, feasibility, fleet and cost of `r` under `w` (see the module docstring).

    When `r` does not fit, `alternatives` searches the smallest layout that does (resolved
    with `calibration`); a caller that only predicts (validation's fit) skips the search.
    """
    s = s or Serving()
    concurrency, why = choose_concurrency(r, w, s)
    perf = performance(r, w, s, concurrency)
    target = s.target_interactivity_tokens_per_s
    if target:
        scalar(w.input_tokens, w.output_tokens, concurrency)
    slowest = performance(r, w, s, 1).interactivity_tokens_per_s if target else None
    feasible = _feasibility(r, w, concurrency, slowest, target)
    shapes = (w.input_tokens, w.output_tokens, concurrency)
    searched = feasible.binding in ("weights", "request", "kv") and not is_array(*shapes)
    if alternatives and not feasible.fits and searched:
        feasible = _with_layout(r, w, feasible, s.concurrency, calibration)
    rate = gpu_hour(r, basis or CostBasis())
    fleet = cost = None
    if w.traffic is not None and feasible.fits:
        fleet = size_fleet(
            w.traffic.capacity_queries_per_s, perf.requests_per_s, r.gpus, r.gpus_per_server
        )
        if rate is not None:
            cost = fleet_cost(r, w.traffic, perf, fleet, rate, basis or CostBasis())
    return Evaluation(r, w, perf, feasible, why, rate, fleet, cost)


def _feasibility(
    r: Resolved, w: Workload, concurrency: float, slowest: float | None, target: float | None
) -> Feasibility:
    """`check` for one request shape. For arrays of samples (a Monte Carlo), whether every
    sample fits: the hardest corner first (the longest prompt and answer and the most
    sequences, since a longer request or more sequences never fits better); when that corner
    does not fit, each distinct sample in turn, the first that fails giving the reason."""
    i, o = w.input_tokens, w.output_tokens
    if not is_array(i, o, concurrency):
        return check(r, i, o, concurrency, slowest, target)
    corner = check(r, largest(i), largest(o), largest(concurrency), slowest, target)
    if corner.fits:
        return corner
    shapes = np.column_stack([a.ravel() for a in np.broadcast_arrays(i, o, concurrency)])
    rows, which = np.unique(shapes, axis=0, return_inverse=True)
    found = [check(r, float(a), float(b), float(c), slowest, target) for a, b, c in rows]
    failed = np.asarray([not f.fits for f in found])
    if not failed.any():
        return Feasibility(True, None, "fits", corner.max_concurrency)
    first = found[int(np.argmax(failed))]
    share = f" (in {int(failed[which.ravel()].sum()):,} of {len(shapes):,} samples)"
    return Feasibility(False, first.binding, first.reason + share, first.max_concurrency)


def _with_layout(
    r: Resolved,
    w: Workload,
    feasible: Feasibility,
    concurrency: int | None,
    calibration: CalibrationChoice,
) -> Feasibility:
    layout = smallest_layout(r.config, w.input_tokens, w.output_tokens, concurrency, calibration)
    if layout is None and concurrency is not None:  # no layout holds that many: the weights
        layout = smallest_layout(r.config, w.input_tokens, w.output_tokens, None, calibration)
    if layout is None or (layout.gpus == r.gpus and layout.pp == r.config.pp):
        return feasible
    found = describe_layout(layout)
    return Feasibility(
        False,
        feasible.binding,
        feasible.reason,
        feasible.max_concurrency,
        (*feasible.alternatives, found),
    )


def fleet_cost(
    r: Resolved,
    traffic: Traffic,
    perf: ReplicaPerformance,
    fleet: FleetSize,
    rate: GpuHourCost,
    basis: CostBasis,
) -> FleetCost:
    """What the sized fleet costs, with power at the owner's draw and PUE (or defaults)."""
    return fleet_cost_of(r, traffic, fleet.gpus, perf.prefill_time_share, rate, basis)


def fleet_cost_of(
    r: Resolved,
    traffic: Traffic,
    gpus: float,
    prefill_time_share: float,
    rate: GpuHourCost,
    basis: CostBasis,
) -> FleetCost:
    """What `gpus` accelerators of `r` cost serving `traffic` (see `fleet_cost`)."""
    node = r.server
    watts = (
        node.power_w / node.accelerators_per_server
        if node is not None and node.power_w is not None
        else r.deployment.gpu.power_w
    )
    power, pue = POWER_UTILISATION, PUE
    if basis.mode == "own":
        profile = owner_profiles().get(basis.owner_profile)
        power, pue = profile.power_utilisation, profile.pue
    return FleetCost(
        gpus=gpus,
        rate=rate,
        queries_per_day=traffic.queries_per_day,
        input_tokens_per_day=traffic.input_tokens_per_day,
        output_tokens_per_day=traffic.output_tokens_per_day,
        prefill_time_share=prefill_time_share,
        watts_per_gpu=watts,
        power_utilisation=power,
        pue=pue,
    )


def at_rate(
    r: Resolved, w: Workload, rate_per_s: float, include_prefill: bool = True
) -> ReplicaPerformance:
    """A replica fed `rate_per_s` requests a second, with no queue.

    The concurrency is the fixed point of Little's law, N = rate × E2E(N). A user's decoding
    is stalled by the prompts that arrive while it decodes: rate × D of them over its
    decode time D = (O − 1) · TPOT, so D = (O − 1) · d / (1 − rate · S).
    """
    if not math.isfinite(rate_per_s) or not rate_per_s > 0:
        raise InputError("rate", f"must be a finite number > 0 requests/s, got {rate_per_s}")
    s = Serving(include_prefill=include_prefill)
    concurrency = 1.0
    for _ in range(100):
        base = performance(r, w, s, max(concurrency, 1.0))
        busy = rate_per_s * base.stall_s_per_prefill  # share of time others' prompts take
        if busy >= 1:
            break
        decoding = (w.output_tokens - 1) * base.decode_s_per_token / (1 - busy)
        perf = replace(base, stalls=rate_per_s * decoding)
        updated = rate_per_s * perf.e2e_s
        if abs(updated - concurrency) < 1e-3 * max(concurrency, 1.0):
            return perf
        if updated > r.max_sequences or not math.isfinite(updated):
            break
        concurrency = updated
    capacity = performance(r, w, s, max_concurrency(r, w.input_tokens, w.output_tokens))
    raise InputError(
        "rate",
        f"{rate_per_s:g} requests/s overloads one replica of {describe_layout(r.config)}; it "
        f"completes at most {capacity.requests_per_s:.3g} requests/s",
    )


@dataclass(frozen=True)
class ClosedLoop:
    """N users in a closed loop against a replica that runs at most B sequences at once.

    Each user sends its next request as soon as the last one finishes. With N ≤ B every
    request runs at once (the steady state at concurrency N). With N > B the replica runs B
    and the others queue for a slot. The replica completes X requests a second at B, so a
    request holds its slot B / X; by Little's law over the queue, N − B = X · W:

        W = (N − B) / X,      TTFT = W + TTFT_B,      throughput = the replica's at B

    (a request's first token waits for the slot; TPOT is the batch's, B in flight).
    """

    users: float
    served: ReplicaPerformance  # the replica at min(N, B)

    @property
    def queue_wait_s(self) -> float:
        waiting = max(self.users - self.served.concurrency, 0.0)
        return waiting / self.served.requests_per_s

    @property
    def ttft_s(self) -> float:
        return self.queue_wait_s + self.served.ttft_s

    @property
    def tpot_s(self) -> float:
        return self.served.tpot_s

    @property
    def output_tokens_per_s(self) -> float:
        return self.served.output_tokens_per_s


def closed_loop(r: Resolved, w: Workload, users: float, s: Serving | None = None) -> ClosedLoop:
    """`users` in a closed loop against `r`, whose batch cap is `r.max_sequences` (or what
    its KV cache holds, if fewer): see `ClosedLoop`."""
    if not math.isfinite(users) or users < 1:
        raise InputError("concurrency", f"must be a finite number ≥ 1, got {users}")
    s = s or Serving()
    cap = max(max_concurrency(r, w.input_tokens, w.output_tokens), 1)
    return ClosedLoop(users, performance(r, w, s, min(users, cap)))


def highest_rate(
    r: Resolved,
    w: Workload,
    constraints: tuple[tuple[str, float, float], ...],
    include_prefill: bool = True,
    relative_tolerance: float = 1e-3,
) -> tuple[float, ReplicaPerformance]:
    """The largest Poisson request rate at which `at_rate`'s TTFT, TPOT and E2E meet every
    (metric, percentile, seconds) constraint (MLPerf Server), and the replica there.

    The model predicts means; a percentile bound is checked against the mean, so the rate
    is an upper bound on what the benchmark's percentile allows. Bisection on the rate,
    between one request per E2E at batch 1 and the replica's capacity.
    """
    if not constraints:
        raise InputError("latency_constraints", "MLPerf Server needs latency constraints")
    for metric, _, _ in constraints:
        if metric not in ("ttft", "tpot", "e2e"):
            raise InputError("latency_constraints", f"cannot check {metric!r}: ttft, tpot, e2e")

    def meets(rate: float) -> ReplicaPerformance | None:
        try:
            perf = at_rate(r, w, rate, include_prefill)
        except InputError:
            return None
        values = {"ttft": perf.ttft_s, "tpot": perf.tpot_s, "e2e": perf.e2e_s}
        return perf if all(values[m] <= limit for m, _, limit in constraints) else None

    cap = max(max_concurrency(r, w.input_tokens, w.output_tokens), 1)
    hi = performance(r, w, Serving(include_prefill=include_prefill), cap).requests_per_s
    lo = hi * 1e-6
    best = meets(lo)
    if best is None:
        raise InputError("latency_constraints", "no request rate meets the constraints")
    while hi - lo > relative_tolerance * lo:
        mid = (lo + hi) / 2
        found = meets(mid)
        lo, hi, best = (mid, hi, found) if found is not None else (lo, mid, best)
    return lo, best
