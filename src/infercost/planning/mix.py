"""A mixed fleet: how many replicas of which configurations serve which request classes.

Each request class k (its rate λ_k, lengths and targets) is screened on every configuration c
alone (`screen.size_config`): λ*_{k,c}, the most one replica of c takes of class k within
k's targets. Serving a share f_{k,c} of class k on c then uses f_{k,c} λ_k / λ*_{k,c} of a
replica's capacity, and the cheapest fleet is the integer program (Mélange's, arXiv
2404.14527):

    minimise    Σ_c cost_c · N_c                              N_c whole replicas of c
    subject to  Σ_c f_{k,c} = 1                   each class is served in full
                Σ_k f_{k,c} λ_k / λ*_{k,c} ≤ N_c  each configuration's replicas suffice
                Σ_c gpus_c · N_c ≤ max GPUs       (when the user bounds them)
                0 ≤ f_{k,c} ≤ 1, f_{k,c} = 0 where c cannot meet k's targets at any load

solved by HiGHS through `scipy.optimize.milp`. The configurations offered to it are, for each
class, the `OFFERED` cheapest per unit of that class's traffic, and the `OFFERED` best single
configurations. The best single configuration is the homogeneous answer: N_c = ⌈Σ_k λ_k /
λ*_{k,c}⌉ of the c that meets every class, at the least cost.

Both are then simulated: each pool of the mix gets its classes' shares of their requests
(seeded), and grows while any class it serves misses its own targets; the best single
configuration likewise. A mix the simulation made dearer than the best single one is
reported as that single one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, milp

from infercost.errors import InputError
from infercost.evaluate.config import CalibrationChoice, Config, resolve
from infercost.limits import MAX_REPLICAS
from infercost.planning.curve import Demand
from infercost.planning.disaggregated import fewest
from infercost.planning.predict import target_quantiles
from infercost.planning.screen import Sized, layout_dict, size_config
from infercost.planning.space import Pricing, Space
from infercost.planning.targets import Check, Targets, check_records, parse_targets
from infercost.planning.verify import GROWTH, MAX_STEP, SUBSET, after_warmup
from infercost.sim.engine import Fleet, simulate
from infercost.units import HOURS_PER_MONTH
from infercost.workload.classes import ClassRequests, RequestClass
from infercost.workload.requests import Requests

OFFERED = 12  # configurations offered to the program per class, and as single answers
# (6 was too few once 19 accelerators had prices: cheap-looking TPU rows the program then
# did not pick pushed out the MI355X pool it had chosen, and the mix came out 1 % dearer)
GROW_STEPS = 12  # growth steps of a pool before it is given up
Array = NDArray[np.float64]


@dataclass(frozen=True)
class ClassLoad:
    cls: RequestClass
    demand: Demand
    targets: Targets
    requests: Requests


@dataclass(frozen=True)
class Offer:
    """One configuration, each class sized on it alone (None: it cannot meet k's targets)."""

    config: Config
    gpus: int
    usd_per_month_per_replica: float
    sized: tuple[Sized | None, ...]  # per class

    def need(self, loads: tuple[ClassLoad, ...]) -> Array:
        """Replicas of this configuration each class's whole traffic takes: λ_k / λ*_{k,c}."""
        return np.array([
            math.inf if s is None else ld.demand.rate_per_s / s.rate_per_replica_max
            for s, ld in zip(self.sized, loads, strict=True)
        ])  # fmt: skip


@dataclass(frozen=True)
class Solution:
    replicas: NDArray[np.int64]  # N_c
    shares: Array  # f[k, c]
    usd_per_month: float


def solve_mix(
    costs: Array, need: Array, gpus: NDArray[np.int64], max_gpus: int | None = None
) -> Solution | None:
    """The integer program of the module docstring: `costs[c]` a month per replica,
    `need[k, c]` = λ_k / λ*_{k,c} (inf: c cannot serve k); None when no mix is feasible."""
    classes, configs = need.shape
    serve = np.isfinite(need)
    if not serve.any(axis=1).all():
        return None
    n_vars = configs + classes * configs  # N_c, then f[k, c] row by row
    objective = np.concatenate([costs, np.zeros(classes * configs)])
    rows, lower, upper = [], [], []
    for k in range(classes):  # Σ_c f[k, c] = 1
        row = np.zeros(n_vars)
        row[configs + k * configs : configs + (k + 1) * configs] = 1.0
        rows.append(row)
        lower.append(1.0)
        upper.append(1.0)
    for c in range(configs):  # Σ_k need[k, c] f[k, c] − N_c ≤ 0
        row = np.zeros(n_vars)
        row[c] = -1.0
        for k in range(classes):
            if serve[k, c]:
                row[configs + k * configs + c] = need[k, c]
        rows.append(row)
        lower.append(-np.inf)
        upper.append(0.0)
    if max_gpus is not None:
        row = np.zeros(n_vars)
        row[:configs] = gpus
        rows.append(row)
        lower.append(-np.inf)
        upper.append(float(max_gpus))
    share_ub = np.where(serve, 1.0, 0.0).ravel()
    most = np.where(serve, need, 0.0).sum(axis=0) + 1
    bounds = Bounds(np.zeros(n_vars), np.concatenate([np.ceil(most), share_ub]))
    integrality = np.concatenate([np.ones(configs), np.zeros(classes * configs)])
    result = milp(objective, constraints=LinearConstraint(np.array(rows), lower, upper),
                  bounds=bounds, integrality=integrality)  # fmt: skip
    if result.status != 0 or result.x is None:
        return None
    replicas = np.rint(result.x[:configs]).astype(np.int64)
    shares = result.x[configs:].reshape(classes, configs)
    return Solution(replicas, np.clip(shares, 0.0, 1.0), float(costs @ replicas))


def class_loads(
    classes: tuple[RequestClass, ...], mix: ClassRequests, default: Targets
) -> tuple[ClassLoad, ...]:
    """Each class's demand (from its own requests) and targets (its own, else the plan's)."""
    out = []
    for k, c in enumerate(classes):
        reqs = mix.of(k)
        if len(reqs) < 2:
            raise InputError(f"classes.{c.name}.share", "too small a share for the plan's requests")
        targets = parse_targets(c.slo, field=f"classes.{c.name}.slo") if c.slo else default
        percentiles = tuple({s.percentile for s in targets.slos} | {50.0, 90.0, 95.0, 99.0})
        demand = Demand.of(reqs.rate_per_s, reqs.input_tokens, reqs.output_tokens, 1.0,
                           percentiles, quantiles=target_quantiles(targets))  # fmt: skip
        out.append(ClassLoad(c, demand, targets, reqs))
    return tuple(out)


def offers(
    space: Space,
    loads: tuple[ClassLoad, ...],
    pricing: Pricing,
    calibration: CalibrationChoice,
    router: str,
) -> list[Offer]:
    """Every priced configuration with each class sized on it alone."""
    out = []
    for config in space.configs:
        r = resolve(config, calibration)
        basis = pricing.basis(config.gpu)
        sized: list[Sized | None] = []
        for ld in loads:
            s = size_config(r, space.caps[config], ld.demand, ld.targets, basis, router)
            sized.append(s if isinstance(s, Sized) else None)
        rate = next((s.rate for s in sized if s is not None and s.rate is not None), None)
        if rate is None:  # no price, or no class it can serve
            continue
        month = rate.usd_per_gpu_hour * config.gpus * HOURS_PER_MONTH
        out.append(Offer(config, config.gpus, month, tuple(sized)))
    return out


@dataclass(frozen=True)
class Pool:
    offer: Offer
    replicas: int
    shares: Array  # of each class's traffic
    check: dict[str, Check] | None = None  # per class served, after simulation

    @property
    def usd_per_month(self) -> float:
        return self.replicas * self.offer.usd_per_month_per_replica

    @property
    def cap(self) -> int:
        """The batch cap of the class it serves most of."""
        k = int(np.argmax(self.shares))
        s = self.offer.sized[k]
        return s.cap if s is not None else self.offer.config.max_sequences or 256


@dataclass(frozen=True)
class MixFleet:
    """A fleet of pools (one pool: a homogeneous fleet) and whether simulation bore it out."""

    pools: tuple[Pool, ...]
    met: bool | None  # None: not simulated

    @property
    def usd_per_month(self) -> float:
        return sum(p.usd_per_month for p in self.pools)

    @property
    def gpus(self) -> int:
        return sum(p.replicas * p.offer.gpus for p in self.pools)


def best_single(offered: list[Offer], loads: tuple[ClassLoad, ...]) -> MixFleet | None:
    """The homogeneous answer: the configuration meeting every class at least cost."""
    best: MixFleet | None = None
    for o in offered:
        need = o.need(loads)
        if not np.isfinite(need).all():
            continue
        fleet = MixFleet(
            (Pool(o, max(math.ceil(need.sum() - 1e-9), 1), np.ones(len(loads))),), None
        )
        if best is None or fleet.usd_per_month < best.usd_per_month:
            best = fleet
    return best


def mixed(
    offered: list[Offer], loads: tuple[ClassLoad, ...], max_gpus: int | None
) -> MixFleet | None:
    """The cheapest mix of the offered configurations (see the module docstring)."""
    chosen: dict[Config, Offer] = {}
    for k in range(len(loads)):
        ranked = sorted((o for o in offered if np.isfinite(o.need(loads)[k])),
                        key=lambda o: o.usd_per_month_per_replica * o.need(loads)[k])  # fmt: skip
        chosen.update({o.config: o for o in ranked[:OFFERED]})
    singles = [o for o in offered if np.isfinite(o.need(loads)).all()]
    singles.sort(key=lambda o: o.usd_per_month_per_replica * math.ceil(o.need(loads).sum()))
    chosen.update({o.config: o for o in singles[:OFFERED]})
    pick = list(chosen.values())
    if not pick:
        return None
    need = np.array([o.need(loads) for o in pick]).T
    costs = np.array([o.usd_per_month_per_replica for o in pick])
    gpus = np.array([o.gpus for o in pick], dtype=np.int64)
    solution = solve_mix(costs, need, gpus, max_gpus)
    if solution is None:
        return None
    pools = tuple(
        Pool(o, int(n), solution.shares[:, c])
        for c, (o, n) in enumerate(zip(pick, solution.replicas, strict=True))
        if n > 0
    )
    return MixFleet(pools, None)


def verify_fleet(fleet: MixFleet, loads: tuple[ClassLoad, ...], router: str, seed: int) -> MixFleet:
    """Each pool simulated with its classes' shares of their requests, grown while a class
    it serves misses its targets (see the module docstring)."""
    rng = np.random.default_rng(seed + 17)
    assign = _assignments(fleet, loads, rng)
    pools, met = [], True
    for p, picks in zip(fleet.pools, assign, strict=True):
        replicas, checks = _verify_pool(p, picks, loads, router)
        met &= all(c.met for c in checks.values())
        pools.append(replace(p, replicas=replicas, check={loads[k].cls.name: c
                                                          for k, c in checks.items()}))  # fmt: skip
    return MixFleet(tuple(pools), met)


def _verify_pool(
    p: Pool, picks: dict[int, NDArray[np.bool_]], loads: tuple[ClassLoad, ...], router: str
) -> tuple[int, dict[int, Check]]:
    """The fewest replicas of one pool whose classes all meet their targets: grown from the
    program's count while one misses, then bisected down (the plan's own verification)."""
    tried: dict[int, dict[int, Check]] = {}

    def run(n: int) -> bool:
        if n not in tried:
            tried[n] = _run_pool(p, n, picks, loads, router)
        return all(c.met for c in tried[n].values())

    replicas = p.replicas
    for _ in range(GROW_STEPS):
        if run(replicas):
            break
        worst = max(_worst(c, loads[k].targets) for k, c in tried[replicas].items())
        replicas = max(replicas + 1, math.ceil(replicas * min(max(worst, GROWTH), MAX_STEP)))
    if run(replicas):
        replicas = fewest(run, replicas)
    return replicas, tried[replicas]


def _assignments(
    fleet: MixFleet, loads: tuple[ClassLoad, ...], rng: np.random.Generator
) -> list[dict[int, NDArray[np.bool_]]]:
    """For each pool and each class it serves, which of the class's requests it gets."""
    out: list[dict[int, NDArray[np.bool_]]] = [{} for _ in fleet.pools]
    for k, ld in enumerate(loads):
        shares = np.array([p.shares[k] for p in fleet.pools])
        if shares.sum() <= 0:
            continue
        which = rng.choice(len(fleet.pools), size=len(ld.requests), p=shares / shares.sum())
        for c in range(len(fleet.pools)):
            if shares[c] > 1e-9:
                out[c][k] = which == c
    return out


def _run_pool(
    p: Pool,
    replicas: int,
    picks: dict[int, NDArray[np.bool_]],
    loads: tuple[ClassLoad, ...],
    router: str,
) -> dict[int, Check]:
    """The pool's requests (its share of each class) through `replicas` of it."""
    parts = [(k, loads[k].requests, mask) for k, mask in picks.items()]
    arrival = np.concatenate([r.arrival_s[m] for _, r, m in parts])
    prompt = np.concatenate([r.input_tokens[m] for _, r, m in parts])
    output = np.concatenate([r.output_tokens[m] for _, r, m in parts])
    label = np.concatenate([np.full(int(m.sum()), k) for k, _, m in parts])
    order = np.argsort(arrival, kind="stable")
    simulated = min(replicas, SUBSET, MAX_REPLICAS)
    r = p.offer.sized[int(np.argmax(p.shares))]
    assert r is not None
    fleet = replace(Fleet.of(r.resolved, simulated, router), max_seqs=p.cap)
    result = simulate(r.resolved.deployment, arrival[order] * replicas / simulated,
                      prompt[order], output[order], fleet)  # fmt: skip
    label = label[order]
    out = {}
    for k in picks:
        records = after_warmup(result.records, label == k)
        out[k] = check_records(records, loads[k].targets)
    return out


def _worst(check: Check, targets: Targets) -> float:
    worst = max(check.achieved_s[s.name] / s.threshold_s for s in targets.slos)
    return worst if math.isfinite(worst) else MAX_STEP


def fleet_dict(fleet: MixFleet, loads: tuple[ClassLoad, ...]) -> dict[str, Any]:
    """A fleet as the plan's JSON gives it: per class, which configurations serve how much
    of it (and the replicas that share is worth), then per pool."""
    per_class = []
    for k, ld in enumerate(loads):
        for p in fleet.pools:
            share = float(p.shares[k])
            if share <= 1e-9:
                continue
            need = p.offer.need(loads)[k]
            per_class.append({
                "class": ld.cls.name,
                "configuration": layout_dict(p.offer.config.with_(max_sequences=p.cap)),
                "share": share,
                "replicas": share * need,  # the pool's capacity this class takes, in replicas
                "pool_replicas": p.replicas,
            })  # fmt: skip
    return {
        "usd_per_month": fleet.usd_per_month,
        "gpus": fleet.gpus,
        "verified": fleet.met is not None,
        "meets_targets": fleet.met,
        "classes": per_class,
        "pools": [
            {**layout_dict(p.offer.config.with_(max_sequences=p.cap)), "replicas": p.replicas,
             "gpus": p.replicas * p.offer.gpus, "usd_per_month": p.usd_per_month,
             "shares": {ld.cls.name: float(p.shares[k]) for k, ld in enumerate(loads)
                        if p.shares[k] > 1e-9},
             "simulated": None if p.check is None else {
                 name: {"met": c.met, "upper_bound_s": c.achieved_s, "misses": list(c.misses)}
                 for name, c in p.check.items()}}
            for p in fleet.pools
        ],
    }  # fmt: skip


@dataclass(frozen=True)
class MixResult:
    loads: tuple[ClassLoad, ...]
    mix: MixFleet | None
    single: MixFleet | None
    offered: int  # configurations that could serve at least one class
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        mix = None if self.mix is None else fleet_dict(self.mix, self.loads)
        single = None if self.single is None else fleet_dict(self.single, self.loads)
        if mix is not None and single is not None:
            mix["saving_vs_best_single"] = 1 - mix["usd_per_month"] / single["usd_per_month"]
        return {
            "mix": mix,
            "best_single": single,
            "classes": [
                {"name": ld.cls.name, "share": ld.cls.share, "rate_per_s": ld.demand.rate_per_s,
                 "input_tokens_mean": ld.demand.input_mean,
                 "output_tokens_mean": ld.demand.output_mean, "targets": ld.targets.to_dict()}
                for ld in self.loads
            ],
            "configurations_offered": self.offered,
            "note": self.note,
        }  # fmt: skip


def plan_mix(
    classes: tuple[RequestClass, ...],
    mix_requests: ClassRequests,
    space: Space,
    default: Targets,
    pricing: Pricing,
    calibration: CalibrationChoice,
    router: str,
    max_gpus: int | None,
    verify: bool,
    seed: int,
) -> MixResult:
    """The cheapest mix and the best single configuration for the classes, simulated."""
    loads = class_loads(classes, mix_requests, default)
    offered = offers(space, loads, pricing, calibration, router)
    single = best_single(offered, loads)
    fleet = mixed(offered, loads, max_gpus)
    note = ""
    if verify:
        single = None if single is None else verify_fleet(single, loads, router, seed)
        fleet = None if fleet is None else verify_fleet(fleet, loads, router, seed)
    worse = (
        fleet is not None
        and single is not None
        and single.met is not False
        and (fleet.met is False or fleet.usd_per_month > single.usd_per_month)
    )
    if worse:
        note = "simulated, the mix cost more than the best single configuration: that is the answer"
        fleet = single
    return MixResult(loads, fleet, single, len(offered), note)
