"""Request arrival times: Poisson, gamma bursts, a diurnal rate curve, or a replayed trace.

All generators take a seeded `numpy.random.Generator` and return sorted arrival times in
seconds from 0:

- poisson: exponential gaps with mean 1/rate;
- constant: evenly spaced, 1/rate apart;
- gamma: gamma gaps with the same mean and a coefficient of variation `burstiness`
  (shape = 1/burstiness²): 1 is Poisson, larger is burstier, smaller is more regular;
- diurnal: a Poisson process whose rate follows 24 hourly multipliers of the mean rate,
  by time-rescaling (the cumulative rate is inverted piecewise-linearly);
- trace: timestamps read from a file (see `trace.py`), shifted to start at 0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from infercost.errors import InputError
from infercost.limits import MAX_QUERIES_PER_S, MAX_REQUESTS, MAX_SEED
from infercost.units import SECONDS_PER_DAY, SECONDS_PER_HOUR

Arrivals = Callable[..., NDArray[np.float64]]
ARRIVALS: dict[str, Arrivals] = {}

# A typical chat-service day: busiest in the afternoon, ~3× quieter before dawn (shape only;
# mean 1.0). Hours 0…23, local time.
DIURNAL_DEFAULT = (
    0.45, 0.35, 0.3, 0.3, 0.35, 0.45, 0.65, 0.85, 1.05, 1.2, 1.3, 1.35,
    1.35, 1.4, 1.45, 1.45, 1.4, 1.35, 1.3, 1.25, 1.15, 1.0, 0.8, 0.6,
)  # fmt: skip


def register(name: str) -> Callable[[Arrivals], Arrivals]:
    def add(func: Arrivals) -> Arrivals:
        ARRIVALS[name] = func
        return func

    return add


def _check(rate: float, n: int) -> None:
    if not 0 < rate <= MAX_QUERIES_PER_S:
        raise InputError("rate", f"must be in (0, {MAX_QUERIES_PER_S:g}] requests/s, got {rate}")
    if not 1 <= n <= MAX_REQUESTS:
        raise InputError("requests", f"must be in [1, {MAX_REQUESTS:,}], got {n:,}")


@register("poisson")
def poisson(rate: float, n: int, rng: np.random.Generator) -> NDArray[np.float64]:
    _check(rate, n)
    return np.cumsum(rng.exponential(1.0 / rate, n))


@register("constant")
def constant(rate: float, n: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """Evenly spaced arrivals, 1/rate apart (a closed-loop benchmark's steady state)."""
    _check(rate, n)
    return np.arange(1, n + 1, dtype=float) / rate


@register("gamma")
def gamma(
    rate: float, n: int, rng: np.random.Generator, burstiness: float = 2.0
) -> NDArray[np.float64]:
    _check(rate, n)
    if not 0 < burstiness <= 100:
        raise InputError("burstiness", f"must be in (0, 100] (1 is Poisson), got {burstiness}")
    shape = 1.0 / burstiness**2
    return np.cumsum(rng.gamma(shape, 1.0 / (rate * shape), n))


@register("diurnal")
def diurnal(
    rate: float,
    n: int,
    rng: np.random.Generator,
    profile: Sequence[float] = DIURNAL_DEFAULT,
) -> NDArray[np.float64]:
    """`rate` is the day's mean; hour h runs at rate × profile[h] / mean(profile)."""
    _check(rate, n)
    shape = np.asarray(profile, dtype=float)
    if shape.shape != (24,) or not np.all(shape >= 0) or not shape.sum() > 0:
        raise InputError("diurnal", "needs 24 non-negative hourly multipliers, not all zero")
    hourly = rate * shape / shape.mean()
    unit = np.cumsum(rng.exponential(1.0, n))  # a rate-1 process in "expected arrivals"
    per_day = hourly.sum() * SECONDS_PER_HOUR
    days, rest = np.divmod(unit, per_day)
    knots = np.concatenate([[0.0], np.cumsum(hourly * SECONDS_PER_HOUR)])
    hours = np.arange(25) * SECONDS_PER_HOUR
    return np.asarray(days * SECONDS_PER_DAY + np.interp(rest, knots, hours))


def arrivals(kind: str, rate: float, n: int, seed: int, **options: float) -> NDArray[np.float64]:
    """`n` arrival times from the process named `kind` (see the module docstring)."""
    if kind not in ARRIVALS:
        allowed = ", ".join(sorted(ARRIVALS))
        raise InputError("arrival", f"unknown arrival process {kind!r}; allowed: {allowed}")
    if not 0 <= seed <= MAX_SEED:
        raise InputError("seed", f"must be in [0, {MAX_SEED:,}], got {seed}")
    return ARRIVALS[kind](rate, n, np.random.default_rng(seed), **options)
