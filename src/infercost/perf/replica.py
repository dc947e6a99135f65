"""Throughput and interactivity of one replica serving requests at a concurrency.

Steady-state continuous batching. `concurrency` sequences decode together (split into `pp`
micro-batches so that every pipeline stage is busy); a request's prompt is prefilled in
chunks that ride along with the decode steps. Per request of `input` prompt tokens and
`output` generated tokens:

    decode step  d = step(micro-batch = concurrency / pp, context = input + output / 2)
    prefill cost p = seconds per prompt token at a full token budget × input
    TPOT           = d + concurrency · p / output    (each step also carries its share of
                                                      the prefills that keep the batch full)
    throughput     = concurrency / TPOT output tokens per second
    interactivity  = 1 / TPOT tokens per second per user

The mean context of a sequence over its life is input + output / 2. Time to first token at
low load is one prefill of the prompt on an idle replica.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from infercost.errors import InputError
from infercost.perf.deployment import Deployment
from infercost.perf.memory import MemoryPlan, memory_plan
from infercost.perf.step import StepTime, decode_step, prefill_step


@dataclass(frozen=True)
class ReplicaPerformance:
    concurrency: float
    input_tokens: float
    output_tokens: float
    decode: StepTime
    prefill_s_per_request: float
    ttft_s: float
    memory: MemoryPlan
    pp: int
    includes_prefill: bool = True

    @property
    def tpot_s(self) -> float:
        return (
            self.decode.total_s + self.concurrency * self.prefill_s_per_request / self.output_tokens
        )

    @property
    def output_tokens_per_s(self) -> float:
        return self.concurrency / self.tpot_s

    @property
    def requests_per_s(self) -> float:
        return self.output_tokens_per_s / self.output_tokens

    @property
    def input_tokens_per_s(self) -> float:
        return self.requests_per_s * self.input_tokens

    @property
    def interactivity_tokens_per_s(self) -> float:
        return 1.0 / self.tpot_s

    @property
    def e2e_s(self) -> float:
        return self.ttft_s + (self.output_tokens - 1) * self.tpot_s

    @property
    def prefill_time_share(self) -> float:
        """Fraction of the replica's time spent on prefill work."""
        return self.concurrency * self.prefill_s_per_request / self.output_tokens / self.tpot_s

    @property
    def fits(self) -> bool:
        """Whether the KV cache holds `concurrency` sequences at their mean context."""
        mean_context = self.input_tokens + self.output_tokens / 2
        return self.concurrency <= self.memory.max_sequences(mean_context)

    def to_dict(self) -> dict[str, Any]:
        return {
            "concurrency": self.concurrency,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "tpot_s": self.tpot_s,
            "ttft_s": self.ttft_s,
            "e2e_s": self.e2e_s,
            "output_tokens_per_s": self.output_tokens_per_s,
            "requests_per_s": self.requests_per_s,
            "interactivity_tokens_per_s": self.interactivity_tokens_per_s,
            "prefill_time_share": self.prefill_time_share,
            "fits_in_memory": self.fits,
            "decode_step": self.decode.to_dict(),
            "memory": self.memory.to_dict(),
        }


def prefill_seconds_per_token(
    dep: Deployment, prompt_tokens: float, cached_tokens: float = 0.0
) -> float:
    """Prefill time per prompt token when prompts fill the engine's token budget.

    A prompt longer than the budget is prefilled in chunks; a chunk sees on average half of
    the rest of the prompt as cached context. Pipeline stages work on different chunks at
    once, so the time per token is a pass divided by `pp`.
    """
    par = dep.parallelism
    budget = float(dep.efficiency.max_batched_tokens)
    chunk = min(prompt_tokens, budget)
    prompts = budget / chunk * par.dp_attention
    cached = cached_tokens + max(prompt_tokens - chunk, 0.0) / 2
    step = prefill_step(dep, prompts, chunk, cached)
    return step.total_s / (prompts * chunk) / par.pp


def check_request(input_tokens: float, output_tokens: float, concurrency: float) -> None:
    if not input_tokens >= 0:
        raise InputError("input_tokens", f"must be ≥ 0, got {input_tokens}")
    if not output_tokens >= 1:
        raise InputError("output_tokens", f"must be ≥ 1, got {output_tokens}")
    if not concurrency >= 1:
        raise InputError("concurrency", f"must be ≥ 1, got {concurrency}")


def replica_performance(
    dep: Deployment,
    concurrency: float,
    input_tokens: float,
    output_tokens: float,
    *,
    include_prefill: bool = True,
    cached_fraction: float = 0.0,
) -> ReplicaPerformance:
    """Steady-state performance of one replica (see the module docstring).

    `include_prefill=False` models a decode-only replica of a disaggregated deployment;
    `cached_fraction` of each prompt comes from a prefix cache and costs no prefill compute.
    """
    return replica_curve(
        dep,
        [concurrency],
        input_tokens,
        output_tokens,
        include_prefill=include_prefill,
        cached_fraction=cached_fraction,
    )[0]


def replica_curve(
    dep: Deployment,
    concurrencies: Sequence[float],
    input_tokens: float,
    output_tokens: float,
    *,
    include_prefill: bool = True,
    cached_fraction: float = 0.0,
) -> list[ReplicaPerformance]:
    """`replica_performance` at several concurrencies; the prefill cost is computed once."""
    for concurrency in concurrencies:
        check_request(input_tokens, output_tokens, concurrency)
    pp = dep.parallelism.pp
    context = input_tokens + output_tokens / 2
    fresh = input_tokens * (1.0 - cached_fraction)
    prefill_tok = prefill_seconds_per_token(dep, fresh, input_tokens - fresh) if fresh else 0.0
    plan = memory_plan(dep)
    ttft: float | None = None
    if fresh:
        ttft = prefill_step(dep, 1, fresh, input_tokens - fresh).total_s
    out = []
    for concurrency in concurrencies:
        decode = decode_step(dep, max(concurrency / pp, 1.0), context)
        out.append(
            ReplicaPerformance(
                concurrency=concurrency,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                decode=decode,
                prefill_s_per_request=prefill_tok * fresh if include_prefill else 0.0,
                ttft_s=decode.total_s if ttft is None else ttft,
                memory=plan,
                pp=pp,
                includes_prefill=include_prefill,
            )
        )
    return out


def max_concurrency(
    dep: Deployment, input_tokens: float, output_tokens: float, cap: int = 1024
) -> int:
    """The largest concurrency whose KV fits at the mean context (at most `cap`)."""
    plan = memory_plan(dep)
    return min(plan.max_sequences(input_tokens + output_tokens / 2), cap)
