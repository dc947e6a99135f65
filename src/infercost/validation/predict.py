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
  group), then is prefilled in one step alongside the running decodes;
- offline (MLPerf Offline): every query at once, so the engine runs its largest batch:
  continuous batching at the batch the engine reaches;
- server (MLPerf Server): Poisson arrivals at the highest rate at which the row's latency
  constraints hold (`evaluate.highest_rate`); the figure is the throughput at that rate.

A closed loop of more users than the engine batches (a stated concurrency above the batch
cap) queues for slots: TTFT gains the wait (`evaluate.closed_loop`). Speculative decoding
and expert balance come from the row (`Case.spec_*`, `Case.expert_balance`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from infercost.errors import InputError
from infercost.evaluate.config import Config, Resolved, rebase, resolve, stated
from infercost.evaluate.feasibility import check
from infercost.evaluate.pipeline import (
    Evaluation,
    Serving,
    Workload,
    at_rate,
    closed_loop,
    evaluate,
    highest_rate,
    performance,
)
from infercost.limits import MAX_SEQUENCES
from infercost.perf.deployment import Deployment, Efficiency
from infercost.perf.replica import (
    ReplicaPerformance,
    prefill_seconds_per_token,
    replica_curve,
)
from infercost.perf.step import prefill_step, verify_step
from infercost.validation.mapping import Case


@dataclass(frozen=True)
class Prediction:
    value: float
    batch: float
    bound: str

    def to_dict(self) -> dict[str, Any]:
        return {"predicted": self.value, "batch": self.batch, "bound": self.bound}


def config(case: Case) -> Config:
    """The case's replica as the pipeline's configuration.

    The requests a finite run makes available cap the batch, as the engine's scheduler does.
    """
    cap = min(case.engine.max_sequences * case.dp_attention, MAX_SEQUENCES)
    if math.isfinite(case.max_requests):
        cap = max(min(cap, int(case.max_requests)), 1)
    factors = stated(
        max_batched_tokens=case.max_batched_tokens,
        comm_overlap=case.comm_overlap or None,
    )
    return Config(
        model=case.model.id,
        gpu=case.gpu.id,
        tp=case.tp,
        pp=case.pp,
        dp_attention=case.dp_attention,
        ep=case.ep,
        weight_precision=case.weights,
        kv_precision=case.kv,
        engine=case.engine.id,
        max_sequences=cap,
        scheduler_steps=case.scheduler_steps,
        mixed_prefill=case.mixed_prefill,
        efficiency=factors,
        expert_balance=case.expert_balance,
        spec_method=case.spec_method,
        spec_draft_tokens=case.spec_draft_tokens if case.spec_method else 0,
        spec_acceptance_length=case.spec_acceptance_length,
        spec_acceptance_rate=case.spec_acceptance_rate,
    )


def resolved(case: Case, efficiency: Efficiency) -> Resolved:
    """The case's replica, resolved over `efficiency` (the factors being fitted)."""
    return resolve(config(case), None, base=efficiency)


def deployment(case: Case, efficiency: Efficiency) -> Deployment:
    return resolved(case, efficiency).deployment


def check_fits(case: Case) -> None:
    """Raise `InputError` when the weights leave no room for one request's KV."""
    r = resolved(case, Efficiency())
    feasible = check(r, case.input_tokens, case.output_tokens)
    if not feasible.fits:
        raise InputError("gpu", feasible.reason)


def predict(case: Case, efficiency: Efficiency) -> Prediction:
    """The row's metric, in the row's unit."""
    return _predict(case, resolved(case, efficiency))


def predictor(case: Case) -> Callable[[Efficiency], Prediction]:
    """`predict` of one row over many efficiencies (a fit's trial factors): the row's replica
    is resolved once, and each call changes only its efficiency."""
    try:
        template = resolved(case, Efficiency())
    except (InputError, ValueError):  # raised again, call by call, as `predict` would
        return lambda efficiency: predict(case, efficiency)
    # Its steps' FLOPs and bytes don't depend on the factors: computed once, then remembered.
    steps = replace(template.deployment, step_memo={})
    template = replace(template, deployment=steps)
    return lambda efficiency: _predict(case, rebase(template, efficiency))


def _predict(case: Case, r: Resolved) -> Prediction:
    if case.mode == "static":
        return _static(case, r.deployment)
    if case.mode == "single":
        return _single(case, r.deployment)
    if case.mode == "rate":
        return _rate(case, r)
    if case.mode == "server":
        return _server(case, r)
    return _continuous(case, r)


def _context(case: Case) -> float:
    return case.input_tokens + case.output_tokens / 2


def _static(case: Case, dep: Deployment) -> Prediction:
    batch = case.batch or 1.0
    prefill = prefill_step(dep, batch, case.input_tokens)
    decode = verify_step(dep, batch, _context(case))
    per_token = decode.total_s / dep.speculation.acceptance_length
    total = prefill.total_s + (case.output_tokens - 1) * per_token
    values = {
        "output_tok_s": batch * case.output_tokens / total * case.scale,
        "requests_s": batch / total * case.scale,
        "prefill_tok_s": batch * case.input_tokens / prefill.total_s * case.scale,
        "ttft_ms": prefill.total_s * 1e3,
        "tpot_ms": per_token * 1e3,
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
    step = verify_step(dep, 1, _context(case))
    per_token = step.total_s / dep.speculation.acceptance_length
    value = per_token * 1e3 if case.target == "tpot_ms" else 1.0 / per_token
    return Prediction(value, 1.0, step.bound)


def _workload(case: Case) -> Workload:
    return Workload(case.input_tokens, case.output_tokens, case.cached_fraction)


def _evaluation(case: Case, r: Resolved, concurrency: int | None = None) -> Evaluation:
    """The steady state at the batch the engine reaches (memory, scheduler, requests, speed)."""
    batch = concurrency if concurrency is not None else case.batch
    serving = Serving(
        None if batch is None else max(round(batch), 1),
        case.target_interactivity,
        case.include_prefill,
        case.arrival_group,
    )
    e = evaluate(r, _workload(case), serving, alternatives=False)
    if e.feasibility.binding in ("weights", "request"):
        raise InputError("gpu", e.feasibility.reason)
    return e


def _perf(case: Case, r: Resolved, concurrency: float) -> ReplicaPerformance:
    serving = Serving(include_prefill=case.include_prefill, arrival_group=case.arrival_group)
    return performance(r, _workload(case), serving, concurrency)


def _continuous(case: Case, r: Resolved) -> Prediction:
    dep = r.deployment
    if case.target == "prefill_tok_s":
        fresh = case.input_tokens * (1 - case.cached_fraction)
        per_token = prefill_seconds_per_token(dep, fresh, case.input_tokens - fresh)
        # Throughput counts every prompt token, cache hits included (as DeepSeek does).
        value = case.input_tokens / fresh / per_token * case.scale
        return Prediction(value, float(dep.efficiency.max_batched_tokens), "compute")
    cap = case.engine_cap or r.max_sequences  # a stated cap (a server's slots) wins
    if case.batch is not None and case.mode == "continuous" and case.batch > cap:
        return _queued(case, r)
    e = _evaluation(case, r)
    perf = e.performance
    batch = perf.concurrency
    output_tok_s = _finite_run(case, r, batch) if math.isfinite(case.max_requests) else None
    if output_tok_s is None:
        output_tok_s = perf.output_tokens_per_s
    values = {
        "output_tok_s": output_tok_s * case.scale,
        "requests_s": output_tok_s / case.output_tokens * case.scale,
        "ttft_ms": perf.ttft_s * 1e3,
        "tpot_ms": perf.tpot_s * 1e3,
    }
    return Prediction(values[case.target], batch, perf.decode.bound)


def _queued(case: Case, r: Resolved) -> Prediction:
    """A closed loop of more users than the engine batches: TTFT becomes queueing."""
    serving = Serving(include_prefill=case.include_prefill, arrival_group=case.arrival_group)
    loop = closed_loop(r, _workload(case), case.batch or 1.0, serving)
    values = {
        "output_tok_s": loop.output_tokens_per_s * case.scale,
        "requests_s": loop.output_tokens_per_s / case.output_tokens * case.scale,
        "ttft_ms": loop.ttft_s * 1e3,
        "tpot_ms": loop.tpot_s * 1e3,
    }
    return Prediction(values[case.target], loop.served.concurrency, loop.served.decode.bound)


def _server(case: Case, r: Resolved) -> Prediction:
    """MLPerf Server: the throughput at the highest rate meeting the row's constraints."""
    constraints = tuple(
        (metric.removesuffix("_s").removesuffix("_ms"), pct, limit)
        for metric, pct, limit in case.latency_constraints
    )
    rate, perf = highest_rate(r, _workload(case), constraints, case.include_prefill)
    values = {
        "output_tok_s": rate * case.output_tokens * case.scale,
        "requests_s": rate * case.scale,
        "ttft_ms": perf.ttft_s * 1e3,
        "tpot_ms": perf.tpot_s * 1e3,
    }
    if case.target not in values:
        raise InputError("metric", f"{case.metric} is not predicted for MLPerf Server")
    return Prediction(values[case.target], perf.concurrency, perf.decode.bound)


def _finite_run(case: Case, r: Resolved, batch: float) -> float:
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
        time = out * full * _perf(case, r, batch).replica_s_per_token
        if rest >= 1:
            time += out * _perf(case, r, rest).replica_s_per_token
        return float(n * out / time)
    start = min(n, batch)
    sizes = np.geomspace(1.0, start, num=10)
    curve = replica_curve(
        r.deployment,
        [batch, *sizes.tolist()],
        case.input_tokens,
        out,
        include_prefill=case.include_prefill,
        cached_fraction=case.cached_fraction,
    )
    steady = max(n - start, 0.0) * out / curve[0].output_tokens_per_s
    tpots = np.array([p.replica_s_per_token for p in curve[1:]])
    horizon = min(out * math.log(2 * start), case.max_output_tokens)
    steps = np.arange(0.0, horizon)
    alive = np.maximum(start * np.exp(-steps / out), 1.0)
    drain = float(np.interp(np.log(alive), np.log(sizes), tpots).sum())
    return float(n * out / (steady + drain))


def _rate(case: Case, r: Resolved) -> Prediction:
    """Poisson arrivals at the row's rate, which is the whole system's: each of its
    `replicas` replicas receives rate ÷ replicas, and `scale` takes one replica's throughput
    to the row's unit."""
    rate = (case.request_rate or 0.0) / case.replicas
    perf = at_rate(r, _workload(case), rate, case.include_prefill)
    values = {
        "ttft_ms": perf.ttft_s * 1e3,
        "tpot_ms": perf.tpot_s * 1e3,
        "output_tok_s": rate * case.output_tokens * case.scale,
        "requests_s": rate * case.scale,
    }
    if case.target not in values:
        raise InputError("metric", f"{case.metric} is not predicted at a fixed request rate")
    return Prediction(values[case.target], perf.concurrency, perf.decode.bound)
