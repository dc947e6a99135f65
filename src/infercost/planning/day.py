"""A day of traffic: a fleet fixed for the peak hour against one autoscaled hour by hour.

The day's traffic is a profile of 24 hourly multipliers of the mean rate (the diurnal shape
of `workload.arrivals`, a sinusoid, or a file), scaled to the plan's average. The plan sizes
its fleet for the peak hour (verified by simulation: R replicas of its answer); a replica of
it then carries λ₁ = peak rate ÷ R within the targets. Two policies:

    fixed        R replicas every hour
    autoscaled   R_h = min(R, max(minimum, ⌈λ_h × (1 + headroom) ÷ λ₁⌉)) in hour h (never
                 more than the fleet the peak was verified with); replicas added
                 at an hour's start serve only after the cold start (`scale_up_delay_s`),
                 so its first minutes run on the previous hour's count; removed ones go at once

Each hour is simulated on its own (a steady state: queues do not carry across hours) for
`WINDOW_S` seconds of its traffic, and the cold start of an hour that scales up as a window
of its own at the previous count; an hour misses when either window misses a target. Cost
is Σ_h R_h GPU-hours at the fleet's price.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from infercost.errors import InputError
from infercost.files import read_text
from infercost.limits import MAX_REPLICAS
from infercost.planning.screen import Sized
from infercost.planning.targets import Targets, check_records
from infercost.planning.verify import SUBSET, after_warmup
from infercost.sim.engine import Fleet, simulate
from infercost.units import SECONDS_PER_HOUR
from infercost.workload.arrivals import DIURNAL_DEFAULT, arrivals
from infercost.workload.lengths import lengths

HOURS = 24
WINDOW_S = 600.0  # of each hour's traffic simulated (a steady state, not the whole hour)
MAX_WINDOW_REQUESTS = 20_000  # and at most this many requests in one window
MIN_WINDOW_REQUESTS = 200


@dataclass(frozen=True)
class Profile:
    """24 hourly multipliers of the day's mean rate (mean 1)."""

    hourly: tuple[float, ...]
    source: str

    @classmethod
    def of(cls, values: list[float] | tuple[float, ...], source: str) -> Profile:
        shape = np.asarray(values, dtype=float)
        if shape.shape != (HOURS,) or not np.all(np.isfinite(shape)) or np.any(shape < 0):
            raise InputError("profile", f"needs {HOURS} non-negative hourly rates, one per hour")
        if not shape.sum() > 0:
            raise InputError("profile", "has no traffic in any hour")
        return cls(tuple(float(x) for x in shape / shape.mean()), source)

    @classmethod
    def diurnal(cls) -> Profile:
        return cls.of(DIURNAL_DEFAULT, "diurnal (workload.arrivals.DIURNAL_DEFAULT)")

    @classmethod
    def sinusoid(cls, amplitude: float, peak_hour: float = 14.0) -> Profile:
        """1 + a·cos(2π (h + ½ − peak) / 24): the mean rate, a peak a above it."""
        if not 0 <= amplitude < 1:
            raise InputError(
                "profile", f"a sinusoid's amplitude must be in [0, 1), got {amplitude}"
            )
        hours = np.arange(HOURS) + 0.5
        shape = 1 + amplitude * np.cos(2 * np.pi * (hours - peak_hour) / HOURS)
        return cls.of(list(shape), f"sinusoid, amplitude {amplitude:g}, peak at {peak_hour:g} h")

    @classmethod
    def read(cls, path: Path) -> Profile:
        """A file of 24 hourly rates: one number a line, or `hour,rate` lines (a header may
        name the columns); any unit, only the shape is kept."""
        values: list[float] = []
        for line in read_text(path, "profile").splitlines():
            cells = [c.strip() for c in line.split(",") if c.strip()]
            if not cells or cells[0].startswith("#"):
                continue
            try:
                values.append(float(cells[-1]))
            except ValueError:
                if values:  # only a first line may be a header
                    raise InputError("profile", f"{path}: cannot read {line.strip()!r}") from None
        return cls.of(values, str(path))

    @property
    def peak_to_average(self) -> float:
        return max(self.hourly)

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "hourly": list(self.hourly),
                "peak_to_average": self.peak_to_average}  # fmt: skip


