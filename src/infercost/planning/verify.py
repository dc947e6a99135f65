"""Verification by simulation: the fewest replicas of a candidate that meet the targets.

The screen's replica count is a starting point. The simulator (`sim.engine`) then runs the
candidate's fleet under the plan's own arrivals and lengths, request by request:

    start at the screen's R;  while it misses a target: R ← max(R + 1, ⌈g R⌉), g the worst
    target's achieved ÷ threshold, between 1.25 and 2
    then bisect between the largest R known to miss and the smallest known to meet,
    down to one replica (or 1 % of R for a large fleet)
    then try the neighbouring batch caps (and the KV ceiling) one replica below, and bisect
    down with any that meets the targets there (the screen's choice of cap is analytic too)

R never goes below what the replicas' throughput allows (λ ≥ R × μ(c) overloads them), nor
above `MAX_GROWTH` × the screen's R, or the GPUs the user allows; it stops growing (the
candidate fails) when two larger fleets improve the worst miss by less than 5 %: the target
is then out of any fleet's reach.

Every trial uses the same requests (one seeded stream for the whole plan), so a larger
fleet only ever sees less load per replica. A fleet of more than `SUBSET` replicas is run
through `SUBSET` of them with the arrival times stretched by R / SUBSET: the same load per
replica, with bursts at least as long as the whole fleet's (conservative). The first
`WARMUP` of the requests, which meet an empty fleet, are left out of the check, and a target
is met when the upper 95 % confidence bound of its percentile is within it
(`targets.check_records`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from infercost.limits import MAX_REPLICAS
from infercost.planning.screen import Sized
from infercost.planning.targets import Check, Targets, check_records
from infercost.records import Records
from infercost.sim.engine import Fleet, SimResult, simulate
from infercost.workload.requests import Requests

SUBSET = 8  # replicas simulated in full; a larger fleet is run through this many
WARMUP = 0.1  # share of the requests, the earliest, left out of the check
GROWTH = 1.25  # a missing fleet grows by at least this factor
MAX_STEP = 2.0  # and at most this one (by how far its worst target is missed, in between)
MAX_GROWTH = 64  # to at most this many times the screen's count (plus one)
STALL = 0.05  # it stops growing when two steps improve the worst miss by less than this
TOLERANCE = 0.01  # bisection stops within this share of R (or one replica)
REQUESTS_PER_SLOT = 10  # requests per replica per slot it holds: ~10 lifetimes at a full batch
MIN_REQUESTS = 10_000
MAX_VERIFY_REQUESTS = 200_000


@dataclass(frozen=True)
class Trial:
    cap: int
    replicas: int
    check: Check
    result: SimResult
    simulated_replicas: int


@dataclass(frozen=True)
class Verified:
    """A candidate after simulation: the batch cap and fewest replicas found to meet every
    target (`replicas` None when none up to the bound does), and every trial on the way."""

    sized: Sized
    cap: int
    replicas: int | None
    trials: tuple[Trial, ...]
    requests: int

    @property
    def passed(self) -> Trial | None:
        return next(
            (t for t in self.trials if (t.cap, t.replicas) == (self.cap, self.replicas)), None
        )

    @property
    def closest(self) -> Trial:
        """The passing trial, or the largest fleet tried at the screen's cap."""
        own = [t for t in self.trials if t.cap == self.sized.cap] or list(self.trials)
        return self.passed or max(own, key=lambda t: t.replicas)

    def summary(self, targets: Targets) -> dict[str, Any]:
        """The simulation of the verified (or largest tried) fleet, as `simulate` reports it,
        over the requests the check counted."""
        trial = self.closest
        counted = replace(trial.result, records=after_warmup(trial.result.records))
        out = counted.summary(list(targets.slos))
        out["replicas_in_fleet"] = trial.replicas
        out["replicas_simulated"] = trial.simulated_replicas
        out["max_seqs"] = trial.cap
        out["requests_checked"] = len(counted.records)
        out["met"] = trial.check.met
        out["misses"] = list(trial.check.misses)
        out["goodput_fraction"] = trial.check.goodput_fraction
        out["upper_bound_s"] = trial.check.achieved_s
        out["trials"] = [
            {"max_seqs": t.cap, "replicas": t.replicas, "met": t.check.met} for t in self.trials
        ]
        return out


def requests_for(sized: Sized, requested: int | None) -> int:
    """How many requests verify a candidate: enough for each simulated replica to cycle its
    KV ceiling about ten times (independent of the targets, so that a tighter target is
    checked on the same requests), or what the user asked for."""
    if requested is not None:
        return requested
    wanted = SUBSET * REQUESTS_PER_SLOT * sized.ceiling
    return int(min(max(wanted, MIN_REQUESTS), MAX_VERIFY_REQUESTS))


