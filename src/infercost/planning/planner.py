"""The planner: the cheapest fleet that meets the latency targets, proved by simulation.

    constraints ──build_space──▶ configurations × batch caps
    traffic + lengths ──▶ one seeded stream of requests ──▶ the demand's moments
    screen: every candidate sized analytically with queueing headroom, ranked
    verify: the top K simulated, each at the fewest replicas that meet every target, and
            the next ones while the screen puts them below the cheapest verified answer
    pairs:  disaggregated candidates, a prefill pool sized to TTFT and a decode pool to TPOT
            (`disaggregated`), the best `PAIRS_VERIFIED` simulated likewise
    mix:    with request classes, the cheapest mix of configurations serving them, each
            class to its own targets, against the best single configuration (`mix`)
    day:    with a traffic profile, the best colocated fleet fixed for the peak hour
            against it autoscaled hour by hour, each hour simulated (`day`)
    rank:   verified candidates by the objective at their verified size, then the rest
    frontier and the API comparison, from the same curves and costs

The whole search is deterministic for a seed. Nothing here prints or writes files.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from infercost.catalog.models import model
from infercost.errors import InputError
from infercost.evaluate.config import CalibrationChoice, Config
from infercost.limits import MAX_QUERIES_PER_S
from infercost.planning.compare import ApiComparison, compare_api
from infercost.planning.curve import Demand
from infercost.planning.day import Autoscale, DayPlan, Profile, plan_day
from infercost.planning.disaggregated import (
    Pair,
    PairVerified,
    applies,
    pair_dict,
    screen_pairs,
    verify_pair,
)
from infercost.planning.frontier import FrontierPoint, frontier
from infercost.planning.mix import MixResult, plan_mix
from infercost.planning.predict import target_quantiles
from infercost.planning.screen import (
    OBJECTIVES,
    Rejected,
    Screened,
    Sized,
    layout_dict,
    screen,
    sized_at,
)
from infercost.planning.space import Constraints, build_space
from infercost.planning.targets import Targets
from infercost.planning.verify import MAX_VERIFY_REQUESTS, Verified, requests_for, verify
from infercost.units import SECONDS_PER_DAY
from infercost.workload.classes import ClassRequests, RequestClass, class_requests
from infercost.workload.requests import Requests, make_requests

ARRIVALS = ("poisson", "gamma")
ROUTERS = ("round-robin", "least-outstanding")
LISTED = 50  # unverified candidates listed after the verified ones
PAIRS_VERIFIED = 2  # disaggregated pairs simulated
MIN_TRACE_REQUESTS = 1000  # a trace shorter than this cannot show a p99


@dataclass(frozen=True)
class Load:
    """The traffic to serve: the rate at peak, lengths as specs, the arrival process."""

    rate_per_s: float | None  # at peak; None: a trace's own
    input_spec: str = "1000"
    output_spec: str = "200"
    arrival: str = "poisson"
    burstiness: float = 1.0  # gamma: coefficient of variation of the gaps
    trace: str | None = None
    cached_fraction: float = 0.0
    peak_to_average: float = 1.0
    classes: tuple[RequestClass, ...] = ()  # a mix of request classes (then not the specs)

    def requests(self, n: int, seed: int) -> Requests:
        """`n` requests of this load (a trace: its first `n`; classes: their mix), seeded."""
        if self.arrival not in ARRIVALS:
            raise InputError("arrival", f"unknown {self.arrival!r}; allowed: {', '.join(ARRIVALS)}")
        if self.classes:
            return self.by_class(n, seed).requests
        reqs = make_requests(
            rate=self.rate_per_s,
            n=n,
            input_spec=self.input_spec,
            output_spec=self.output_spec,
            arrival=self.arrival,
            burstiness=self.burstiness,
            seed=seed,
            trace=Path(self.trace) if self.trace else None,
        )
        if self.trace is None or len(reqs) <= n:
            return reqs
        return Requests(
            reqs.arrival_s[:n], reqs.input_tokens[:n], reqs.output_tokens[:n], reqs.rate_per_s
        )

    def by_class(self, n: int, seed: int) -> ClassRequests:
        """`n` requests of the classes' mix, each labelled with its class."""
        if self.trace is not None or self.rate_per_s is None:
            raise InputError("classes", "set their own lengths: drop the trace")
        return class_requests(self.classes, self.rate_per_s, n, self.arrival, self.burstiness, seed)

    def ca2(self, reqs: Requests) -> float:
        """The squared coefficient of variation of the gaps: stated, or a trace's own."""
        if self.trace is None:
            return self.burstiness**2 if self.arrival == "gamma" else 1.0
        gaps = np.diff(reqs.arrival_s)
        mean = float(gaps.mean()) if gaps.size else 0.0
        return float(gaps.var() / mean**2) if mean > 0 else 1.0


