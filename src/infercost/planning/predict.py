"""A replica's predicted latency percentiles at an arrival rate, from its curve.

A replica with batch cap c fed λ requests a second holds N sequences (running and waiting),
whose law `queueing.occupancy` gives from μ(n) and the arrivals' burstiness. At the
p-quantile b_p of the running batch, its mean n̄, and the lengths' p-quantiles I_p and O_p:

    TPOT_p = the larger of TPOT(b_p)                         (a busy moment)
             and decode(n̄) + stall(n̄) × spread_p             (an unlucky request: the
                                                               stalls it sees, `queueing`)
    TTFT_p = the wait for a running step at b_p + own prefill at b_p × I_p / I
             + the p-wait for the prefill stream (G/G/1, Kingman)
             + the p-wait for a free slot (the occupancy's tail above c)
    E2E_p  = TTFT_p + (O_p − 1) × TPOT_p

A goodput fraction g over k targets asks each at percentile 1 − (1 − g) / k at least. Every
function takes many caps and rates at once (arrays [caps, rates]).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from infercost.planning.curve import Curve, Demand
from infercost.planning.queueing import Occupancy, kingman_wait_quantile, occupancy
from infercost.planning.targets import Targets

Array = NDArray[np.float64]


def target_quantiles(targets: Targets) -> tuple[float, ...]:
    """The quantiles, in (0, 1), the targets are read at."""
    return tuple(sorted({percentile_of(targets, s.percentile) for s in targets.slos}))


def percentile_of(targets: Targets, percentile: float) -> float:
    """The percentile a target is read at: raised so that a goodput fraction g over k
    targets holds when each does (1 − (1 − g) / k)."""
    g = targets.goodput_fraction
    if g is None:
        return percentile / 100
    return max(percentile / 100, 1.0 - (1.0 - g) / len(targets.slos))


@dataclass(frozen=True)
class Parts:
    """One percentile's predictions at each rate, and TTFT's parts (to name the limit)."""

    batch: Array
    tpot: Array
    ttft: Array
    e2e: Array
    slot_wait: Array

    def of(self, metric: str) -> Array:
        return self.tpot if metric == "tpot" else self.ttft if metric == "ttft" else self.e2e


def parts_at(curve: Curve, d: Demand, occ: Occupancy, rates: Array, p: float, ca2: float) -> Parts:
    batch = np.maximum(occ.batch_quantile(p), 1.0)
    index = batch.astype(np.int64) - 1
    mean = np.clip(np.rint(occ.mean()), 1, occ.caps[:, None]).astype(np.int64) - 1
    stall = curve.tpot_s[mean] - curve.decode_s[mean]
    spread = curve.decode_s[mean] + stall * d.spread.ratio(p, mean.astype(np.float64), ca2)
    tpot = np.maximum(curve.tpot_s[index], spread)  # a busy moment, or an unlucky request
    in_p = d.input_at(p * 100) / d.input_mean if d.input_mean else 1.0
    slot_wait = occ.slot_wait_quantile(p)
    prefill = curve.prefill_s
    prefill_wait = kingman_wait_quantile(rates * prefill, prefill, ca2, d.input_cv2, p)
    ttft = curve.wait_s[index] + curve.own_prefill_s[index] * in_p + prefill_wait + slot_wait
    e2e = ttft + (d.output_at(p * 100) - 1.0) * tpot
    return Parts(batch, tpot, ttft, e2e, slot_wait)


def predict(
    curve: Curve, d: Demand, targets: Targets, caps: list[int], rates: Array, ca2: float
) -> dict[str, Parts]:
    """Each target's parts at `rates[k, i]` on `caps[k]` slots (one law per percentile)."""
    occ = occupancy(curve.log_mu_sum[: max(caps) + 1], rates, ca2, d.output_cv2, caps)
    by_p: dict[float, Parts] = {}
    out: dict[str, Parts] = {}
    for s in targets.slos:
        p = percentile_of(targets, s.percentile)
        if p not in by_p:
            by_p[p] = parts_at(curve, d, occ, rates, p, ca2)
        out[s.name] = by_p[p]
    return out


def at_rates(
    curve: Curve, d: Demand, targets: Targets, cap: int, rates: Array, ca2: float
) -> dict[str, Array]:
    """Each target's predicted percentile at each arrival rate on `cap` slots."""
    parts = predict(curve, d, targets, [cap], rates[None, :], ca2)
    return {s.name: parts[s.name].of(s.metric)[0] for s in targets.slos}


def predict_at(
    curve: Curve, d: Demand, targets: Targets, cap: int, rate_per_s: float, ca2: float
) -> tuple[float, dict[str, float]]:
    """(mean occupancy, each target's predicted percentile) of one replica fed `rate_per_s`."""
    if rate_per_s >= curve.completions_per_s(cap):
        return math.inf, {s.name: math.inf for s in targets.slos}
    rates = np.asarray([rate_per_s])
    occ = occupancy(curve.log_mu_sum[: cap + 1], rates, ca2, d.output_cv2)
    values = at_rates(curve, d, targets, cap, rates, ca2)
    return float(occ.mean()[0, 0]), {name: float(v[0]) for name, v in values.items()}
