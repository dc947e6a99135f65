"""A planned fleet under uncertain inputs: `plan --samples N`.

The plan answers once, at the point inputs. To see how far that answer moves, the chosen
configuration (model, accelerator, layout, precisions and batch cap) is held and each
sample's traffic, lengths and price go through the screen that sized it
(`screen.size_config`): the replicas that meet the targets at that traffic, their $ a month
and per 1M tokens, and the predicted latency percentiles. These are the screen's analytic
predictions (the plan verifies its answer by simulation once; samples are not simulated). A
sample at which no replica count meets the targets has no fleet: its figures are infinite,
and a quantile beyond the share of such samples is infinite too (null in JSON).

What a sample may change:

    rate_per_s            the traffic at its peak (the average is rate ÷ peak-to-average)
    input_scale,          every request of the plan's stream scaled by it (the lengths'
    output_scale          shape kept), rounded to whole tokens; the demand is read again
                          from them (about 0.1 s a sample: the stall spread is re-drawn)
    cached_fraction       the prefix-cache hit ratio
    usd_per_gpu_hour      the chosen accelerator's rental price
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from infercost.evaluate.config import CalibrationChoice, resolve
from infercost.evaluate.pipeline import CostBasis
from infercost.planning.curve import Demand
from infercost.planning.predict import target_quantiles
from infercost.planning.screen import Sized, size_config
from infercost.planning.targets import Targets
from infercost.planning.uncertainty import Array
from infercost.workload.requests import Requests

QUANTITIES = (
    "rate_per_s",
    "input_scale",
    "output_scale",
    "cached_fraction",
    "usd_per_gpu_hour",
)


@dataclass(frozen=True)
class Planned:
    """The plan's answer and what it was asked: the fleet a sample re-sizes."""

    sized: Sized
    demand: Demand
    requests: Requests
    targets: Targets
    basis: CostBasis
    router: str
    peak_to_average: float
    calibration: CalibrationChoice

    def figures(self, values: dict[str, Array]) -> dict[str, Array]:
        """The fleet's figures for each sample of `values` (keys from `QUANTITIES`; a key
        left out stays at the plan's value)."""
        n = len(next(iter(values.values()))) if values else 1
        r = resolve(self.sized.config, self.calibration)  # the cap held: config's max_sequences
        rows = [self._one(r, {k: float(v[i]) for k, v in values.items()}) for i in range(n)]
        keys = rows[0].keys()
        return {k: np.asarray([row[k] for row in rows], dtype=np.float64) for k in keys}

    def _one(self, r: Any, sample: dict[str, float]) -> dict[str, float]:
        demand = self._demand(sample)
        price = sample.get("usd_per_gpu_hour")
        basis = self.basis if price is None else CostBasis("catalog", price)
        fleet = size_config(r, (self.sized.cap,), demand, self.targets, basis, self.router)
        if not isinstance(fleet, Sized):
            return dict.fromkeys(self.figure_names(), math.inf)
        return self._figures_of(fleet)

    def _demand(self, sample: dict[str, float]) -> Demand:
        d = self.demand
        rate = sample.get("rate_per_s", d.rate_per_s)
        scales = (sample.get("input_scale", 1.0), sample.get("output_scale", 1.0))
        cached = sample.get("cached_fraction", d.cached_fraction)
        if scales == (1.0, 1.0) and cached == d.cached_fraction:
            return replace(d, rate_per_s=rate, average_rate_per_s=rate / self.peak_to_average)
        reqs = self.requests
        percentiles = tuple(d.input_quantiles)
        return Demand.of(
            rate,
            np.rint(reqs.input_tokens * scales[0]).astype(np.int64),
            np.maximum(np.rint(reqs.output_tokens * scales[1]), 1).astype(np.int64),
            d.ca2,
            percentiles,
            cached,
            average_rate_per_s=rate / self.peak_to_average,
            quantiles=target_quantiles(self.targets),
        )

    def figure_names(self) -> list[str]:
        return list(self._figures_of(self.sized))

    def _figures_of(self, s: Sized) -> dict[str, float]:
        cost = s.priced
        out = {
            "replicas": float(s.replicas),
            "gpus": float(s.gpus),
            "usd_per_month": _number(s.usd_per_month),
            "usd_per_day": _number(None if cost is None else cost.usd_per_day),
            "usd_per_query": _number(None if cost is None else cost.usd_per_query),
            "usd_per_million_output_tokens": _number(
                None if cost is None else cost.usd_per_million_output_tokens
            ),
            "usd_per_million_tokens": _number(
                None if cost is None else cost.usd_per_million_tokens
            ),
            "energy_wh_per_query": s.cost.energy_wh_per_query,
            "utilisation": s.utilisation,
            "predicted_headroom": s.headroom,
        }
        out.update({f"{name}_s": value for name, value in s.predicted.items()})
        return out


def _number(value: float | None) -> float:
    return math.nan if value is None else value
