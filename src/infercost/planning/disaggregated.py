"""Disaggregated candidates: a prefill pool sized to the TTFT targets, a decode pool to TPOT.

The two pools of a disaggregated fleet only meet at the KV hand-off, so each is sized on its
own by the same screen as a colocated candidate (`screen.size_config`):

    prefill pool  every configuration, serving the prompts alone (answers of one token),
                  against the TTFT targets, each less the KV transfer of a prompt at that
                  percentile over the scale-out network (the slower link: the pools are
                  not assumed to share a server)
    decode pool   every configuration with no prefill in its steps, against the TPOT targets
    pairs         the cheapest `PAIRED` pools of each kind, paired (each pair with its own
                  KV link), ranked by the objective summed over both pools. Both pools run
                  the same weights and KV precision (one model, one answer) on accelerators
                  of one vendor: the KV-transfer libraries disaggregated engines use
                  (NVIDIA's NIXL, Mooncake, LMCache) move KV between GPUs of one vendor's
                  stack; a prefill pool of one GPU type and a decode pool of another
                  (Splitwise's H100 + A100) is allowed

A pair is then simulated (`sim.disaggregated`) on the plan's requests, the whole journey
checked against every target: a TPOT or E2E miss grows the decode pool; a TTFT miss grows
the pool whose part of it is larger (the prefill pool's own TTFT, or the decode pool's wait
for a slot and the transfer). When both hold, each pool is bisected down while they still
do. A large fleet is simulated through a subset at each pool's own load per replica.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from infercost.cost.fleet import HOURS_PER_DAY, FleetCost
from infercost.evaluate.config import CalibrationChoice, resolve
from infercost.evaluate.pipeline import fleet_cost_of
from infercost.perf.memory import kv_share_per_gpu
from infercost.perf.transfer import KvLink, kv_link
from infercost.planning.curve import Demand
from infercost.planning.predict import target_quantiles
from infercost.planning.screen import UNPRICED, Sized, layout_dict, size_config
from infercost.planning.space import Pricing, Space
from infercost.planning.targets import Check, Targets, check_records
from infercost.planning.verify import GROWTH, MAX_STEP, STALL, SUBSET, after_warmup
from infercost.records import Slo
from infercost.sim.disaggregated import DisaggregatedResult, Pool, simulate_disaggregated, subset
from infercost.sim.engine import Fleet
from infercost.units import HOURS_PER_MONTH
from infercost.workload.requests import Requests

PAIRED = 3  # the cheapest pools of each kind that are paired
GROW_STEPS = 12  # growth steps before a pair is given up


@dataclass(frozen=True)
class Pair:
    """A disaggregated candidate: P replicas of a prefill configuration, D of a decode one."""

    prefill: Sized
    decode: Sized
    link: KvLink
    prefill_cost: FleetCost  # each pool over the whole traffic
    decode_cost: FleetCost

    @property
    def gpus(self) -> int:
        return self.prefill.gpus + self.decode.gpus

    @property
    def replicas(self) -> int:
        return self.prefill.replicas + self.decode.replicas

    @property
    def priced(self) -> bool:
        return self.prefill.rate is not None and self.decode.rate is not None

    @property
    def usd_per_hour(self) -> float | None:
        if not self.priced:
            return None
        return self.prefill_cost.usd_per_hour + self.decode_cost.usd_per_hour

    def objective(self, name: str) -> float:
        """The pair's figure for the objective `name`: both pools' together."""
        if name == "gpus":
            return float(self.gpus)
        if name == "energy":
            return self.prefill_cost.energy_wh_per_query + self.decode_cost.energy_wh_per_query
        if not self.priced:
            return math.inf
        if name == "usd_per_million_tokens":
            parts = (
                self.prefill_cost.usd_per_million_tokens,
                self.decode_cost.usd_per_million_tokens,
            )
            return math.inf if None in parts else float(sum(p or 0.0 for p in parts))
        return float(self.usd_per_hour or math.inf)

    def resized(self, prefill: int, decode: int, d: Demand, basis_of: Any) -> Pair:
        """The same pair at `prefill` and `decode` replicas."""
        p = replace(self.prefill, replicas=prefill)
        q = replace(self.decode, replicas=decode)
        return _priced(p, q, self.link, d, basis_of)


def _priced(p: Sized, q: Sized, link: KvLink, d: Demand, basis_of: Any) -> Pair:
    def cost(s: Sized, share: float) -> FleetCost:
        basis = basis_of(s.config.gpu)
        return fleet_cost_of(s.resolved, d.traffic, s.gpus, share, s.rate or UNPRICED, basis)

    return Pair(p, q, link, cost(p, 1.0), cost(q, 0.0))


@dataclass(frozen=True)
class PairTrial:
    prefill: int
    decode: int
    check: Check
    result: DisaggregatedResult


@dataclass(frozen=True)
class PairVerified:
    pair: Pair  # at the fewest replicas that met the targets (the screen's when none did)
    met: bool
    trials: tuple[PairTrial, ...]
    requests: int

    @property
    def closest(self) -> PairTrial:
        """The passing trial at the verified size, or the largest fleet tried."""
        size = (self.pair.prefill.replicas, self.pair.decode.replicas)
        for t in self.trials:
            if self.met and (t.prefill, t.decode) == size:
                return t
        return max(self.trials, key=lambda t: t.prefill + t.decode)

    def summary(self, targets: Targets) -> dict[str, Any]:
        t = self.closest
        out = t.result.summary(list(targets.slos))
        out.pop("pools", None)
        out["replicas_in_fleet"] = {"prefill": t.prefill, "decode": t.decode}
        out["met"] = t.check.met
        out["misses"] = list(t.check.misses)
        out["goodput_fraction"] = t.check.goodput_fraction
        out["upper_bound_s"] = t.check.achieved_s
        out["requests_checked"] = len(after_warmup(t.result.records))
        out["trials"] = [
            {"prefill_replicas": x.prefill, "decode_replicas": x.decode, "met": x.check.met}
            for x in self.trials
        ]
        return out


def applies(targets: Targets) -> str | None:
    """Why the targets cannot size two pools (None when they can): each pool needs its own."""
    metrics = {s.metric for s in targets.slos}
    if "ttft" not in metrics or "tpot" not in metrics:
        return "disaggregated: needs a TTFT target and a TPOT (or interactivity) target"
    return None


def screen_pairs(
    space: Space,
    demand: Demand,
    requests: Requests,
    targets: Targets,
    pricing: Pricing,
    calibration: CalibrationChoice,
    objective: str,
    router: str,
) -> list[Pair]:
    """The best pairs of a prefill pool and a decode pool (see the module docstring)."""
    ttft = Targets(tuple(s for s in targets.slos if s.metric == "ttft"))
    tpot = Targets(tuple(s for s in targets.slos if s.metric == "tpot"))
    prompts = _prompts_alone(demand, requests, ttft)
    prefills, decodes = [], []
    for config in space.configs:
        r = resolve(config, calibration)
        basis = pricing.basis(config.gpu)
        caps = space.caps[config]
        budget = _less_transfer(ttft, _far(r.deployment), demand)
        if budget is not None:
            pre = size_config(r, caps, prompts, budget, basis, router)
            if isinstance(pre, Sized):
                prefills.append(pre)
        dec = size_config(r, caps, demand, tpot, basis, router, include_prefill=False)
        if isinstance(dec, Sized):
            decodes.append(dec)
    prefills.sort(key=lambda s: s.objective(objective))
    decodes.sort(key=lambda s: s.objective(objective))
    pairs = [
        _priced(p, q, kv_link(p.resolved.deployment, q.resolved.deployment), demand, pricing.basis)
        for p in prefills[:PAIRED]
        for q in decodes[:PAIRED]
        if _pairable(p, q)
    ]
    pairs.sort(key=lambda x: (x.objective(objective), x.gpus))
    return pairs


def _pairable(p: Sized, q: Sized) -> bool:
    """One model, one precision of weights and KV, one vendor, a path for the KV (see the
    module docstring)."""
    a, b = p.resolved.deployment, q.resolved.deployment
    return (
        p.config.model == q.config.model
        and a.weights == b.weights
        and a.kv == b.kv
        and a.gpu.vendor == b.gpu.vendor
        and kv_link(a, b).bandwidth_bytes_per_s > 0  # a server with no scale-out: no path
    )


def _prompts_alone(d: Demand, requests: Requests, ttft: Targets) -> Demand:
    """The demand as the prefill pool sees it: the same prompts, answers of one token."""
    ones = np.ones(len(requests), dtype=np.int64)
    return Demand.of(
        d.rate_per_s, requests.input_tokens, ones, d.ca2,
        tuple(d.input_quantiles), d.cached_fraction, d.average_rate_per_s,
        target_quantiles(ttft),
    )  # fmt: skip


def _far(dep: Any) -> KvLink:
    """The KV path over the scale-out network, the slower of the two a pair may use."""
    return KvLink(
        model=dep.model,
        kv=dep.kv,
        share_per_sender=kv_share_per_gpu(dep),
        bandwidth_bytes_per_s=dep.inter_node_bandwidth_bytes_per_s * dep.efficiency.link,
        latency_s=dep.efficiency.collective_latency_s,
        colocated=False,
    )


def _less_transfer(ttft: Targets, link: KvLink, d: Demand) -> Targets | None:
    """The TTFT targets less the transfer of a prompt at each one's percentile; None when a
    transfer alone takes the whole of one."""
    out = []
    for s in ttft.slos:
        left = s.threshold_s - float(link.seconds(d.input_at(s.percentile)))
        if left <= 0:
            return None
        out.append(Slo(s.metric, s.percentile, left))
    return Targets(tuple(out), ttft.goodput_fraction)


def verify_pair(
    pair: Pair,
    requests: Requests,
    targets: Targets,
    demand: Demand,
    basis_of: Any,
    router: str = "round-robin",
    seed: int = 0,
) -> PairVerified:
    """The fewest replicas of each pool whose simulation meets every target (see the module
    docstring)."""
    tried: dict[tuple[int, int], PairTrial] = {}

    def run(p: int, q: int) -> PairTrial:
        if (p, q) not in tried:
            tried[p, q] = _trial(pair, p, q, requests, targets, router, seed)
        return tried[p, q]

    p, q = pair.prefill.replicas, pair.decode.replicas
    worst: list[float] = []
    for _ in range(GROW_STEPS):
        t = run(p, q)
        if t.check.met:
            break
        worst.append(_worst(t.check, targets))
        if len(worst) >= 3 and worst[-1] > (1 - STALL) * worst[-3]:
            break
        p, q = _grown(t, targets, p, q)
    else:
        t = run(p, q)
    if not t.check.met:
        return PairVerified(pair, False, tuple(tried.values()), len(requests))
    p = fewest(lambda k: run(k, q).check.met, p)
    q = fewest(lambda k: run(p, k).check.met, q)
    return PairVerified(pair.resized(p, q, demand, basis_of), True, tuple(tried.values()),
                        len(requests))  # fmt: skip


NEAR = 0.85  # the bisection first tries this share of a passing count


def fewest(meets: Any, hi: int) -> int:
    """The smallest count that still meets, by bisection below `hi` (which meets): first
    between `NEAR` × hi and hi, where the screen's count usually leaves it."""
    near = math.floor(NEAR * hi)
    lo = 0
    if 1 <= near < hi:
        if meets(near):
            hi = near
        else:
            lo = near
    while hi - lo > max(1, math.floor(0.01 * hi)):
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if meets(mid) else (mid, hi)
    return hi


