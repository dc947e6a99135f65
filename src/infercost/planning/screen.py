"""The analytic screen: every candidate sized with queueing headroom, from the perf model.

For one configuration the perf model gives, at each concurrency n up to the KV ceiling, a
closed-loop replica's TPOT, its own prefill, the wait for a running step, E2E and the
completion rate μ(n) = n / E2E(n) (`perf.replica.replica_curve`, one call). A replica with
batch cap c fed λ requests a second then holds N sequences (running and waiting), whose law
`queueing.occupancy` gives from μ and the arrivals' burstiness. At the p-quantile b_p of the
running batch, with the lengths' p-quantiles I_p and O_p:

    TPOT_p = TPOT(b_p)
    TTFT_p = the wait for a running step at b_p + own prefill at b_p × I_p / I
             + the p-wait for the prefill stream (G/G/1, Kingman)
             + the p-wait for a free slot (the occupancy's tail above c)
    E2E_p  = TTFT_p + (O_p − 1) × TPOT_p

(a goodput fraction g over k targets asks each at percentile 1 − (1 − g) / k at least).
The largest λ at which every target holds is what one replica may take, λ*; the fleet is
the smallest R with R ≥ λ_fleet / λ*(R), where λ*(R) is read at the burstiness one of R
replicas sees behind the router (`queueing.split_ca2`). This is the queueing headroom that
`ceil(rate / capacity)` leaves out: R is set by the percentile at the arrival process's
burstiness, not by the mean.

A configuration fails outright when a target misses even at the lightest load (one
sequence's decode step, one prompt's prefill); the limit that binds is named from the
step's breakdown. The batch caps of one configuration share its curve: each is sized and
the one needing fewest replicas kept (the smallest such cap: the fastest).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from infercost.cost.fleet import FleetCost
from infercost.cost.gpu_hour import GpuHourCost
from infercost.errors import InputError
from infercost.evaluate.config import CalibrationChoice, Config, Resolved, resolve
from infercost.evaluate.feasibility import check, max_concurrency
from infercost.evaluate.pipeline import CostBasis, fleet_cost_of, gpu_hour
from infercost.perf.replica import replica_curve
from infercost.perf.step import decode_step
from infercost.planning.queueing import (
    Occupancy,
    StallSpread,
    kingman_wait_quantile,
    occupancy,
    split_ca2,
    stall_spread,
)
from infercost.planning.space import Pricing, Space
from infercost.planning.targets import Targets
from infercost.units import HOURS_PER_MONTH
from infercost.workload.traffic import Traffic

Array = NDArray[np.float64]
CURVE_POINTS = 8  # concurrencies the perf model is asked at, geometric from 1 to the ceiling
RATE_POINTS = 24  # arrival rates each batch cap is read at
FINE_POINTS = 10  # and inside the step where a target starts to miss
LIGHTEST, BUSIEST = 0.002, 0.98  # the rates read, as shares of a full batch's completion rate
RATE_GRID = np.geomspace(LIGHTEST, BUSIEST, RATE_POINTS)
FINE_STEPS = np.linspace(0.0, 1.0, FINE_POINTS + 2)[1:-1]  # inside one step, in log rate
BINDS = 0.98  # a target within 2 % of its threshold at λ* is the one that binds
ROUTER_PASSES = 4  # fixed-point passes of R against the burstiness behind the router
OBJECTIVES = ("usd_per_month", "gpus", "energy", "usd_per_million_tokens")
UNPRICED = GpuHourCost(mode="unpriced")  # an accelerator without a price: energy only
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


@dataclass(frozen=True)
class Sized:
    """A candidate the screen sized: a configuration at a batch cap, R replicas of it."""

    config: Config  # with max_sequences set to the cap
    resolved: Resolved
    cap: int
    ceiling: int  # the most sequences the KV cache holds at the mean context (engine cap in)
    replicas: int
    rate_per_replica_max: float  # λ*: the most one replica takes within every target
    occupancy: float  # mean sequences in flight (and waiting) per replica at λ / R
    utilisation: float  # λ / (R × the completion rate of a full batch)
    predicted: dict[str, float]  # slo name → predicted percentile (s)
    headroom: float  # min over targets of (threshold − predicted) / threshold
    binding: str
    rate: GpuHourCost | None  # None: no price (then only `cost`'s energy is meaningful)
    cost: FleetCost
    curve: Curve

    @property
    def gpus(self) -> int:
        return self.replicas * self.config.gpus

    @property
    def priced(self) -> FleetCost | None:
        """The fleet's cost when its accelerator has a price (its energy is known anyway)."""
        return None if self.rate is None else self.cost

    @property
    def usd_per_month(self) -> float | None:
        cost = self.priced
        return None if cost is None else cost.usd_per_hour * HOURS_PER_MONTH

    def objective(self, name: str) -> float:
        """The fleet's figure for the objective `name` (lower is better)."""
        if name == "gpus":
            return float(self.gpus)
        if name == "energy":
            return self.cost.energy_wh_per_query
        cost = self.priced
        if cost is None:
            return math.inf
        if name == "usd_per_million_tokens":
            return cost.usd_per_million_tokens or math.inf
        return cost.usd_per_hour