@dataclass(frozen=True)
class Question:
    """Everything a plan is asked: what may run, for which traffic, to which targets."""

    constraints: Constraints
    load: Load
    targets: Targets
    objective: str = "usd_per_month"
    verify: int = 10
    seed: int = 0
    requests: int | None = None  # simulated per verification trial (default: by the candidate)
    router: str = "round-robin"
    calibration: CalibrationChoice = "builtin"
    compare_api: bool = False
    disaggregated: bool | None = None  # None: considered when the targets size both pools
    profile: Profile | None = None  # a day of traffic: the load's rate is its peak hour's
    autoscale: Autoscale = field(default_factory=Autoscale)

    def check(self) -> None:
        if self.objective not in OBJECTIVES:
            allowed = ", ".join(OBJECTIVES)
            raise InputError("objective", f"unknown {self.objective!r}; allowed: {allowed}")
        if self.router not in ROUTERS:
            raise InputError("router", f"unknown {self.router!r}; allowed: {', '.join(ROUTERS)}")


@dataclass(frozen=True)
class Candidate:
    """A ranked answer: a configuration at its replica count, verified or only screened."""

    sized: Sized  # at the verified replica count when verified
    screen_replicas: int
    verified: Verified | None

    @property
    def met(self) -> bool | None:
        """Whether the simulation met every target (None when not simulated)."""
        return None if self.verified is None else self.verified.replicas is not None

    def to_dict(self, targets: Targets) -> dict[str, Any]:
        s, cost = self.sized, self.sized.priced
        simulated = self.verified.summary(targets) if self.verified else None
        margin = None
        if self.verified is not None:
            margin = self.verified.closest.check.margin(targets)
        return {
            **layout_dict(s.config),
            "gpus_per_replica": s.config.gpus,
            "replicas": s.replicas,
            "gpus": s.gpus,
            "servers": math.ceil(s.gpus / s.resolved.gpus_per_server),
            "screen_replicas": self.screen_replicas,
            "verified": self.verified is not None,
            "meets_targets": self.met,
            "usd_per_gpu_hour": None if s.rate is None else s.rate.usd_per_gpu_hour,
            "usd_per_month": s.usd_per_month,
            "usd_per_day": None if cost is None else cost.usd_per_day,
            "usd_per_query": None if cost is None else cost.usd_per_query,
            "usd_per_million_output_tokens": None
            if cost is None
            else cost.usd_per_million_output_tokens,
            "usd_per_million_tokens": None if cost is None else cost.usd_per_million_tokens,
            "usd_per_million_input_tokens_attributed": None
            if cost is None
            else cost.usd_per_million_input_tokens_attributed,
            "usd_per_million_output_tokens_attributed": None
            if cost is None
            else cost.usd_per_million_output_tokens_attributed,
            "energy_wh_per_query": s.cost.energy_wh_per_query,
            "utilisation": s.utilisation,
            "occupancy": s.occupancy,
            "max_rate_per_replica": s.rate_per_replica_max,
            "binding_limit": s.binding,
            "predicted_s": s.predicted,
            "predicted_headroom": s.headroom,
            "simulated": simulated,
            "simulated_headroom": margin,
            "calibration_group": s.resolved.calibration_group,
        }


@dataclass(frozen=True)
class PairCandidate:
    """A ranked disaggregated answer: its pools at their verified sizes (or the screen's)."""

    pair: Pair
    screened: Pair
    verified: PairVerified | None
    demand: Demand

    @property
    def met(self) -> bool | None:
        return None if self.verified is None else self.verified.met

    @property
    def gpus(self) -> int:
        return self.pair.gpus

    def objective(self, name: str) -> float:
        return self.pair.objective(name)

    def margin(self, targets: Targets) -> float:
        return 0.0 if self.verified is None else self.verified.closest.check.margin(targets)

    def to_dict(self, targets: Targets) -> dict[str, Any]:
        out = pair_dict(self.pair, self.verified, targets, self.demand)
        out["screen_replicas"] = {
            "prefill": self.screened.prefill.replicas,
            "decode": self.screened.decode.replicas,
        }
        return out