def _grown(t: PairTrial, targets: Targets, p: int, q: int) -> tuple[int, int]:
    """Which pool a miss grows, and by how much (see the module docstring)."""
    misses = {s.metric: t.check.achieved_s[s.name] / s.threshold_s for s in targets.slos
              if t.check.achieved_s[s.name] > s.threshold_s}  # fmt: skip
    factor = min(max(max(misses.values(), default=GROWTH), GROWTH), MAX_STEP)
    grow_p = grow_q = False
    if "tpot" in misses or "e2e" in misses:
        grow_q = True
    if "ttft" in misses:
        pools = t.result.summary()["pools"]
        own = pools["prefill"]["ttft_s"]["p90"] or 0.0
        wait = pools["decode"]["wait_s"]["p90"] or 0.0
        grow_p, grow_q = grow_p or own >= wait, grow_q or wait > own
    if not (grow_p or grow_q):  # goodput alone: grow both
        grow_p = grow_q = True
    return (max(p + 1, math.ceil(p * factor)) if grow_p else p,
            max(q + 1, math.ceil(q * factor)) if grow_q else q)  # fmt: skip


def _worst(check: Check, targets: Targets) -> float:
    worst = max(check.achieved_s[s.name] / s.threshold_s for s in targets.slos)
    return worst if math.isfinite(worst) else MAX_STEP


