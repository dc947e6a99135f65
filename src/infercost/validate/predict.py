"""Predict a mapped row's metric with the performance model.

How the engine batched decides the computation:

- static: the whole batch is prefilled in one step, then decodes in lockstep
  (`throughput = batch · output / (prefill + (output − 1) · decode step)`);
- continuous: steady-state in-flight batching at the batch the engine reaches: the most
  sequences the KV cache holds at their mean context, capped by the engine's scheduler and
  the requests available, or lowered to meet a stated per-user speed;
- single: one sequence (decode speed, or a batch-1 prompt);
- rate: Poisson arrivals at a request rate; the concurrency follows from Little's law and a
  new prompt waits on average half a scheduling round (one step, or vLLM's multi-step
  group), then is prefilled in one step alongside the running decodes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from infercost.errors import InputError
from infercost.perf.deployment import Deployment, Efficiency, build
from infercost.perf.memory import memory_plan
from infercost.perf.replica import (
    ReplicaPerformance,
    prefill_seconds_per_token,
    replica_curve,
    replica_performance,
)
from infercost.perf.step import decode_step, prefill_step
from infercost.validate.mapping import Case


@dataclass(frozen=True)
class Prediction:
    value: float
    batch: float
    bound: str

    def to_dict(self) -> dict[str, Any]:
        return {"predicted": self.value, "batch": self.batch, "bound": self.bound}


def deployment(case: Case, efficiency: Efficiency) -> Deployment:
    """The case's replica with the engine's settings layered over `efficiency`."""
    eff = replace(
        efficiency,
        memory_reserve_fraction=case.engine.memory_reserve_fraction,
        max_batched_tokens=case.max_batched_tokens or case.engine.max_batched_tokens,
        comm_overlap=max(efficiency.comm_overlap, case.comm_overlap),
    )
    return build(
        case.model,
        case.gpu,
        tp=case.tp,
        pp=case.pp,
        dp_attention=case.dp_attention,
        ep=case.ep,
        precision_name=case.weights,
        kv_precision_name=case.kv,
        efficiency=eff,
    )


def check_fits(case: Case) -> None:
    """Raise `InputError` when the weights leave no room for one sequence's KV."""
    dep = deployment(case, Efficiency())
    plan = memory_plan(dep)
    context = case.input_tokens + case.output_tokens
    if plan.max_sequences(context) < 1:
        where = f"{case.replica_gpus} × {case.gpu.id}"
        raise InputError("gpu", f"{case.model.id} in {case.weights} does not fit on {where}")


def predict(case: Case, efficiency: Efficiency) -> Prediction:
    """The row's metric, in the row's unit."""
    dep = deployment(case, efficiency)
    if case.mode == "static":
        return _static(case, dep)
    if case.mode == "single":
        return _single(case, dep)
    if case.mode == "rate":
        return _rate(case, dep)
    return _continuous(case, dep)


def _context(case: Case) -> float:
    return case.input_tokens + case.output_tokens / 2


def _static(case: Case, dep: Deployment) -> Prediction:
    batch = case.batch or 1.0
    prefill = prefill_step(dep, batch, case.input_tokens)
    decode = decode_step(dep, batch, _context(case))
    total = prefill.total_s + (case.output_tokens - 1) * decode.total_s
    values = {
        "output_tok_s": batch * case.output_tokens / total * case.scale,
        "requests_s": batch / total * case.scale,
        "prefill_tok_s": batch * case.input_tokens / prefill.total_s * case.scale,
        "ttft_ms": prefill.total_s * 1e3,
        "tpot_ms": decode.total_s * 1e3,
    }
    bound = prefill.bound if case.target in ("ttft_ms", "prefill_tok_s") else decode.bound
    return Prediction(values[case.target], batch, bound)


def _single(case: Case, dep: Deployment) -> Prediction:
    if case.target in ("prefill_tok_s", "ttft_ms"):
        step = prefill_step(dep, 1, case.input_tokens)
        if case.target == "prefill_tok_s":
            return Prediction(case.input_tokens / step.total_s, 1.0, step.bound)
        return Prediction(step.total_s * 1e3, 1.0, step.bound)
    if case.target == "requests_s":
        return _static(case, dep)
    step = decode_step(dep, 1, _context(case))
    value = step.total_s * 1e3 if case.target == "tpot_ms" else 1.0 / step.total_s
    return Prediction(value, 1.0, step.bound)


