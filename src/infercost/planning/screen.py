"""The analytic screen: every candidate sized with queueing headroom, from the perf model.

For each configuration its curve (`curve.make_curve`) and the predicted percentiles
(`predict`) give, for each batch cap, the largest rate λ* at which every target holds: what
one replica may take. The fleet is the smallest R with R ≥ λ_fleet / λ*(R), where λ*(R) is
read at the burstiness one of R replicas sees behind the router (`queueing.split_ca2`).
This is the queueing headroom that `ceil(rate / capacity)` leaves out: R is set by the
percentile at the arrival process's burstiness, not by the mean.

A configuration fails outright when a target misses even at the lightest load (one
sequence's decode step, one prompt's prefill); the limit that binds is named from the
step's breakdown. The batch caps of one configuration share its curve: each is sized and
the one needing fewest replicas kept (of those, the one that could take the most).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from infercost.cost.fleet import FleetCost
from infercost.cost.gpu_hour import GpuHourCost
from infercost.errors import InputError
from infercost.evaluate.config import CalibrationChoice, Config, Resolved, resolve
from infercost.evaluate.feasibility import check, max_concurrency
from infercost.evaluate.pipeline import CostBasis, fleet_cost_of, gpu_hour
from infercost.perf.step import decode_step
from infercost.planning.curve import Curve, Demand, make_curve
from infercost.planning.predict import Parts, at_rates, predict, predict_at
from infercost.planning.queueing import split_ca2
from infercost.planning.space import Pricing, Space
from infercost.planning.targets import Targets
from infercost.units import HOURS_PER_MONTH

Array = NDArray[np.float64]
RATE_POINTS = 24  # arrival rates each batch cap is read at
FINE_POINTS = 10  # and inside the step where a target starts to miss
LIGHTEST, BUSIEST = 0.002, 0.98  # the rates read, as shares of a full batch's completion rate
RATE_GRID = np.geomspace(LIGHTEST, BUSIEST, RATE_POINTS)
FINE_STEPS = np.linspace(0.0, 1.0, FINE_POINTS + 2)[1:-1]  # inside one step, in log rate
BINDS = 0.98  # a target within 2 % of its threshold at λ* is the one that binds
ROUTER_PASSES = 4  # fixed-point passes of R against the burstiness behind the router
OBJECTIVES = ("usd_per_month", "gpus", "energy", "usd_per_million_tokens")
UNPRICED = GpuHourCost(mode="unpriced")  # an accelerator without a price: energy only


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
    include_prefill: bool = True,
) -> Sized | Rejected:
    """The batch cap of one configuration that needs fewest replicas, and that count; or
    why no count meets the targets (`include_prefill` False: as a decode pool)."""
    d = demand
    fits = check(r, d.input_mean, d.output_mean)
    if fits.binding in ("weights", "request"):
        limit = "KV memory" if fits.binding == "request" else "weights memory"
        return Rejected(r.config, (fits.reason,), limit, {}, math.inf)
    ceiling = max_concurrency(r, d.input_mean, d.output_mean)
    if ceiling < 1:
        return Rejected(r.config, (fits.reason,), "KV memory", {}, math.inf)
    curve = make_curve(r, d, ceiling, include_prefill)
    floor = at_rates(curve, d, targets, ceiling, np.asarray([_lightest(curve, ceiling)]), d.ca2)
    if not all(floor[s.name][0] <= s.threshold_s for s in targets.slos):
        return _rejected(r, curve, targets, {k: float(v[0]) for k, v in floor.items()})
    slot_caps = sorted({c for c in caps if c <= ceiling} | {ceiling})
    best = _cheapest_cap(curve, d, targets, slot_caps, router)
    if best is None:  # the floor passed only at its edge: no rate is safely within
        return _rejected(r, curve, targets, {k: float(v[0]) for k, v in floor.items()})
    replicas, cap, lam = best
    return sized_at(r, curve, d, targets, cap, ceiling, replicas, lam, basis, router)


def _lightest(curve: Curve, cap: int) -> float:
    return LIGHTEST * curve.completions_per_s(cap)


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
    parts = predict(curve, d, targets, caps, rates, ca2)
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
        if lam is None:
            continue
        need = _replicas_needed(d.rate_per_s, lam)
        if best is None or (need, -lam) < (best[0], -best[2]):  # ties: the most headroom
            best = (need, cap, lam)
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
    parts = predict(curve, d, targets, [cap], np.asarray([[lam]]), ca2)
    worst, limit = -math.inf, slots
    for s in targets.slos:
        closeness = float(parts[s.name].of(s.metric)[0, 0]) / s.threshold_s
        if closeness > worst:
            worst, limit = closeness, _limit_of(curve, s.metric, parts[s.name], slots)
    return slots if worst < BINDS else limit


def _limit_of(curve: Curve, metric: str, parts: Parts, slots: str) -> str:
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
    if not misses:  # within every target only at the lightest load, and not beyond it
        misses.append("meets the targets only at the lightest load, with no margin")
        worst = 0.0
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