def _trial(
    pair: Pair, p: int, q: int, requests: Requests, targets: Targets, router: str, seed: int
) -> PairTrial:
    """The pair at p prefill and q decode replicas, through a subset at each pool's load."""
    d_sim, p_sim = subset(p, q, SUBSET)
    stretch = p / p_sim  # the simulated prefill replicas see the fleet's load per replica
    pre = Pool(
        pair.prefill.resolved.deployment,
        replace(Fleet.of(pair.prefill.resolved, p_sim, router), max_seqs=pair.prefill.cap),
    )
    dec = Pool(
        pair.decode.resolved.deployment,
        replace(Fleet.of(pair.decode.resolved, d_sim, router), max_seqs=pair.decode.cap),
    )
    result = simulate_disaggregated(
        pre, dec, requests.arrival_s * stretch, requests.input_tokens, requests.output_tokens,
        link=pair.link, decode_share=(d_sim / q) / (p_sim / p), seed=seed,
    )  # fmt: skip
    return PairTrial(p, q, check_records(after_warmup(result.records), targets), result)


def pair_dict(
    pair: Pair, verified: PairVerified | None, targets: Targets, demand: Demand
) -> dict[str, Any]:
    """A pair as the plan's JSON lists a candidate; the journey's predicted percentiles are
    the prefill pool's TTFT plus the transfer, and the decode pool's TPOT."""

    def pool(s: Sized, cost: FleetCost) -> dict[str, Any]:
        return {
            **layout_dict(s.config),
            "replicas": s.replicas,
            "gpus_per_replica": s.config.gpus,
            "gpus": s.gpus,
            "usd_per_gpu_hour": None if s.rate is None else s.rate.usd_per_gpu_hour,
            "usd_per_month": None if s.rate is None else cost.usd_per_hour * HOURS_PER_MONTH,
            "utilisation": s.utilisation,
            "binding_limit": s.binding,
            "predicted_s": s.predicted,
        }

    p, q = pair.prefill, pair.decode
    predicted = {}
    for s in targets.slos:
        if s.metric == "ttft" and s.name in p.predicted:
            transfer = float(pair.link.seconds(demand.input_at(s.percentile)))
            predicted[s.name] = p.predicted[s.name] + transfer
        elif s.metric == "tpot" and s.name in q.predicted:
            predicted[s.name] = q.predicted[s.name]
    headroom = min(((s.threshold_s - predicted[s.name]) / s.threshold_s for s in targets.slos
                    if s.name in predicted), default=None)  # fmt: skip
    simulated = None if verified is None else verified.summary(targets)
    check = None if verified is None else verified.closest.check
    hour = pair.usd_per_hour
    return {
        "disaggregated": True,
        "model": p.config.model,
        "prefill": pool(p, pair.prefill_cost),
        "decode": pool(q, pair.decode_cost),
        "prefill_to_decode_replicas": p.replicas / q.replicas,
        "kv_link": pair.link.to_dict(),
        "replicas": pair.replicas,
        "gpus": pair.gpus,
        "verified": verified is not None,
        "meets_targets": None if verified is None else verified.met,
        "usd_per_month": None if hour is None else hour * HOURS_PER_MONTH,
        "usd_per_day": None if hour is None else hour * HOURS_PER_DAY,
        "usd_per_query": _sum(pair.prefill_cost.usd_per_query, pair.decode_cost.usd_per_query),
        "usd_per_million_output_tokens": _sum(
            pair.prefill_cost.usd_per_million_output_tokens,
            pair.decode_cost.usd_per_million_output_tokens,
        ),
        "usd_per_million_tokens": _sum(
            pair.prefill_cost.usd_per_million_tokens, pair.decode_cost.usd_per_million_tokens
        ),
        # Disaggregation attributes by itself: the prefill pool serves the input tokens.
        "usd_per_million_input_tokens_attributed": (
            pair.prefill_cost.usd_per_million_input_tokens_attributed
        ),
        "usd_per_million_output_tokens_attributed": (
            pair.decode_cost.usd_per_million_output_tokens_attributed
        ),
        "energy_wh_per_query": pair.objective("energy"),
        "binding_limit": f"prefill: {p.binding}; decode: {q.binding}",
        "predicted_s": predicted,
        "predicted_headroom": headroom,
        "simulated": simulated,
        "simulated_headroom": None if check is None else check.margin(targets),
    }


def _sum(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a + b