@dataclass(frozen=True)
class PlanResult:
    question: Question
    demand: Demand
    candidates: tuple[Candidate | PairCandidate, ...]  # ranked: verified that meet, the rest
    rejected: tuple[Rejected, ...]  # closest first
    frontier: tuple[FrontierPoint, ...]
    api: ApiComparison | None
    screened: int  # configurations × batch caps
    configs: int
    skipped: tuple[str, ...]
    timings_s: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    disaggregation: str = "not asked"  # what became of the disaggregated candidates
    mix: MixResult | None = None  # with request classes
    day: DayPlan | None = None  # with a traffic profile

    @property
    def best(self) -> Candidate | PairCandidate | None:
        first = self.candidates[0] if self.candidates else None
        if first is None or first.met is False:
            return None
        return first

    @property
    def feasible(self) -> bool:
        return self.best is not None

    def closest(self, shown: int = 10) -> list[dict[str, Any]]:
        """The nearest misses: candidates the simulation could not make meet the targets
        (the screen passed them), then those the screen rejected, closest first."""
        simulated = []
        for c in self.candidates:
            if not isinstance(c, Candidate) or c.verified is None or c.met is not False:
                continue
            trial = c.verified.closest
            misses = [
                f"simulated with {trial.replicas:,} replicas: {m}" for m in trial.check.misses
            ]
            simulated.append(
                {**layout_dict(c.sized.config), "feasible": False, "misses": misses,
                 "binding_limit": c.sized.binding, "floor_s": {}}
            )  # fmt: skip
        return [*simulated, *(r.to_dict() for r in self.rejected)][:shown]

    def to_dict(self) -> dict[str, Any]:
        targets = self.question.targets
        best = self.best
        return {
            "feasible": self.feasible,
            "best": None if best is None else best.to_dict(targets),
            "candidates": [c.to_dict(targets) for c in self.candidates],
            "closest": self.closest() if not self.feasible else [],
            "frontier": [p.to_dict() for p in self.frontier],
            "api": None if self.api is None else self.api.to_dict(),
            "question": question_dict(self.question, self.demand),
            "warnings": list(self.warnings),
            **(self.mix.to_dict() if self.mix is not None else {}),
            **(self.day.to_dict() if self.day is not None else {}),
            "search": {
                "candidates": self.screened,
                "configurations": self.configs,
                "sized": sum(1 for _ in self.candidates),
                "rejected": len(self.rejected),
                "verified": sum(1 for c in self.candidates if c.verified is not None),
                "disaggregated": self.disaggregation,
                "skipped": list(self.skipped),
                "timings_s": self.timings_s,
            },
        }


def question_dict(q: Question, d: Demand) -> dict[str, Any]:
    return {
        "models": list(q.constraints.models),
        "rate_per_s": d.rate_per_s,
        "average_rate_per_s": d.rate_per_s / q.load.peak_to_average,
        "queries_per_day": d.rate_per_s / q.load.peak_to_average * SECONDS_PER_DAY,
        "peak_to_average": q.load.peak_to_average,
        "input_tokens_mean": d.input_mean,
        "output_tokens_mean": d.output_mean,
        "arrival": "trace" if q.load.trace else q.load.arrival,
        "arrival_ca2": d.ca2,
        "targets": q.targets.to_dict(),
        "objective": q.objective,
        "verify": q.verify,
        "seed": q.seed,
        "router": q.router,
        "pricing": q.constraints.pricing.mode,
    }


