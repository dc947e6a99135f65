"""A configuration's performance at every concurrency, and the demand it is read against.

`make_curve` asks the perf model once (`perf.replica.replica_curve`, at `CURVE_POINTS`
concurrencies from 1 to the KV ceiling, geometric) and reads it at every n = 1…ceiling:
a closed-loop replica's TPOT, one decode step alone, its own prefill, the wait for a running
step, E2E, and the completion rate μ(n) = n / E2E(n) as Σ ln μ(k), which is what the
occupancy law (`queueing.occupancy`) needs. `Demand` is the traffic: its rate, burstiness,
and the moments and quantiles of its lengths, from the plan's own sample of requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from infercost.evaluate.config import Resolved
from infercost.perf.replica import replica_curve
from infercost.planning.queueing import StallSpread, stall_spread
from infercost.workload.traffic import Traffic

Array = NDArray[np.float64]
CURVE_POINTS = 8  # concurrencies the perf model is asked at, geometric from 1 to the ceiling
DECODE_LIMITS = {
    "memory": "decode bandwidth",
    "compute": "decode compute",
    "communication": "interconnect",
    "overhead": "step overhead",
}


@dataclass(frozen=True)
class Demand:
    """The traffic a plan serves: its rate, burstiness and the lengths' moments."""

    rate_per_s: float
    input_mean: float
    output_mean: float
    ca2: float  # squared coefficient of variation of the interarrival times
    input_cv2: float
    output_cv2: float
    cached_fraction: float = 0.0
    average_rate_per_s: float | None = None  # what the cost is spread over (None: the rate)
    input_quantiles: dict[float, float] = field(default_factory=dict)
    output_quantiles: dict[float, float] = field(default_factory=dict)
    spread: StallSpread = field(default_factory=lambda: StallSpread({}))

    def input_at(self, p: float) -> float:
        return self.input_quantiles.get(p, self.input_mean)

    def output_at(self, p: float) -> float:
        return self.output_quantiles.get(p, self.output_mean)

    @property
    def traffic(self) -> Traffic:
        return Traffic(
            self.average_rate_per_s or self.rate_per_s,
            self.input_mean,
            self.output_mean,
            cached_input_fraction=self.cached_fraction,
        )

    @classmethod
    def of(
        cls,
        rate_per_s: float,
        input_tokens: NDArray[np.int64],
        output_tokens: NDArray[np.int64],
        ca2: float,
        percentiles: tuple[float, ...],
        cached_fraction: float = 0.0,
        average_rate_per_s: float | None = None,
        quantiles: tuple[float, ...] = (),
    ) -> Demand:
        """The demand's moments from samples of its lengths; `quantiles` (in (0, 1)) are
        those the targets are read at, for the spread of the stalls a request sees."""
        ins, outs = input_tokens.astype(np.float64), output_tokens.astype(np.float64)
        return cls(
            rate_per_s=rate_per_s,
            input_mean=float(ins.mean()),
            output_mean=float(outs.mean()),
            ca2=ca2,
            input_cv2=_cv2(ins),
            output_cv2=_cv2(outs),
            cached_fraction=cached_fraction,
            average_rate_per_s=average_rate_per_s,
            input_quantiles={p: float(np.quantile(ins, p / 100)) for p in percentiles},
            output_quantiles={p: float(np.quantile(outs, p / 100)) for p in percentiles},
            spread=stall_spread(input_tokens, output_tokens, quantiles),
        )


def _cv2(x: Array) -> float:
    mean = float(x.mean())
    return float(x.var() / mean**2) if mean > 0 else 0.0


@dataclass(frozen=True)
class Curve:
    """One configuration's closed-loop performance at every concurrency 1…ceiling."""

    tpot_s: Array  # index n − 1
    decode_s: Array  # one decode step alone, index n − 1
    wait_s: Array
    own_prefill_s: Array
    e2e_s: Array
    log_mu_sum: Array  # index n: Σ_{k ≤ n} ln μ(k), from 0
    output_tokens_per_s: Array
    prefill_share: Array
    decode_bound: tuple[str, ...]  # index n − 1
    prefill_s: float  # replica time of one mean prompt's prefill
    context_tokens: float  # a sequence's mean context over its life

    def at(self, name: str, n: Array | float) -> Array:
        values: Array = getattr(self, name)
        index = np.clip(np.asarray(n, dtype=np.int64) - 1, 0, len(values) - 1)
        return np.asarray(values[index], dtype=np.float64)

    def completions_per_s(self, n: int) -> float:
        return n / float(self.e2e_s[n - 1])

    def decode_limit(self, n: float) -> str:
        bound = self.decode_bound[min(max(int(n), 1), len(self.decode_bound)) - 1]
        return DECODE_LIMITS.get(bound, f"decode {bound}")


def make_curve(r: Resolved, d: Demand, ceiling: int, include_prefill: bool = True) -> Curve:
    """The perf model at CURVE_POINTS concurrencies, read at every n = 1…ceiling
    (`include_prefill` False: a disaggregated deployment's decode pool)."""
    grid = np.unique(np.geomspace(1, ceiling, CURVE_POINTS).round())
    perf = replica_curve(
        r.deployment,
        [float(n) for n in grid],
        d.input_mean,
        d.output_mean,
        include_prefill=include_prefill,
        cached_fraction=d.cached_fraction,
        mixed_prefill=r.mixed_prefill,
        scheduler_steps=r.scheduler_steps,
    )
    n = np.arange(1, ceiling + 1, dtype=np.float64)

    def every(name: str) -> Array:
        values = np.asarray([getattr(p, name) for p in perf], dtype=np.float64)
        return np.asarray(np.interp(n, grid, values), dtype=np.float64)

    e2e = every("e2e_s")
    steps = np.asarray([p.decode.total_s for p in perf], dtype=np.float64)
    below = np.searchsorted(grid, n, side="right") - 1  # the grid point at or under each n
    at_grid = [p.decode.bound for p in perf]
    bounds = [at_grid[i] for i in below.tolist()]
    return Curve(
        tpot_s=every("tpot_s"),
        decode_s=np.asarray(np.interp(n, grid, steps), dtype=np.float64),
        wait_s=every("wait_s"),
        own_prefill_s=every("own_prefill_s"),
        e2e_s=e2e,
        log_mu_sum=np.concatenate([[0.0], np.cumsum(np.log(n / e2e))]),
        output_tokens_per_s=every("output_tokens_per_s"),
        prefill_share=every("prefill_time_share"),
        decode_bound=tuple(bounds),
        prefill_s=perf[0].prefill_s_per_request,
        context_tokens=d.input_mean + d.output_mean / 2,
    )