@dataclass(frozen=True)
class Rejected:
    """A configuration no replica count makes meet the targets, and why."""

    config: Config
    misses: tuple[str, ...]
    binding: str
    floor: dict[str, float]  # slo name → the percentile at the lightest load (s)
    shortfall: float  # the worst relative miss, (floor − threshold) / threshold
    resolved: Resolved | None = None  # when the model fits: its performance curve too
    curve: Curve | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            **layout_dict(self.config),
            "feasible": False,
            "misses": list(self.misses),
            "binding_limit": self.binding,
            "floor_s": self.floor,
        }


@dataclass(frozen=True)
class Screened:
    sized: tuple[Sized, ...]  # ranked by the objective
    rejected: tuple[Rejected, ...]  # closest first
    candidates: int  # configurations × batch caps considered
    configs: int


def layout_dict(c: Config) -> dict[str, Any]:
    return {
        "model": c.model,
        "gpu": c.gpu,
        "server": c.server,
        "tp": c.tp,
        "pp": c.pp,
        "ep": c.ep,
        "dp_attention": c.dp_attention,
        "weight_precision": c.weight_precision,
        "kv_precision": c.kv_precision or c.weight_precision,
        "engine": c.engine,
        "max_seqs": c.max_sequences,
    }


def screen(
    space: Space,
    demand: Demand,
    targets: Targets,
    pricing: Pricing,
    calibration: CalibrationChoice,
    objective: str = "usd_per_month",
    router: str = "round-robin",
) -> Screened:
    """Size every candidate of `space` (see the module docstring), ranked by `objective`."""
    if objective not in OBJECTIVES:
        raise InputError("objective", f"unknown {objective!r}; allowed: {', '.join(OBJECTIVES)}")
    sized: list[Sized] = []
    rejected: list[Rejected] = []
    for config in space.configs:
        r = resolve(config, calibration)
        basis = pricing.basis(config.gpu)
        outcome = size_config(r, space.caps[config], demand, targets, basis, router)
        if isinstance(outcome, Sized):
            sized.append(outcome)
        else:
            rejected.append(outcome)
    sized.sort(key=lambda s: (s.objective(objective), -s.headroom, s.config.gpus))
    rejected.sort(key=lambda x: x.shortfall)
    return Screened(tuple(sized), tuple(rejected), space.candidates, len(space.configs))


