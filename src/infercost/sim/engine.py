"""Simulate a serving fleet request by request: replicas behind a router.

`simulate()` takes one deployment (a replica's model, accelerators and efficiencies), the
requests (arrival times and token counts) and the fleet (how many replicas, which router,
the scheduler's limits) and returns per-request `Records` plus per-replica statistics:
busy fraction, time-averaged queue length and KV use, and the distribution of batch sizes.
The loop itself is in `kernel.py`; step times come from `steps.py`.

A replica of `pp` pipeline stages keeps `pp` micro-batches in flight, each passing through
every stage in turn: it is simulated as `pp` lanes, each with 1/pp of the replica's
sequences and KV cache and a step that is one whole pass (all stages), so the replica makes
`pp` passes' worth of tokens in the time of one. Records name the replica, not the lane.
A single request is then limited to one lane's share of the cache.

A fleet of thousands of replicas is simulated through a representative subset: with
round-robin or least-outstanding routing every replica sees the same statistical load, so
`k` replicas fed `k/N` of the traffic give the fleet's latency distribution (tested against
a full simulation).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from infercost.catalog.engines import engine
from infercost.errors import InputError
from infercost.evaluate.config import Resolved
from infercost.limits import (
    MAX_BUDGET_TOKENS,
    MAX_REPLICAS,
    MAX_REQUESTS,
    MAX_SCHEDULER_STEPS,
    MAX_SIM_SEQUENCES,
    MAX_SLOTS,
)
from infercost.perf.deployment import Deployment
from infercost.perf.memory import memory_plan
from infercost.records import Records, Slo, summarise
from infercost.sim import kernel
from infercost.sim.steps import step_table

ROUTERS = {"round-robin": kernel.ROUND_ROBIN, "least-outstanding": kernel.LEAST_OUTSTANDING}


@dataclass(frozen=True)
class Fleet:
    replicas: int = 1
    router: str = "round-robin"
    max_seqs: int = field(default_factory=lambda: engine(None).max_sequences)  # engines.yaml
    cached_fraction: float = 0.0  # share of each prompt served by a prefix cache
    scheduler_steps: int = 1  # vLLM --num-scheduler-steps: steps planned at once
    mixed_prefill: bool = True  # prompt chunks ride with decodes (vLLM V1); False: apart

    @classmethod
    def of(
        cls,
        r: Resolved,
        replicas: int = 1,
        router: str = "round-robin",
        cached_fraction: float = 0.0,
    ) -> Fleet:
        """`replicas` copies of a resolved configuration, scheduled as its engine does."""
        return cls(
            replicas=replicas,
            router=router,
            max_seqs=r.max_sequences,
            cached_fraction=cached_fraction,
            scheduler_steps=r.scheduler_steps,
            mixed_prefill=r.mixed_prefill,
        )

    def check(self) -> None:
        if not 1 <= self.replicas <= MAX_REPLICAS:
            raise InputError("replicas", f"must be in [1, {MAX_REPLICAS:,}], got {self.replicas:,}")
        if self.router not in ROUTERS:
            raise InputError(
                "router", f"unknown router {self.router!r}; allowed: {', '.join(ROUTERS)}"
            )
        if not 1 <= self.max_seqs <= MAX_SIM_SEQUENCES:
            raise InputError(
                "max_seqs", f"must be in [1, {MAX_SIM_SEQUENCES:,}], got {self.max_seqs:,}"
            )
        if self.replicas * self.max_seqs > MAX_SLOTS:
            raise InputError(
                "replicas",
                f"replicas × max_seqs must be ≤ {MAX_SLOTS:,}, got "
                f"{self.replicas * self.max_seqs:,}",
            )
        if not 1 <= self.scheduler_steps <= MAX_SCHEDULER_STEPS:
            raise InputError(
                "scheduler_steps",
                f"must be in [1, {MAX_SCHEDULER_STEPS}], got {self.scheduler_steps}",
            )
        if not 0 <= self.cached_fraction < 1:
            raise InputError("cached_fraction", f"must be in [0, 1), got {self.cached_fraction}")


@dataclass(frozen=True)
class SimResult:
    records: Records
    replica_stats: dict[str, Any]
    itl_counts: NDArray[np.float64]
    kv_capacity_tokens: int

    def summary(self, slos: list[Slo] | None = None) -> dict[str, Any]:
        out = summarise(self.records, slos)
        out["itl_s"] = _itl(self.itl_counts)
        out.update(self.replica_stats)
        return out


def simulate(
    dep: Deployment,
    arrival_s: NDArray[np.float64],
    input_tokens: NDArray[np.int64],
    output_tokens: NDArray[np.int64],
    fleet: Fleet | None = None,
    progress: Callable[[int, int], None] | None = None,
    chunks: int = 50,
    kv_transfer_s: NDArray[np.float64] | None = None,
) -> SimResult:
    """Run the requests through the fleet (see the module docstring).

    With `kv_transfer_s` the fleet is a disaggregated deployment's decode pool: each prompt
    was prefilled elsewhere and its KV takes that long to arrive once a replica has room for
    it (see `kernel`); the first token a request's record shows is its landing."""
    fleet = fleet or Fleet()
    fleet.check()
    n = len(arrival_s)
    if n == 0 or len(input_tokens) != n or len(output_tokens) != n:
        raise InputError("requests", "need one prompt and output length per arrival, at least one")
    if n > MAX_REQUESTS:
        raise InputError("requests", f"must be ≤ {MAX_REQUESTS:,}, got {n:,}")
    order = np.argsort(arrival_s, kind="stable")
    arrival = np.ascontiguousarray(arrival_s[order], dtype=np.float64)
    prompt = np.ascontiguousarray(input_tokens[order], dtype=np.int64)
    output = np.ascontiguousarray(np.maximum(output_tokens[order], 1), dtype=np.int64)
    decode_only = kv_transfer_s is not None
    if decode_only:  # the whole prompt's KV arrives: a prefix cache saved the prefill pool
        prefill = np.maximum(prompt, 1)
        transfer = np.ascontiguousarray(np.asarray(kv_transfer_s)[order], dtype=np.float64)
        if len(transfer) != n or not np.all(np.isfinite(transfer) & (transfer >= 0)):
            raise InputError("kv_transfer_s", "need one finite, non-negative time per request")
    else:
        fresh = np.ceil(prompt * (1.0 - fleet.cached_fraction)).astype(np.int64)
        prefill = np.maximum(fresh, 1)
        transfer = np.zeros(n)
    budget = dep.efficiency.max_batched_tokens
    if budget > MAX_BUDGET_TOKENS:
        raise InputError(
            "max_batched_tokens", f"the simulator takes at most {MAX_BUDGET_TOKENS:,} a step"
        )
    plan = memory_plan(dep)
    if not plan.fits:
        raise InputError("gpu", f"{dep.model.id} does not fit on {dep.gpus}× {dep.gpu.id}")
    pp = dep.parallelism.pp
    lanes, lane_seqs = fleet.replicas * pp, max(fleet.max_seqs // pp, 1)
    table = step_table(dep, budget + lane_seqs)
    kv_cap = int(plan.kv_capacity_tokens) // pp
    watermark = plan.watermark_tokens // pp
    s = kernel.empty_state(n, lanes, lane_seqs)
    s["finish"][prefill + output > max(kv_cap - 1 - watermark, 0)] = kernel.NEVER_FITS
    ints = np.zeros(kernel.N_INTS, dtype=np.int64)
    ints[kernel.KV_CAP] = kv_cap
    ints[kernel.MAX_SEQS] = lane_seqs
    ints[kernel.BUDGET] = budget
    ints[kernel.GROUP_STEPS] = fleet.scheduler_steps
    ints[kernel.MIXED] = int(fleet.mixed_prefill)
    ints[kernel.WATERMARK] = watermark
    ints[kernel.DECODE_ONLY] = int(decode_only)
    floats = table.params()
    shared = (s["ri"], s["rf"], s["dec"], s["pre"], s["land"], s["land_at"], s["batch_time"],
              s["itl"], s["nxt"], arrival)  # fmt: skip
    tables = (table.matmul_s, table.weights_s, table.comm_s)
    step = max(n // max(chunks, 1), 1)
    for start in range(0, n, step):
        stop = min(start + step, n)
        kernel.route(
            start, stop, ROUTERS[fleet.router], lanes, s["rr"], *shared, prefill,
            output, s["remaining_out"], s["first_token"], s["finish"], s["preempted"],
            s["replica"], transfer, ints, floats, *tables,
        )  # fmt: skip
        if progress:
            progress(stop, n)
    kernel.drain(
        lanes, *shared, prefill, s["remaining_out"], s["first_token"], s["finish"],
        s["preempted"], transfer, ints, floats, *tables,
    )  # fmt: skip
    errors = np.full(n, "", dtype=object)  # one shared empty string: 8 bytes a request
    errors[s["finish"] == kernel.NEVER_FITS] = "exceeds the KV cache"
    records = Records(
        arrival_s=arrival,
        first_token_s=s["first_token"],
        finish_s=s["finish"],
        input_tokens=prompt,
        output_tokens=output,
        replica=s["replica"] // pp,
        preemptions=s["preempted"],
        error=errors,
    )
    stats = _replica_stats(s, records, s["replica"], kv_cap)
    stats["replicas"] = fleet.replicas
    return SimResult(records, stats, s["itl"], kv_cap * pp)


def _replica_stats(
    s: dict[str, np.ndarray], records: Records, lane: NDArray[np.int64], kv_cap: int
) -> dict[str, Any]:
    """Time averages over each lane's span (a replica's, when pp = 1): first arrival to its
    last completion."""
    rf, ri = s["rf"], s["ri"]
    replicas = len(rf)
    last = np.full(replicas, records.arrival_s.min())
    np.maximum.at(last, lane, records.finish_s)
    span = np.maximum(last - records.arrival_s.min(), 1e-12)
    busy_s, queue_s, kv_s = rf[:, kernel.BUSY], rf[:, kernel.QUEUE_T], rf[:, kernel.KV_T]
    batch = s["batch_time"].sum(axis=0)
    busy = busy_s.sum()
    sizes = np.arange(len(batch))
    mean_batch = float((batch * sizes).sum() / busy) if busy > 0 else 0.0
    in_system = (queue_s + (s["batch_time"] * sizes).sum(axis=1)) / span
    return {
        "replicas": replicas,
        "mean_in_system": float(in_system.sum()),  # time-averaged, from the engine's clock
        "busy_fraction": float((busy_s / span).mean()),
        "mean_queue_length": float((queue_s / span).mean()),
        "kv_utilisation": float((kv_s / span).mean() / kv_cap),
        "mean_batch_size": mean_batch,
        "batch_size_p50_p90_p99": _weighted_percentiles(sizes, batch, (50, 90, 99)),
        "engine_steps": int(ri[:, kernel.STEPS].sum()),
    }


def _weighted_percentiles(
    values: np.ndarray, weights: np.ndarray, points: tuple[int, ...]
) -> list[float]:
    total = weights.sum()
    if total <= 0:
        return [0.0 for _ in points]
    cumulative = np.cumsum(weights) / total
    last = len(values) - 1
    return [float(values[min(int(np.searchsorted(cumulative, p / 100)), last)]) for p in points]


def _itl(counts: NDArray[np.float64]) -> dict[str, float | None]:
    """Inter-token latency percentiles from the step-time histogram (bin centres)."""
    total = counts.sum()
    if total <= 0:
        return {"p50": None, "p90": None, "p99": None, "mean": None}
    edges = kernel.itl_bin_edges()
    centres = np.sqrt(edges[:-1] * edges[1:])
    cumulative = np.cumsum(counts) / total
    pick = {
        p: float(centres[min(np.searchsorted(cumulative, p / 100), len(centres) - 1)])
        for p in (50, 90, 99)
    }
    return {
        "p50": pick[50],
        "p90": pick[90],
        "p99": pick[99],
        "mean": float((centres * counts).sum() / total),
    }