def plan(question: Question, progress: Callable[[str, int, int], None] | None = None) -> PlanResult:
    """Answer `question` (see the module docstring)."""
    q = question
    q.check()
    clock = time.perf_counter()
    space = build_space(q.constraints)
    requests = q.load.requests(q.requests or MAX_VERIFY_REQUESTS, q.seed)
    demand = _demand(q, requests)
    pricing = q.constraints.pricing
    screened = screen(space, demand, q.targets, pricing, q.calibration, q.objective, q.router)
    sized, over = _within_max_gpus(screened, q.constraints.max_gpus)
    timings = {"screen": time.perf_counter() - clock}
    clock = time.perf_counter()
    verified = _verify_top(q, sized, requests, demand, space.caps, progress)
    timings["verify"] = time.perf_counter() - clock
    clock = time.perf_counter()
    pairs, disaggregation = _pairs(q, space, demand, requests, progress)
    timings["disaggregated"] = time.perf_counter() - clock
    mix = None
    if q.load.classes:
        clock = time.perf_counter()
        mix = plan_mix(
            q.load.classes, q.load.by_class(len(requests), q.seed), space, q.targets, pricing,
            q.calibration, q.router, q.constraints.max_gpus, q.verify > 0, q.seed,
        )  # fmt: skip
        timings["mix"] = time.perf_counter() - clock
    ranked = _rank(q, verified, sized, pairs)
    colocated = [c for c in ranked if isinstance(c, Candidate) and c.met is not False]
    day = None
    if q.profile is not None and colocated:
        clock = time.perf_counter()
        load = q.load
        day = plan_day(
            colocated[0].sized, demand.rate_per_s / q.profile.peak_to_average, q.profile,
            q.autoscale, q.targets, (load.input_spec, load.output_spec), q.router, q.seed,
            simulate_hours=q.verify > 0,
        )  # fmt: skip
        timings["day"] = time.perf_counter() - clock
    best = colocated[0].sized if colocated else None
    api = None
    if q.compare_api:
        replicas = None if best is None else colocated[0].screen_replicas
        api = compare_api(q.constraints.models, demand, best, replicas)
    return PlanResult(
        question=q,
        demand=demand,
        candidates=tuple(ranked),
        rejected=tuple(sorted((*screened.rejected, *over), key=lambda x: x.shortfall)),
        frontier=frontier(screened, pricing),
        api=api,
        screened=screened.candidates,
        configs=screened.configs,
        skipped=space.skipped,
        timings_s=timings,
        warnings=_past_context(q.constraints.models, demand),
        disaggregation=disaggregation,
        mix=mix,
        day=day,
    )


def _pairs(
    q: Question,
    space: Any,
    demand: Demand,
    requests: Requests,
    progress: Callable[[str, int, int], None] | None,
) -> tuple[list[PairCandidate], str]:
    """The disaggregated candidates: screened, and the best `PAIRS_VERIFIED` simulated."""
    why = applies(q.targets)
    if q.disaggregated is False:
        return [], "not asked (--no-disaggregated)"
    if why is not None:
        if q.disaggregated:
            raise InputError("disaggregated", why.removeprefix("disaggregated: "))
        return [], f"left out: {why.removeprefix('disaggregated: ')}"
    pricing = q.constraints.pricing
    found = screen_pairs(space, demand, requests, q.targets, pricing, q.calibration,
                         q.objective, q.router)  # fmt: skip
    if q.constraints.max_gpus is not None:
        found = [p for p in found if p.gpus <= q.constraints.max_gpus]
    out: list[PairCandidate] = []
    for i, pair in enumerate(found[:PAIRS_VERIFIED] if q.verify else []):
        cheapest = min((c.objective(q.objective) for c in out if c.met), default=math.inf)
        if pair.objective(q.objective) >= cheapest:  # the screen puts it above a verified one
            break
        n = min(requests_for(pair.decode, q.requests), len(requests))
        subset = Requests(requests.arrival_s[:n], requests.input_tokens[:n],
                          requests.output_tokens[:n], requests.rate_per_s)  # fmt: skip
        v = verify_pair(pair, subset, q.targets, demand, pricing.basis, q.router, q.seed)
        out.append(PairCandidate(v.pair, pair, v, demand))
        if progress:
            progress("verifying pairs", i + 1, min(len(found), PAIRS_VERIFIED))
    out += [PairCandidate(p, p, None, demand) for p in found[len(out) : len(out) + 3]]
    return out, f"{len(found)} pairs screened, {sum(c.verified is not None for c in out)} simulated"


def _past_context(models: tuple[str, ...], d: Demand) -> tuple[str, ...]:
    """Requests longer than a model's context window: served as asked (the estimate says
    what they would cost), but the model as catalogued could not take them."""
    out = []
    for name in models:
        arch = model(name)
        window = arch.max_context_tokens
        longest = d.input_at(99.0) + d.output_at(99.0)
        if longest > window:
            mean = d.input_mean + d.output_mean
            out.append(
                f"{arch.id}'s context window is {window:,} tokens; the p99 prompt and answer "
                f"together are {longest:,.0f} (the mean request {mean:,.0f})"
            )
    return tuple(out)


