"""Pareto frontiers: throughput per GPU against tok/s per user, and $/1M tokens against it.

Every configuration the screen could run (whatever the targets) is read at concurrencies
from 1 to its KV ceiling, closed loop (N always in flight), as AIConfigurator and
InferenceX draw theirs:

    output tok/s per GPU  = output tok/s of the replica at N / its GPUs
    interactivity         = 1 / TPOT at N  (tok/s per user)
    $ per 1M output tokens = $/GPU-hour / (tok/s per GPU × 3,600) × 1e6   (busy, all cost on
                             output tokens)

A point is on its accelerator's frontier when no other point of that accelerator is at least
as good on both axes and better on one. For one accelerator at one price the two frontiers
hold the same points; across accelerators prices differ, so each point also says whether it
is on its model's $/1M-tokens frontier over every accelerator.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from infercost.cost.fleet import MILLION, usd_per_unit
from infercost.evaluate.config import Config, Resolved
from infercost.evaluate.pipeline import gpu_hour
from infercost.planning.curve import Curve
from infercost.planning.screen import Screened, layout_dict
from infercost.planning.space import Pricing

POINTS_PER_CONFIG = 16  # concurrencies read from each curve, geometric from 1 to the ceiling


@dataclass(frozen=True)
class FrontierPoint:
    config: Config
    concurrency: int
    output_tokens_per_s_per_gpu: float
    interactivity_tokens_per_s: float
    ttft_s: float
    usd_per_gpu_hour: float | None
    usd_per_million_output_tokens: float | None
    on_cost_frontier: bool  # on the frontier of $/1M against interactivity, all accelerators

    def to_dict(self) -> dict[str, Any]:
        out = layout_dict(self.config)
        out.pop("max_seqs")
        return {
            **out,
            "concurrency": self.concurrency,
            "output_tokens_per_s_per_gpu": self.output_tokens_per_s_per_gpu,
            "interactivity_tokens_per_s": self.interactivity_tokens_per_s,
            "ttft_s": self.ttft_s,
            "usd_per_gpu_hour": self.usd_per_gpu_hour,
            "usd_per_million_output_tokens": self.usd_per_million_output_tokens,
            "on_cost_frontier": self.on_cost_frontier,
        }


def frontier(screened: Screened, pricing: Pricing) -> tuple[FrontierPoint, ...]:
    """The frontier of each model on each accelerator (see the module docstring), by model
    and accelerator, then interactivity descending."""
    profiles: list[tuple[Resolved, Curve]] = [(s.resolved, s.curve) for s in screened.sized]
    profiles += [(x.resolved, x.curve) for x in screened.rejected if x.resolved and x.curve]
    by_gpu: dict[tuple[str, str], list[FrontierPoint]] = {}
    for r, curve in profiles:
        rate = gpu_hour(r, pricing.basis(r.config.gpu))
        price = None if rate is None else rate.usd_per_gpu_hour
        by_gpu.setdefault((r.config.model, r.config.gpu), []).extend(_points(r, curve, price))
    out: list[FrontierPoint] = []
    for key in sorted(by_gpu):
        out += _pareto(by_gpu[key])
    cheapest = {id(p) for m in {k[0] for k in by_gpu} for p in _cost_pareto(out, m)}
    return tuple(replace(p, on_cost_frontier=id(p) in cheapest) for p in out)


def _points(r: Resolved, curve: Curve, price: float | None) -> list[FrontierPoint]:
    ceiling = len(curve.tpot_s)
    ns = np.unique(np.geomspace(1, ceiling, POINTS_PER_CONFIG).round().astype(np.int64))
    gpus = r.config.gpus
    out = []
    for n in ns.tolist():
        per_gpu = float(curve.output_tokens_per_s[n - 1]) / gpus
        out.append(
            FrontierPoint(
                config=r.config,
                concurrency=n,
                output_tokens_per_s_per_gpu=per_gpu,
                interactivity_tokens_per_s=1.0 / float(curve.tpot_s[n - 1]),
                ttft_s=float(curve.wait_s[n - 1] + curve.own_prefill_s[n - 1]),
                usd_per_gpu_hour=price,
                usd_per_million_output_tokens=usd_per_unit(price, per_gpu, MILLION),
                on_cost_frontier=False,
            )
        )
    return out


def _pareto(points: list[FrontierPoint]) -> list[FrontierPoint]:
    """Points no other beats on throughput per GPU and interactivity together."""
    ranked = sorted(
        points, key=lambda p: (-p.interactivity_tokens_per_s, -p.output_tokens_per_s_per_gpu)
    )
    out: list[FrontierPoint] = []
    best = -1.0
    for p in ranked:
        if p.output_tokens_per_s_per_gpu > best:
            out.append(p)
            best = p.output_tokens_per_s_per_gpu
    return out


def _cost_pareto(points: list[FrontierPoint], model: str) -> list[FrontierPoint]:
    """Points of `model` no other beats on $/1M output tokens and interactivity together."""
    priced = [
        p for p in points if p.usd_per_million_output_tokens is not None and p.config.model == model
    ]
    ranked = sorted(
        priced,
        key=lambda p: (-p.interactivity_tokens_per_s, p.usd_per_million_output_tokens or 0.0),
    )
    out: list[FrontierPoint] = []
    best = float("inf")
    for p in ranked:
        cost = p.usd_per_million_output_tokens or 0.0
        if cost < best:
            out.append(p)
            best = cost
    return out