def _engine_batch(case: Case, dep: Deployment) -> float:
    """The concurrency a max-load run settles at (memory, scheduler, request count, SLO)."""
    if case.batch is not None:
        return case.batch
    plan = memory_plan(dep)
    fits = plan.max_sequences(_context(case))
    batch = float(min(fits, case.engine.max_sequences * dep.parallelism.dp_attention))
    batch = min(batch, case.max_requests)
    if batch < 1:
        raise InputError("gpu", f"{case.model.id} leaves no KV room on {case.gpu.id}")
    target = case.target_interactivity
    if target:
        lo, hi = 1, int(batch)
        while lo < hi:  # largest concurrency that still meets the per-user speed
            mid = (lo + hi + 1) // 2
            fast = _perf(case, dep, mid).interactivity_tokens_per_s >= target
            lo, hi = (mid, hi) if fast else (lo, mid - 1)
        batch = float(lo)
    return batch


def _perf(case: Case, dep: Deployment, concurrency: float) -> ReplicaPerformance:
    return replica_performance(
        dep,
        concurrency,
        case.input_tokens,
        case.output_tokens,
        include_prefill=case.include_prefill,
        cached_fraction=case.cached_fraction,
    )


def _continuous(case: Case, dep: Deployment) -> Prediction:
    if case.target == "prefill_tok_s":
        fresh = case.input_tokens * (1 - case.cached_fraction)
        per_token = prefill_seconds_per_token(dep, fresh, case.input_tokens - fresh)
        # Throughput counts every prompt token, cache hits included (as DeepSeek does).
        value = case.input_tokens / fresh / per_token * case.scale
        return Prediction(value, float(dep.efficiency.max_batched_tokens), "compute")
    batch = _engine_batch(case, dep)
    perf = _perf(case, dep, batch)
    output_tok_s = _finite_run(case, dep, batch) if math.isfinite(case.max_requests) else None
    if output_tok_s is None:
        output_tok_s = perf.output_tokens_per_s
    values = {
        "output_tok_s": output_tok_s * case.scale,
        "requests_s": output_tok_s / case.output_tokens * case.scale,
        "ttft_ms": perf.ttft_s * 1e3,
        "tpot_ms": perf.tpot_s * 1e3,
    }
    return Prediction(values[case.target], batch, perf.decode.bound)


def _finite_run(case: Case, dep: Deployment, batch: float) -> float:
    """Output tokens/s of a run of `max_requests` requests sent at once.

    Fixed lengths: requests run in waves of `batch` (the last one smaller). Variable lengths
    (exponential with the stated mean, as chat datasets roughly are): the batch stays full
    while requests wait, then drains; with memoryless lengths the `batch` requests left at
    the end each still have the mean to go, and the alive count decays as e^(−k/mean) over
    the k-th token step, so the tail runs at ever smaller, less efficient batches.
    """
    n, out = case.max_requests, case.output_tokens
    if case.output_distribution == "fixed":
        full, rest = divmod(n, batch)
        time = out * full * _perf(case, dep, batch).tpot_s
        if rest >= 1:
            time += out * _perf(case, dep, rest).tpot_s
        return float(n * out / time)
    start = min(n, batch)
    sizes = np.geomspace(1.0, start, num=10)
    curve = replica_curve(
        dep,
        [batch, *sizes.tolist()],
        case.input_tokens,
        out,
        include_prefill=case.include_prefill,
        cached_fraction=case.cached_fraction,
    )
    steady = max(n - start, 0.0) * out / curve[0].output_tokens_per_s
    tpots = np.array([p.tpot_s for p in curve[1:]])
    horizon = min(out * math.log(2 * start), case.max_output_tokens)
    steps = np.arange(0.0, horizon)
    alive = np.maximum(start * np.exp(-steps / out), 1.0)
    drain = float(np.interp(np.log(alive), np.log(sizes), tpots).sum())
    return float(n * out / (steady + drain))


def _rate(case: Case, dep: Deployment) -> Prediction:
    rate = case.request_rate or 0.0
    concurrency = 1.0
    ttft = tpot = 0.0
    for _ in range(50):  # fixed point of Little's law: N = λ · (TTFT + (out − 1) · TPOT)
        perf = _perf(case, dep, max(concurrency, 1.0))
        decode = perf.decode.total_s
        prefill = prefill_step(dep, 1, case.input_tokens).total_s
        wait = case.scheduler_steps * decode / 2  # the running multi-step batch finishes
        ttft = wait + prefill + max(decode - dep.efficiency.step_overhead_s, 0.0)
        tpot = perf.tpot_s
        updated = rate * (ttft + (case.output_tokens - 1) * tpot)
        if abs(updated - concurrency) < 1e-3 * max(concurrency, 1.0):
            break
        concurrency = 0.5 * (concurrency + updated)
    if not math.isfinite(concurrency):
        raise InputError("request_rate", f"{rate} req/s overloads the replica")
    values = {
        "ttft_ms": ttft * 1e3,
        "tpot_ms": tpot * 1e3,
        "output_tok_s": rate * case.output_tokens * case.scale,
        "requests_s": rate * case.scale,
    }
    if case.target not in values:
        raise InputError("metric", f"{case.metric} is not predicted at a fixed request rate")
    return Prediction(values[case.target], concurrency, "memory")