def profile_of(given: str | list[float] | None) -> Profile | None:
    """`diurnal`, `sinusoid:AMPLITUDE[:PEAK_HOUR]`, a file, or 24 numbers (a scenario)."""
    if given is None:
        return None
    if isinstance(given, list):
        return Profile.of(given, "the scenario's 24 hourly rates")
    text = given.strip()
    if text == "diurnal":
        return Profile.diurnal()
    if text.startswith("sinusoid:"):
        try:
            numbers = [float(x) for x in text.split(":")[1:]]
        except ValueError:
            raise InputError("profile", f"cannot read {text!r}; write sinusoid:0.2[:14]") from None
        if len(numbers) not in (1, 2):
            raise InputError("profile", f"cannot read {text!r}; write sinusoid:0.2[:14]")
        return Profile.sinusoid(*numbers)
    return Profile.read(Path(text))


@dataclass(frozen=True)
class Autoscale:
    min_replicas: int = 1
    scale_up_delay_s: float = 300.0  # a replica's cold start: load the weights, warm up
    headroom: float = 0.1  # capacity kept above the hour's expected load

    def check(self) -> None:
        if self.min_replicas < 1:
            raise InputError("min_replicas", f"must be ≥ 1, got {self.min_replicas}")
        if not 0 <= self.scale_up_delay_s <= SECONDS_PER_HOUR:
            raise InputError(
                "scale_up_delay", f"must be in [0, 3600] s, got {self.scale_up_delay_s}"
            )
        if not 0 <= self.headroom <= 10:
            raise InputError("headroom", f"must be in [0, 10], got {self.headroom}")


@dataclass(frozen=True)
class Hour:
    replicas: int
    rate_per_s: float
    met: bool
    misses: tuple[str, ...]
    cold_start_met: bool | None  # None: it did not scale up


@dataclass(frozen=True)
class Policy:
    name: str
    hours: tuple[Hour, ...]
    usd_per_gpu_hour: float | None
    gpus_per_replica: int

    @property
    def replicas(self) -> list[int]:
        return [h.replicas for h in self.hours]

    @property
    def usd_per_day(self) -> float | None:
        if self.usd_per_gpu_hour is None:
            return None
        gpu_hours = sum(self.replicas) * self.gpus_per_replica  # one hour each
        return float(gpu_hours * self.usd_per_gpu_hour)

    def to_dict(self) -> dict[str, Any]:
        missed = [h for h, x in enumerate(self.hours) if not x.met]
        return {
            "usd_per_day": self.usd_per_day,
            "replicas_peak": max(self.replicas),
            "replicas_mean": float(np.mean(self.replicas)),
            "gpus_peak": max(self.replicas) * self.gpus_per_replica,
            "intervals_missed": missed,
            "hours": [
                {"hour": h, "replicas": x.replicas, "rate_per_s": x.rate_per_s, "met": x.met,
                 "misses": list(x.misses), "cold_start_met": x.cold_start_met}
                for h, x in enumerate(self.hours)
            ],
        }  # fmt: skip


@dataclass(frozen=True)
class DayPlan:
    profile: Profile
    autoscale: Autoscale
    per_replica_rate: float
    fixed: Policy
    autoscaled: Policy

    def to_dict(self) -> dict[str, Any]:
        fixed, auto = self.fixed.to_dict(), self.autoscaled.to_dict()
        saving = None
        if fixed["usd_per_day"] and auto["usd_per_day"] is not None:
            saving = 1 - auto["usd_per_day"] / fixed["usd_per_day"]
        return {
            "profile": self.profile.to_dict(),
            "autoscale": {"min_replicas": self.autoscale.min_replicas,
                          "scale_up_delay_s": self.autoscale.scale_up_delay_s,
                          "headroom": self.autoscale.headroom,
                          "rate_per_replica": self.per_replica_rate},
            "fixed": fixed,
            "autoscaled": {**auto, "saving_vs_fixed": saving},
        }  # fmt: skip


