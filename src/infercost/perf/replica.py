"""Throughput and latency of one replica serving requests at a concurrency.

Steady-state continuous batching. `concurrency` = N sequences are in flight (split into `pp`
micro-batches so that every pipeline stage is busy); each request has I prompt tokens and O
output tokens, and its prompt is prefilled once. Per request:

    d     = decode step(micro-batch = N / pp, context = I + O / 2)
    P     = replica time one prompt's prefill takes when prompts fill the token budget
    replica time per output token = d + N · P / O     (each step also carries its share
                                                       of the prefills that keep it full)
    output throughput = N / (d + N · P / O)

What one user sees is not the replica's average: its own prefill is in its time to first
token, and only the other N − 1 users' prefills stall its decoding:

    TTFT = wait + own prefill      the running step (or multi-step group) ends first, on
                                   average half of it; the prompt is then prefilled in
                                   chunks of the token budget, each riding in one step with
                                   the others' decodes (a chunked-prefill engine), or alone
                                   while they wait (an engine that runs prefill apart)
    TPOT = d + (N − 1) · S / (O − 1)
           S, the stall one other prompt causes: its prefill step when prefill runs apart
           (the decodes wait for it; prompts arrive one at a time); for a chunked-prefill
           engine, what its chunks add to the steps they ride in (the decodes advance in
           those steps too)
    E2E  = TTFT + (O − 1) · TPOT
    interactivity = 1 / TPOT tokens per second per user

The mean context of a sequence over its life is I + O / 2. A decode-only replica (the decode
pool of a disaggregated deployment) does no prefill: P = 0.

Users who arrive one at a time are the steady state above. Requests can also arrive in
groups of G that are prefilled together: a closed loop whose N requests all ask for the same
output length finishes them in the same step, and all N come back at once (G = N, the
lockstep every load tester with fixed lengths falls into). Then a user's prompt is prefilled
beside the G − 1 others of its group (and the N − G that are decoding), its first token
waits for all of them, and only the N / G − 1 other groups stall its decoding:

    TTFT = wait + prefill of G prompts together     (no wait when G = N: nothing runs)
    TPOT = d + (N / G − 1) · S_G / (O − 1)          S_G, the stall one group's prefill causes

Throughput is the same either way: every prompt is prefilled once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from infercost.elementwise import branch, ceil, every, finite, maximum, minimum
from infercost.errors import InputError
from infercost.limits import MAX_TOKENS
from infercost.perf.deployment import Deployment
from infercost.perf.memory import MemoryPlan, memory_plan
from infercost.perf.step import Part, StepTime, mixed_step, prefill_step, verify_step


@dataclass(frozen=True)
class ReplicaPerformance:
    concurrency: float
    input_tokens: float
    output_tokens: float
    decode: StepTime
    prefill_s_per_request: float  # P: replica time of one prompt's prefill at the budget
    memory: MemoryPlan
    deployment: Deployment
    cached_tokens: float = 0.0  # of each prompt, from a prefix cache
    includes_prefill: bool = True
    mixed_prefill: bool = True
    scheduler_steps: int = 1
    stalls: float | None = None  # others' prefills during one user's decoding (None: N − 1)
    arrival_group: float = 1.0  # G: prompts that arrive, and are prefilled, together

    @property
    def pp(self) -> int:
        return self.deployment.parallelism.pp

    @property
    def fresh_tokens(self) -> float:
        return self.input_tokens - self.cached_tokens

    @property
    def group(self) -> float:
        """G, at least 1 and at most N."""
        return minimum(maximum(self.arrival_group, 1.0), maximum(self.concurrency, 1.0))

    @cached_property
    def _prefill_in_steps(self) -> tuple[float, float]:
        """(a user's own prefill, the stall one other user's prefill causes), computed when
        a latency is asked for: throughput needs neither."""
        dep, fresh, cached = self.deployment, self.fresh_tokens, self.cached_tokens
        context = self.input_tokens + self.output_tokens / 2
        group = self.group
        decoding = maximum(self.concurrency - group, 0.0)  # running while the group prefills
        if not branch(fresh != 0):
            return self.decode.total_s, 0.0
        if not self.includes_prefill:  # decode pool: the first token came from prefill's
            return prefill_step(dep, 1, fresh, cached).total_s, 0.0
        own, added = _mixed_prefill(
            dep, fresh, cached, decoding, context, self.mixed_prefill, prompts=group
        )
        return own, added if branch(decoding > 0) else group * self.prefill_s_per_request

    @property
    def own_prefill_s(self) -> float:
        """A user's own prefill, as its first token waits for it."""
        return self._prefill_in_steps[0]

    @property
    def stall_s_per_prefill(self) -> float:
        """How much one other user's prefill delays a user that decodes."""
        return self._prefill_in_steps[1]

    @property
    def wait_s(self) -> float:
        """Someone else's step is running when a prompt arrives (certainly so once a user
        outside its group is in flight): it waits for half of it, or half of a multi-step
        group."""
        others = maximum(self.concurrency - self.group, 0.0)
        return minimum(others, 1.0) * self.scheduler_steps * self.decode.total_s / 2

    @property
    def others(self) -> float:
        """Other prefills that land while one user decodes: with N always in flight, all
        N − 1 others prefill once per cycle, between this user's own prefills (in groups of
        G, the N / G − 1 other groups)."""
        if self.stalls is not None:
            return self.stalls
        return maximum(self.concurrency / self.group - 1.0, 0.0)

    @property
    def tokens_per_step(self) -> float:
        """τ: tokens one sequence emits per decode step (1 without speculative decoding)."""
        return self.deployment.speculation.acceptance_length

    @property
    def decode_s_per_token(self) -> float:
        """d: a decode (or verify) step's time per token it emits for each sequence."""
        return self.decode.total_s / self.tokens_per_step

    @property
    def replica_s_per_token(self) -> float:
        """Replica time per output token of one sequence, every prefill included."""
        return (
            self.decode_s_per_token
            + self.concurrency * self.prefill_s_per_request / self.output_tokens
        )

    @property
    def output_tokens_per_s(self) -> float:
        return self.concurrency / self.replica_s_per_token

    @property
    def requests_per_s(self) -> float:
        return self.output_tokens_per_s / self.output_tokens

    @property
    def input_tokens_per_s(self) -> float:
        return self.requests_per_s * self.input_tokens

    @property
    def ttft_s(self) -> float:
        return self.wait_s + self.own_prefill_s

    @property
    def tpot_s(self) -> float:
        """A user's time per output token: only the others' prefills stall its decoding."""
        stall = self.others * self.stall_s_per_prefill / maximum(self.output_tokens - 1.0, 1.0)
        return self.decode_s_per_token + stall

    @property
    def interactivity_tokens_per_s(self) -> float:
        return 1.0 / self.tpot_s

    @property
    def e2e_s(self) -> float:
        return self.ttft_s + (self.output_tokens - 1) * self.tpot_s

    @property
    def prefill_time_share(self) -> float:
        """Fraction of the replica's time spent on prefill work."""
        prefill = self.concurrency * self.prefill_s_per_request / self.output_tokens
        return prefill / self.replica_s_per_token

    def to_dict(self) -> dict[str, Any]:
        return {
            "concurrency": self.concurrency,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "ttft_s": self.ttft_s,
            "tpot_s": self.tpot_s,
            "e2e_s": self.e2e_s,
            "interactivity_tokens_per_s": self.interactivity_tokens_per_s,
            "output_tokens_per_s": self.output_tokens_per_s,
            "requests_per_s": self.requests_per_s,
            "prefill_time_share": self.prefill_time_share,
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
    chunk = minimum(prompt_tokens, budget)
    prompts = budget / chunk * par.dp_attention
    cached = cached_tokens + maximum(prompt_tokens - chunk, 0.0) / 2
    step = prefill_step(dep, prompts, chunk, cached)
    return step.total_s / (prompts * chunk) / par.pp


def _mixed_prefill(
    dep: Deployment,
    fresh_tokens: float,
    cached_tokens: float,
    decoding: float,
    context_tokens: float,
    mixed: bool,
    prompts: float = 1.0,
) -> tuple[float, float]:
    """How long `prompts` prompts that arrived together keep their first tokens waiting,
    and how much their prefill adds to the steps of the `decoding` running sequences.

    An engine that runs prefill apart prefills them in one step on their own. A
    chunked-prefill engine cuts them into chunks of what the token budget leaves after the
    `decoding` sequences' tokens, each chunk in one step beside those decodes (a chunk sees
    on average half of the rest of its prompt as cached context).
    """
    if not mixed or not branch(decoding > 0):
        alone = prefill_step(dep, prompts, fresh_tokens, cached_tokens).total_s
        return alone, alone
    local = decoding / dep.parallelism.pp
    room = maximum(dep.efficiency.max_batched_tokens - local, 1.0)
    chunks = ceil(prompts * fresh_tokens / room)
    chunk = fresh_tokens / chunks
    past = cached_tokens + (fresh_tokens - chunk) / 2
    parts = (Part(local, context_tokens, 1.0), Part(prompts, past, chunk))
    step = mixed_step(dep, parts).total_s
    without = mixed_step(dep, parts[:1]).total_s  # the same decodes in a step of their own
    return chunks * step, chunks * maximum(step - without, 0.0)


def check_request(input_tokens: float, output_tokens: float, concurrency: float) -> None:
    if not every((input_tokens >= 0) & (input_tokens <= MAX_TOKENS)):
        raise InputError("input_tokens", f"must be in [0, {MAX_TOKENS:,}], got {input_tokens}")
    if not every((output_tokens >= 1) & (output_tokens <= MAX_TOKENS)):
        raise InputError("output_tokens", f"must be in [1, {MAX_TOKENS:,}], got {output_tokens}")
    if not every(finite(concurrency) & (concurrency >= 1)):
        raise InputError("concurrency", f"must be a finite number ≥ 1, got {concurrency}")


def replica_performance(
    dep: Deployment,
    concurrency: float,
    input_tokens: float,
    output_tokens: float,
    *,
    include_prefill: bool = True,
    cached_fraction: float = 0.0,
    mixed_prefill: bool = True,
    scheduler_steps: int = 1,
    stalls: float | None = None,
    arrival_group: float = 1.0,
) -> ReplicaPerformance:
    """Steady-state performance of one replica (see the module docstring).

    `include_prefill=False` models a decode-only replica of a disaggregated deployment;
    `cached_fraction` of each prompt comes from a prefix cache and costs no prefill compute;
    `mixed_prefill` says whether prompt chunks ride with decodes (vLLM V1, TensorRT-LLM,
    llama.cpp) or run apart (SGLang's default, vLLM before V1); `scheduler_steps` > 1 is
    vLLM's multi-step scheduling, where a new request waits for the running group.
    `stalls` replaces N − 1 as the number of other prefills during one user's decoding
    (requests arriving at a rate rather than N always in flight: see `evaluate.at_rate`);
    `arrival_group` is G, the prompts that arrive together (see the module docstring).
    """
    perf = replica_curve(
        dep,
        [concurrency],
        input_tokens,
        output_tokens,
        include_prefill=include_prefill,
        cached_fraction=cached_fraction,
        mixed_prefill=mixed_prefill,
        scheduler_steps=scheduler_steps,
    )[0]
    return replace(perf, stalls=stalls, arrival_group=arrival_group)


def replica_curve(
    dep: Deployment,
    concurrencies: Sequence[float],
    input_tokens: float,
    output_tokens: float,
    *,
    include_prefill: bool = True,
    cached_fraction: float = 0.0,
    mixed_prefill: bool = True,
    scheduler_steps: int = 1,
) -> list[ReplicaPerformance]:
    """`replica_performance` at several concurrencies; the prefill cost is computed once."""
    for concurrency in concurrencies:
        check_request(input_tokens, output_tokens, concurrency)
    pp = dep.parallelism.pp
    context = input_tokens + output_tokens / 2
    fresh = input_tokens * (1.0 - cached_fraction)
    cached = input_tokens - fresh
    prefill_tok = prefill_seconds_per_token(dep, fresh, cached) if branch(fresh != 0) else 0.0
    plan = memory_plan(dep)
    return [
        ReplicaPerformance(
            concurrency=concurrency,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            decode=verify_step(dep, maximum(concurrency / pp, 1.0), context),
            prefill_s_per_request=prefill_tok * fresh if include_prefill else 0.0,
            memory=plan,
            deployment=dep,
            cached_tokens=cached,
            includes_prefill=include_prefill,
            mixed_prefill=mixed_prefill,
            scheduler_steps=scheduler_steps,
        )
        for concurrency in concurrencies
    ]
