"""Does a configuration work for a request shape and a concurrency, and if not, what does?

One answer for every verb. A replica works when

    weights     its accelerators hold the weights, activations and the engine's reserve
                with room to spare for KV cache;
    request     the KV cache holds one whole request (prompt + output) with the engine's
                1 % watermark free, or the request can never be served;
    kv          `concurrency` sequences at their mean context (prompt + output / 2) fit;
    sequences   the engine runs that many sequences at once (its batch cap);
    speed       with a per-user speed target, one sequence at least decodes that fast.

The first limit that fails is the binding one. The nearest feasible alternatives are the
most sequences that fit, and the smallest tensor-then-pipeline-parallel layout (fewest
accelerators) on which the same question has an answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infercost.elementwise import minimum
from infercost.errors import InputError
from infercost.evaluate.config import CalibrationChoice, Config, Resolved, resolve
from infercost.perf.deployment import tensor_parallel_sizes
from infercost.perf.memory import kv_bytes_for_context, memory_plan
from infercost.units import GB

MAX_PIPELINE = 16


@dataclass(frozen=True)
class Feasibility:
    fits: bool
    binding: str | None  # weights | request | kv | sequences | speed; None when it fits
    reason: str
    max_concurrency: int  # most sequences at the mean context, the engine's cap included
    alternatives: tuple[str, ...] = ()

    def require(self, field: str = "concurrency") -> None:
        """Raise `InputError` naming the binding limit and the nearest alternatives."""
        if self.fits:
            return
        nearest = f"; nearest that fit: {', '.join(self.alternatives)}" if self.alternatives else ""
        raise InputError(field, f"{self.reason}{nearest}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "fits": self.fits,
            "binding": self.binding,
            "reason": self.reason,
            "max_concurrency": self.max_concurrency,
            "alternatives": list(self.alternatives),
        }


def max_concurrency(r: Resolved, input_tokens: float, output_tokens: float) -> int:
    """The most sequences at their mean context the KV cache holds, at most the engine's cap."""
    plan = memory_plan(r.deployment)
    return minimum(plan.max_sequences(input_tokens + output_tokens / 2), r.max_sequences)


def check(
    r: Resolved,
    input_tokens: float,
    output_tokens: float,
    concurrency: float | None = None,
    slowest_tokens_per_s: float | None = None,
    target_tokens_per_s: float | None = None,
) -> Feasibility:
    """The binding limit of `r` for this request shape (see the module docstring)."""
    dep = r.deployment
    plan = memory_plan(dep)
    where = f"{dep.gpus} × {dep.gpu.id}"
    ceiling = max_concurrency(r, input_tokens, output_tokens)
    if not plan.fits:
        need = plan.weights_bytes + plan.activations_bytes + plan.reserve_bytes
        return Feasibility(
            False,
            "weights",
            f"{dep.model.id} in {dep.weights.name} needs {need / GB:,.1f} GB per accelerator "
            f"(weights {plan.weights_bytes / GB:,.1f} GB) on {where} of "
            f"{plan.capacity_bytes / GB:,.0f} GB",
            0,
        )
    whole = input_tokens + output_tokens
    if not plan.holds_request(whole):
        need = kv_bytes_for_context(dep.model, dep.kv, whole) / GB
        return Feasibility(
            False,
            "request",
            f"one request of {whole:,.0f} tokens needs {need:,.2f} GB of KV cache; {where} "
            f"holds {int(plan.kv_capacity_tokens):,} tokens",
            0,
        )
    if concurrency is not None and concurrency > ceiling and ceiling < r.max_sequences:
        context = input_tokens + output_tokens / 2
        need = concurrency * kv_bytes_for_context(dep.model, dep.kv, context) / GB
        return Feasibility(
            False,
            "kv",
            f"{concurrency:,.0f} sequences of {context:,.0f} tokens need {need:,.1f} GB of KV "
            f"cache; {where} holds {ceiling:,} of them",
            ceiling,
            (f"concurrency ≤ {ceiling:,}",),
        )
    if concurrency is not None and concurrency > r.max_sequences:
        return Feasibility(
            False,
            "sequences",
            f"{r.engine.id} runs at most {r.max_sequences:,} sequences per replica, "
            f"not {concurrency:,.0f}",
            ceiling,
            (f"concurrency ≤ {ceiling:,}", f"max_sequences ≥ {concurrency:,.0f}"),
        )
    slow = slowest_tokens_per_s
    if target_tokens_per_s is not None and slow is not None and slow < target_tokens_per_s:
        return Feasibility(
            False,
            "speed",
            f"one sequence alone decodes at {slow:,.1f} tokens/s on {where}, below the "
            f"target of {target_tokens_per_s:,.1f}",
            ceiling,
        )
    return Feasibility(True, None, "fits", ceiling)


def smallest_layout(
    config: Config,
    input_tokens: float,
    output_tokens: float,
    concurrency: float | None,
    calibration: CalibrationChoice = None,
) -> Config | None:
    """The layout with the fewest accelerators (tensor first, then pipeline parallel within
    one server's accelerators) that holds the weights and the requests; None if none does."""
    arch_config = resolve(config.with_(tp=1, pp=1, dp_attention=1, ep=1), calibration)
    arch = arch_config.deployment.model
    node = arch_config.gpus_per_server
    sizes = tensor_parallel_sizes(arch)
    widest = max(t for t in sizes if t <= node)
    layouts = [(tp, 1) for tp in sizes if tp <= node]
    layouts += [(widest, pp) for pp in range(2, min(MAX_PIPELINE, arch.num_layers) + 1)]
    for tp, pp in layouts:
        candidate = config.with_(tp=tp, pp=pp, dp_attention=1, ep=1)
        feasible = check(resolve(candidate, calibration), input_tokens, output_tokens, concurrency)
        if feasible.fits:
            return candidate
    return None


def describe_layout(config: Config) -> str:
    layout = f"tp {config.tp}" + (f" × pp {config.pp}" if config.pp > 1 else "")
    return f"{layout} ({config.gpus} GPUs)"