def size_config(
    r: Resolved,
    caps: tuple[int, ...],
    demand: Demand,
    targets: Targets,
    basis: CostBasis,
    router: str = "round-robin",
) -> Sized | Rejected:
    """The batch cap of one configuration that needs fewest replicas, and that count; or
    why no count meets the targets."""
    d = demand
    fits = check(r, d.input_mean, d.output_mean)
    if fits.binding in ("weights", "request"):
        limit = "KV memory" if fits.binding == "request" else "weights memory"
        return Rejected(r.config, (fits.reason,), limit, {}, math.inf)
    ceiling = max_concurrency(r, d.input_mean, d.output_mean)
    if ceiling < 1:
        return Rejected(r.config, (fits.reason,), "KV memory", {}, math.inf)
    curve = make_curve(r, d, ceiling)
    floor = _at_rates(curve, d, targets, ceiling, np.asarray([_lightest(curve, ceiling)]), d.ca2)
    if not all(floor[s.name][0] <= s.threshold_s for s in targets.slos):
        return _rejected(r, curve, targets, {k: float(v[0]) for k, v in floor.items()})
    slot_caps = sorted({c for c in caps if c <= ceiling} | {ceiling})
    best = _cheapest_cap(curve, d, targets, slot_caps, router)
    if best is None:  # the lightest load meets every target, so the widest cap does
        raise AssertionError("no batch cap sized a configuration that meets its floor")
    replicas, cap, lam = best
    return sized_at(r, curve, d, targets, cap, ceiling, replicas, lam, basis, router)