def autoscaled_replicas(
    rates: list[float], per_replica: float, policy: Autoscale, most: int
) -> list[int]:
    """R_h of the module docstring."""
    return [
        min(
            most,
            max(policy.min_replicas, math.ceil(r * (1 + policy.headroom) / per_replica - 1e-9)),
        )
        for r in rates
    ]


def plan_day(
    sized: Sized,
    average_rate: float,
    profile: Profile,
    policy: Autoscale,
    targets: Targets,
    specs: tuple[str, str],
    router: str = "round-robin",
    seed: int = 0,
    simulate_hours: bool = True,
) -> DayPlan:
    """Both policies for the day (see the module docstring); `sized` is the plan's fleet for
    the peak hour, at its verified replica count."""
    policy.check()
    rates = [average_rate * m for m in profile.hourly]
    per_replica = max(rates) / sized.replicas
    most = max(sized.replicas, policy.min_replicas)
    auto = autoscaled_replicas(rates, per_replica, policy, most)
    price = None if sized.rate is None else sized.rate.usd_per_gpu_hour
    runs = _Runs(sized, targets, specs, router, seed) if simulate_hours else None
    fixed = Policy("fixed", tuple(_hour(runs, h, sized.replicas, sized.replicas, rates[h], policy)
                                  for h in range(HOURS)), price, sized.config.gpus)  # fmt: skip
    hours = []
    for h in range(HOURS):
        before = auto[h - 1] if h else auto[-1]  # the day before ends as this one will
        hours.append(_hour(runs, h, auto[h], before, rates[h], policy))
    autoscaled = Policy("autoscaled", tuple(hours), price, sized.config.gpus)
    return DayPlan(profile, policy, per_replica, fixed, autoscaled)


def _hour(
    runs: _Runs | None, h: int, replicas: int, before: int, rate: float, policy: Autoscale
) -> Hour:
    if runs is None:
        return Hour(replicas, rate, True, (), None)
    misses = runs.misses(h, replicas, rate)
    cold: bool | None = None
    if replicas > before and policy.scale_up_delay_s > 0:
        window = min(policy.scale_up_delay_s, WINDOW_S)
        late = runs.misses(h, before, rate, window, cold=True)
        cold = not late
        misses = misses + tuple(f"during the cold start ({before} replicas): {m}" for m in late)
    return Hour(replicas, rate, not misses, misses, cold)


class _Runs:
    """Simulated windows, each (replicas, rate, length) run once."""

    def __init__(
        self, sized: Sized, targets: Targets, specs: tuple[str, str], router: str, seed: int
    ) -> None:
        self.sized, self.targets, self.specs = sized, targets, specs
        self.router, self.seed = router, seed
        self.done: dict[tuple[int, int, float, bool], tuple[str, ...]] = {}

    def misses(
        self, h: int, replicas: int, rate: float, window: float = WINDOW_S, cold: bool = False
    ) -> tuple[str, ...]:
        key = (h, replicas, window, cold)
        if key not in self.done:
            self.done[key] = self._run(h, replicas, rate, window)
        return self.done[key]

    def _run(self, h: int, replicas: int, rate: float, window: float) -> tuple[str, ...]:
        if rate <= 0:
            return ()
        simulated = min(replicas, SUBSET, MAX_REPLICAS)
        share = rate * simulated / replicas  # the simulated replicas' share of the hour
        n = int(min(max(share * window, MIN_WINDOW_REQUESTS), MAX_WINDOW_REQUESTS))
        seed = self.seed + 1000 + h
        rng = np.random.default_rng(seed)
        times = arrivals("poisson", share, n, seed)
        prompt = lengths(self.specs[0], n, rng, "input_tokens", minimum=0)
        output = lengths(self.specs[1], n, rng, "output_tokens", minimum=1)
        s = self.sized
        fleet = replace(Fleet.of(s.resolved, simulated, self.router), max_seqs=s.cap)
        result = simulate(s.resolved.deployment, times, prompt, output, fleet)
        return check_records(after_warmup(result.records), self.targets).misses