def _demand(q: Question, requests: Requests) -> Demand:
    """The demand's moments from the plan's own requests (the peak rate, checked)."""
    rate = requests.rate_per_s
    field = "trace" if q.load.trace else "qps"
    if q.load.trace and len(requests) < MIN_TRACE_REQUESTS:
        raise InputError(
            field,
            f"has {len(requests):,} requests; a plan reads percentiles from at least "
            f"{MIN_TRACE_REQUESTS:,}",
        )
    if not 0 < rate <= MAX_QUERIES_PER_S:
        raise InputError(
            field, f"runs at {rate:.3g} queries/s; allowed: (0, {MAX_QUERIES_PER_S:g}]"
        )
    percentiles = tuple({s.percentile for s in q.targets.slos} | {50.0, 90.0, 95.0, 99.0})
    return Demand.of(
        rate,
        requests.input_tokens,
        requests.output_tokens,
        q.load.ca2(requests),
        percentiles,
        q.load.cached_fraction,
        average_rate_per_s=rate / q.load.peak_to_average,
        quantiles=target_quantiles(q.targets),
    )


def _within_max_gpus(s: Screened, max_gpus: int | None) -> tuple[list[Sized], list[Rejected]]:
    if max_gpus is None:
        return list(s.sized), []
    keep = [x for x in s.sized if x.gpus <= max_gpus]
    over = [
        Rejected(
            x.config,
            (f"needs {x.gpus:,} GPUs, over max_gpus = {max_gpus:,}",),
            "max_gpus",
            x.predicted,
            x.gpus / max_gpus - 1,
        )
        for x in s.sized
        if x.gpus > max_gpus
    ]
    return keep, over


def _verify_top(
    q: Question,
    sized: list[Sized],
    requests: Requests,
    demand: Demand,
    caps: dict[Config, tuple[int, ...]],
    progress: Callable[[str, int, int], None] | None,
) -> list[Candidate]:
    """Simulate the top `q.verify` candidates, each at its fewest passing replicas; then
    the next ones in the screen's order for as long as the screen puts them below the
    cheapest verified answer (a candidate the simulation grew may no longer be the
    cheapest), up to twice `q.verify` in all."""
    out: list[Candidate] = []
    for i, s in enumerate(sized[: 2 * q.verify]):
        if i >= q.verify and s.objective(q.objective) >= _cheapest(out, q.objective):
            break
        out.append(_verified(q, s, requests, demand, caps))
        if progress:
            progress("verifying", i + 1, max(q.verify, i + 1))
    return out


def _cheapest(verified: list[Candidate], objective: str) -> float:
    return min((c.sized.objective(objective) for c in verified if c.met), default=math.inf)


def _verified(
    q: Question,
    s: Sized,
    requests: Requests,
    demand: Demand,
    caps: dict[Config, tuple[int, ...]],
) -> Candidate:
    n = min(requests_for(s, q.requests), len(requests))
    subset = Requests(
        requests.arrival_s[:n], requests.input_tokens[:n], requests.output_tokens[:n],
        requests.rate_per_s,
    )  # fmt: skip
    most = None if q.constraints.max_gpus is None else q.constraints.max_gpus // s.config.gpus
    allowed = caps[s.config.with_(max_sequences=None)]
    v = verify(s, subset, q.targets, q.router, most, demand.cached_fraction, allowed)
    final = s if v.replicas is None else _resize(s, demand, q, v.cap, v.replicas)
    return Candidate(final, s.replicas, v)


def _resize(s: Sized, d: Demand, q: Question, cap: int, replicas: int) -> Sized:
    if (cap, replicas) == (s.cap, s.replicas):
        return s
    basis = q.constraints.pricing.basis(s.config.gpu)
    return sized_at(
        s.resolved,
        s.curve,
        d,
        q.targets,
        cap,
        s.ceiling,
        replicas,
        s.rate_per_replica_max,
        basis,
        q.router,
    )


def _rank(
    q: Question, verified: list[Candidate], sized: list[Sized], pairs: list[PairCandidate]
) -> list[Candidate | PairCandidate]:
    """Verified candidates that meet the targets — colocated and disaggregated — by the
    objective at their verified size (ties: more simulated headroom), then those the
    simulation failed, then the rest of the screen in its order."""

    def key(c: Candidate | PairCandidate) -> tuple[float, float, int]:
        if isinstance(c, PairCandidate):
            return (c.objective(q.objective), -c.margin(q.targets), c.gpus)
        margin = c.verified.closest.check.margin(q.targets) if c.verified else 0.0
        return (c.sized.objective(q.objective), -margin, c.sized.gpus)

    tried: list[Candidate | PairCandidate] = [*verified, *(p for p in pairs if p.verified)]
    met = sorted((c for c in tried if c.met), key=key)
    failed = [c for c in tried if not c.met]
    rest: list[Candidate | PairCandidate] = [
        Candidate(s, s.replicas, None) for s in sized[len(verified) :][:LISTED]
    ]
    rest += [p for p in pairs if p.verified is None]
    return [*met, *failed, *rest]