def make_curve(r: Resolved, d: Demand, ceiling: int) -> Curve:
    """The perf model at CURVE_POINTS concurrencies, read at every n = 1…ceiling."""
    grid = np.unique(np.geomspace(1, ceiling, CURVE_POINTS).round())
    perf = replica_curve(
        r.deployment,
        [float(n) for n in grid],
        d.input_mean,
        d.output_mean,
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


def _lightest(curve: Curve, cap: int) -> float:
    return LIGHTEST * curve.completions_per_s(cap)


def target_quantiles(targets: Targets) -> tuple[float, ...]:
    """The quantiles, in (0, 1), the targets are read at."""
    return tuple(sorted({_percentile(targets, s.percentile) for s in targets.slos}))


def _percentile(targets: Targets, percentile: float) -> float:
    """The percentile a target is read at: raised so that a goodput fraction g over k
    targets holds when each does (1 − (1 − g) / k)."""
    g = targets.goodput_fraction
    if g is None:
        return percentile / 100
    return max(percentile / 100, 1.0 - (1.0 - g) / len(targets.slos))


@dataclass(frozen=True)
class _Parts:
    """One percentile's predictions at each rate, and TTFT's parts (to name the limit)."""

    batch: Array
    tpot: Array
    ttft: Array
    e2e: Array
    slot_wait: Array

    def of(self, metric: str) -> Array:
        return self.tpot if metric == "tpot" else self.ttft if metric == "ttft" else self.e2e


def _parts(curve: Curve, d: Demand, occ: Occupancy, rates: Array, p: float, ca2: float) -> _Parts:
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
    return _Parts(batch, tpot, ttft, e2e, slot_wait)


def _predict(
    curve: Curve, d: Demand, targets: Targets, caps: list[int], rates: Array, ca2: float
) -> dict[str, _Parts]:
    """Each target's parts at `rates[k, i]` on `caps[k]` slots (one law per percentile)."""
    occ = occupancy(curve.log_mu_sum[: max(caps) + 1], rates, ca2, d.output_cv2, caps)
    by_p: dict[float, _Parts] = {}
    out: dict[str, _Parts] = {}
    for s in targets.slos:
        p = _percentile(targets, s.percentile)
        if p not in by_p:
            by_p[p] = _parts(curve, d, occ, rates, p, ca2)
        out[s.name] = by_p[p]
    return out


def _at_rates(
    curve: Curve, d: Demand, targets: Targets, cap: int, rates: Array, ca2: float
) -> dict[str, Array]:
    """Each target's predicted percentile at each arrival rate on `cap` slots."""
    parts = _predict(curve, d, targets, [cap], rates[None, :], ca2)
    return {s.name: parts[s.name].of(s.metric)[0] for s in targets.slos}


def _max_rates(
    curve: Curve, d: Demand, targets: Targets, caps: list[int], ca2: float
) -> list[float | None]:
    """λ* of each cap: the largest rate one replica with that many slots takes within every
    target; None when even the lightest load misses. The crossing is found on a coarse
    geometric grid, then on a finer one inside the bracketing step (a queue's delay rises
    too steeply near saturation to interpolate). Every cap is read at once."""
    full = np.asarray([curve.completions_per_s(c) for c in caps])
    rates = full[:, None] * RATE_GRID
    ok = _within(curve, d, targets, caps, rates, ca2)
    first = np.where(ok.all(axis=1), RATE_POINTS, np.argmin(ok, axis=1))
    low = rates[np.arange(len(caps)), np.maximum(first - 1, 0)]
    high = rates[np.arange(len(caps)), np.minimum(first, RATE_POINTS - 1)]
    fine = low[:, None] * (high / low)[:, None] ** FINE_STEPS
    inside = _within(curve, d, targets, caps, fine, ca2)
    last = np.where(inside.all(axis=1), FINE_POINTS - 1, np.argmin(inside, axis=1) - 1)
    out: list[float | None] = []
    for k in range(len(caps)):
        if first[k] == 0:
            out.append(None)
        elif first[k] == RATE_POINTS:
            out.append(float(rates[k, -1]))
        else:
            out.append(float(fine[k, last[k]]) if last[k] >= 0 else float(low[k]))
    return out


def _within(
    curve: Curve, d: Demand, targets: Targets, caps: list[int], rates: Array, ca2: float
) -> NDArray[np.bool_]:
    """Whether every target holds at each rate of each cap (false from the first miss)."""
    parts = _predict(curve, d, targets, caps, rates, ca2)
    ok = np.ones(rates.shape, dtype=bool)
    for s in targets.slos:
        ok &= parts[s.name].of(s.metric) <= s.threshold_s
    return np.asarray(np.cumprod(ok, axis=1).astype(bool))


def _replicas_needed(rate: float, per_replica: float) -> int:
    return max(math.ceil(rate / per_replica - 1e-9), 1)


def _cheapest_cap(
    curve: Curve, d: Demand, targets: Targets, caps: list[int], router: str
) -> tuple[int, int, float] | None:
    """(R, cap, λ*): the cap needing fewest replicas, read at the burstiness behind the
    router of the fewest replicas the rate allows (a lower bound on R, so at least as
    bursty as the answer), then R refined to the smallest with R ≥ λ / λ*(R) (see the
    module docstring); None when no cap meets the targets."""
    fewest = max(math.ceil(d.rate_per_s / curve.completions_per_s(max(caps)) - 1e-9), 1)
    best: tuple[int, int, float] | None = None
    first = _max_rates(curve, d, targets, caps, split_ca2(d.ca2, fewest, router))
    for cap, lam in zip(caps, first, strict=True):
        if lam is not None and (best is None or _replicas_needed(d.rate_per_s, lam) < best[0]):
            best = (_replicas_needed(d.rate_per_s, lam), cap, lam)
    if best is None:
        return None
    replicas, cap, lam = best

    def at(r: int) -> float | None:
        return _max_rates(curve, d, targets, [cap], split_ca2(d.ca2, r, router))[0]

    for _ in range(ROUTER_PASSES):
        if replicas <= fewest:
            break
        fewer = at(replicas)
        need = replicas if fewer is None else _replicas_needed(d.rate_per_s, fewer)
        if need >= replicas:
            break
        at_need = at(need)
        if at_need is None or _replicas_needed(d.rate_per_s, at_need) > need:
            break
        replicas, lam = need, at_need
    return replicas, cap, lam


def predict_at(
    curve: Curve, d: Demand, targets: Targets, cap: int, rate_per_s: float, ca2: float
) -> tuple[float, dict[str, float]]:
    """(mean occupancy, each target's predicted percentile) of one replica fed `rate_per_s`."""
    if rate_per_s >= curve.completions_per_s(cap):
        return math.inf, {s.name: math.inf for s in targets.slos}
    rates = np.asarray([rate_per_s])
    occ = occupancy(curve.log_mu_sum[: cap + 1], rates, ca2, d.output_cv2)
    values = _at_rates(curve, d, targets, cap, rates, ca2)
    return float(occ.mean()[0, 0]), {name: float(v[0]) for name, v in values.items()}


def sized_at(
    r: Resolved,
    curve: Curve,
    d: Demand,
    targets: Targets,
    cap: int,
    ceiling: int,
    replicas: int,
    lam: float,
    basis: CostBasis,
    router: str,
) -> Sized:
    """A configuration at `cap` slots, `replicas` of it: predictions, limit and cost."""
    ca2 = split_ca2(d.ca2, replicas, router)
    occupancy_mean, predicted = predict_at(curve, d, targets, cap, d.rate_per_s / replicas, ca2)
    headroom = min((s.threshold_s - predicted[s.name]) / s.threshold_s for s in targets.slos)
    rate = gpu_hour(r, basis)
    share = float(curve.at("prefill_share", min(max(occupancy_mean, 1.0), cap)))
    cost = fleet_cost_of(r, d.traffic, replicas * r.gpus, share, rate or UNPRICED, basis)
    return Sized(
        config=r.config.with_(max_sequences=cap),
        resolved=r,
        cap=cap,
        ceiling=ceiling,
        replicas=replicas,
        rate_per_replica_max=lam,
        occupancy=occupancy_mean,
        utilisation=d.rate_per_s / (replicas * curve.completions_per_s(cap)),
        predicted=predicted,
        headroom=headroom,
        binding=binding_limit(r, curve, d, targets, cap, ceiling, lam, ca2),
        rate=rate,
        cost=cost,
        curve=curve,
    )


def binding_limit(
    r: Resolved,
    curve: Curve,
    d: Demand,
    targets: Targets,
    cap: int,
    ceiling: int,
    lam: float,
    ca2: float,
) -> str:
    """What stops one replica taking more than λ*: the target that binds there, read
    through its largest part; or, when none binds below a full batch, its slots."""
    slots = "KV memory" if cap == ceiling and ceiling < r.max_sequences else "batch cap"
    parts = _predict(curve, d, targets, [cap], np.asarray([[lam]]), ca2)
    worst, limit = -math.inf, slots
    for s in targets.slos:
        closeness = float(parts[s.name].of(s.metric)[0, 0]) / s.threshold_s
        if closeness > worst:
            worst, limit = closeness, _limit_of(curve, s.metric, parts[s.name], slots)
    return slots if worst < BINDS else limit


def _limit_of(curve: Curve, metric: str, parts: _Parts, slots: str) -> str:
    batch = float(parts.batch[0, 0])
    ttft, slot_wait = float(parts.ttft[0, 0]), float(parts.slot_wait[0, 0])
    if metric == "tpot" or (metric == "e2e" and float(parts.e2e[0, 0]) > 2 * ttft):
        return curve.decode_limit(batch)
    if slot_wait > ttft / 2:
        return slots
    if float(curve.wait_s[int(batch) - 1]) > ttft / 2:
        return curve.decode_limit(batch)
    return "prefill compute"


def _rejected(r: Resolved, curve: Curve, targets: Targets, floor: dict[str, float]) -> Rejected:
    """Why no replica count helps: each target missed at the lightest load, by how much, and
    the limit behind the worst miss (a decode step's breakdown for a TPOT floor)."""
    misses: list[str] = []
    worst, binding = -math.inf, "decode bandwidth"
    for slo in targets.slos:
        got = floor[slo.name]
        if got <= slo.threshold_s:
            continue
        why = f"{slo.name} is at least {_ms(got)} here, over {_ms(slo.threshold_s)}"
        if slo.metric == "tpot":
            why += f" ({_step_parts(r, curve)})"
        misses.append(why)
        short = got / slo.threshold_s - 1
        if short > worst:
            worst = short
            prefill_bound = slo.metric == "ttft" or (
                slo.metric == "e2e" and float(curve.own_prefill_s[0]) > got / 2
            )
            binding = "prefill compute" if prefill_bound else curve.decode_limit(1)
    return Rejected(r.config, tuple(misses), binding, floor, worst, r, curve)


def _step_parts(r: Resolved, curve: Curve) -> str:
    step = decode_step(r.deployment, 1.0, curve.context_tokens)
    parts = {
        "overhead": step.overhead_s,
        "memory": step.memory_s,
        "compute": step.compute_s,
        "communication": step.communication_s,
    }
    shown = ", ".join(f"{_ms(v)} {k}" for k, v in sorted(parts.items(), key=lambda kv: -kv[1]))
    return f"one decode step: {shown}"


def _ms(seconds: float) -> str:
    return "never" if not math.isfinite(seconds) else f"{seconds * 1e3:,.1f} ms"