class _Search:
    """Trials of one candidate, each (cap, replicas) simulated at most once."""

    def __init__(
        self,
        sized: Sized,
        requests: Requests,
        targets: Targets,
        router: str,
        cached_fraction: float,
        progress: Callable[[], None] | None,
    ) -> None:
        self.sized, self.requests, self.targets = sized, requests, targets
        self.router, self.cached_fraction, self.progress = router, cached_fraction, progress
        self.tried: dict[tuple[int, int], Trial] = {}

    def met(self, cap: int, replicas: int) -> bool:
        key = (cap, replicas)
        if key not in self.tried:
            self.tried[key] = _run(
                self.sized, self.requests, self.targets, self.router, cap, replicas,
                self.cached_fraction,
            )  # fmt: skip
            if self.progress:
                self.progress()
        return self.tried[key].check.met

    def overloaded(self, cap: int) -> int:
        """The most replicas of `cap` slots the rate overloads (λ ≥ R × μ(cap))."""
        full = self.sized.curve.completions_per_s(cap)
        return max(math.floor(self.requests.rate_per_s / full - 1e-9), 0)

    def fewest(self, cap: int, lo: int, hi: int) -> int:
        """Bisect between `lo` (misses, or overloaded) and `hi` (meets)."""
        lo = max(lo, self.overloaded(cap))
        while hi - lo > max(1, math.floor(TOLERANCE * hi)):
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if self.met(cap, mid) else (mid, hi)
        return hi

    def trials(self) -> tuple[Trial, ...]:
        return tuple(self.tried[k] for k in sorted(self.tried))


def verify(
    sized: Sized,
    requests: Requests,
    targets: Targets,
    router: str = "round-robin",
    max_replicas: int | None = None,
    cached_fraction: float = 0.0,
    caps: tuple[int, ...] = (),
    progress: Callable[[], None] | None = None,
) -> Verified:
    """The fewest replicas of `sized` whose simulation meets `targets` (module docstring);
    then the neighbouring batch caps among `caps` (and the KV ceiling) are tried one replica
    below, and taken when they meet the targets with fewer."""
    search = _Search(sized, requests, targets, router, cached_fraction, progress)
    cap = sized.cap
    top = MAX_GROWTH * sized.replicas + 1
    if max_replicas is not None:
        top = min(top, max_replicas)
    lo = search.overloaded(cap)
    replicas = min(max(sized.replicas, lo + 1), top)
    misses: list[float] = []
    while not search.met(cap, replicas):
        lo = replicas
        misses.append(_worst_miss(search.tried[cap, replicas].check, targets))
        if replicas >= top or _stalled(misses):
            return Verified(sized, cap, None, search.trials(), len(requests))
        factor = min(max(misses[-1], GROWTH), MAX_STEP)
        replicas = min(max(replicas + 1, math.ceil(replicas * factor)), top)
    best = search.fewest(cap, lo, replicas)
    for other in _neighbours(sized, caps):
        if best > 1 and search.overloaded(other) < best - 1 and search.met(other, best - 1):
            best, cap = search.fewest(other, 0, best - 1), other
    return Verified(sized, cap, best, search.trials(), len(requests))


def _worst_miss(check: Check, targets: Targets) -> float:
    """How far the worst target is from being met: achieved ÷ threshold (or the goodput
    wanted ÷ the goodput reached)."""
    worst = max(check.achieved_s[s.name] / s.threshold_s for s in targets.slos)
    if targets.goodput_fraction is not None:
        worst = max(worst, targets.goodput_fraction / max(check.goodput_fraction, 1e-9))
    return worst if math.isfinite(worst) else MAX_STEP


def _stalled(misses: list[float]) -> bool:
    """More replicas stopped helping: the worst miss fell by under 5 % over the last two
    larger fleets (a target below what one lightly loaded replica does)."""
    return len(misses) >= 3 and misses[-1] > (1 - STALL) * misses[-3]


def _neighbours(sized: Sized, caps: tuple[int, ...]) -> list[int]:
    """The caps next to the screen's, below and above, and the KV ceiling."""
    allowed = sorted({c for c in caps if c <= sized.ceiling} | {sized.ceiling})
    below = [c for c in allowed if c < sized.cap]
    above = [c for c in allowed if c > sized.cap]
    picks = [*below[-1:], *above[:1], *above[-1:]]
    return list(dict.fromkeys(picks))


def _run(
    sized: Sized,
    requests: Requests,
    targets: Targets,
    router: str,
    cap: int,
    replicas: int,
    cached_fraction: float,
) -> Trial:
    simulated = min(replicas, SUBSET, MAX_REPLICAS)
    stretch = replicas / simulated
    fleet = Fleet.of(sized.resolved, simulated, router, cached_fraction)
    fleet = replace(fleet, max_seqs=cap)
    result = simulate(
        sized.resolved.deployment,
        requests.arrival_s * stretch,
        requests.input_tokens,
        requests.output_tokens,
        fleet,
    )
    check = check_records(after_warmup(result.records), targets)
    return Trial(cap, replicas, check, result, simulated)


def after_warmup(records: Records, keep: NDArray[np.bool_] | None = None) -> Records:
    """The records (those `keep` selects) after the warm-up: the first `WARMUP` share of them
    dropped (records come in arrival order)."""
    index = np.arange(len(records)) if keep is None else np.flatnonzero(keep)
    return records.take(index[int(len(index) * WARMUP) :])
