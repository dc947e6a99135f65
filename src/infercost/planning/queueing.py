"""Queueing approximations the planner sizes fleets with.

**Occupancy.** A continuous-batching replica is a load-dependent server: with n sequences in
flight it completes μ(n) = n / E2E(n) requests a second (the closed-loop throughput the perf
model gives at concurrency n), up to its batch cap c; above c the extra requests wait in the
engine's queue and it still completes μ(c). With Poisson arrivals at rate λ the number in
the system N is a birth–death chain, and under processor sharing its stationary law is
exact and insensitive to the service-time distribution (Kelly 1979, ch. 3):

    π(n) ∝ Π_{k=1..n} λ / μ(k)          (n ≤ c)
    π(c + j) = π(c) · r^j  (j ≥ 1: waiting for a slot), r = λ / μ(c)

Near saturation μ(n) flattens and this law grows a long upper tail: the batch sits at its
cap for long stretches, which a normal approximation of the occupancy misses. Arrivals
other than Poisson change its spread. In an infinite-server queue the number in service has
variance z·L (its "peakedness" z; Whitt 1984): z = 1 for Poisson arrivals whatever the
service, z = (1 + ca²) / 2 for exponential services and z = ca² for fixed ones (the count of
arrivals in a window of one service time). We interpolate by the service's own squared
coefficient of variation cs² (a sequence's life, set mostly by its output length):

    z = (ca² + cs²) / (1 + cs²)

and scale the chain's log-ratios by θ = 1 / z, the diffusion limit of the same birth–death
chain (Whitt 2002, ch. 5), which keeps its mean and multiplies its variance by z: exact at
ca² = 1, and a round-robin router that spreads fixed-length requests evenly gets the
near-constant occupancy it really has.

**Waiting for a slot.** Above the cap the slots are a first-come first-served G/G/c queue,
no longer processor sharing, so the variability of the service time (a request's whole
life, cs², mostly from its output length) matters as well: the tail's log-ratio is scaled by
θ_q = 2 / (ca² + cs²), the Allen–Cunneen factor (Allen 1990; Whitt 1993). An arrival that
finds every slot taken waits for (N − c + 1) completions at rate μ(c); with the geometric
tail, the wait given that it waits is exponential with rate μ(c)·(1 − r^θ_q), so its
p-quantile is

    W_p = ln(P(N ≥ c) / (1 − p)) / (μ(c) · (1 − r^θ_q))     when P(N ≥ c) > 1 − p, else 0

(with θ_q = 1 this is the M/M/c wait; as r → 1 it is the G/G/c heavy-traffic wait).

**Prompts waiting for the prefill stream** form a G/G/1 queue: Kingman's formula (1961)
for the mean, with an exponential tail.

**Stalls one request sees.** While a request decodes its O − 1 tokens, the prompts that
arrive in that window stall its steps: on average k of them (k = n − 1 in a batch of n), each
by a time proportional to its length. Its own stall per token is a compound sum, K prompts
of random lengths over O − 1 gaps, with K Poisson of mean k·(O − 1)/(Ō − 1). Its spread
across requests, the ratio of its p-quantile to its mean, is read from a seeded Monte Carlo
over the plan's own lengths (`stall_spread`): it is 1 when every prompt and output has one
length and no arrivals are random, and large for long-tailed prompts, where one very long
prompt in a short window dominates.

    F. P. Kelly, Reversibility and Stochastic Networks, Wiley, 1979.
    W. Whitt, Stochastic-Process Limits, Springer, 2002. W. Whitt, "Heavy-traffic
    approximations for service systems with blocking", AT&T Bell Labs Tech. J. 63(5), 1984.
    J. F. C. Kingman, "The single server queue in heavy traffic", Proc. Cambridge Phil.
    Soc. 57, 1961. A. O. Allen, Probability, Statistics and Queueing Theory, 2nd ed.,
    Academic Press, 1990. W. Whitt, "Approximations for the GI/G/m queue", Production and
    Operations Management 2(2), 1993.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


MIN_VARIABILITY = 0.01  # ca² + cs² below this is read as this: no real queue is clockwork


def theta(ca2: float, cs2: float) -> float:
    """The log-ratio scale of the occupancy chain below the cap: 1 / z (module docstring)."""
    return (1.0 + cs2) / max(ca2 + cs2, MIN_VARIABILITY)


def theta_queue(ca2: float, cs2: float) -> float:
    """The log-ratio scale of the queue above the cap: 2 / (ca² + cs²) (Allen–Cunneen)."""
    return 2.0 / max(ca2 + cs2, MIN_VARIABILITY)


def split_ca2(ca2: float, replicas: int, router: str) -> float:
    """The ca² of the arrivals one of `replicas` replicas sees.

    Round-robin hands each replica every R-th arrival: for a renewal stream the gap is a sum
    of R gaps, ca² / R. A router that picks the least-loaded replica does at least as well;
    we use the same figure for it (the simulator then checks the fleet).
    """
    del router  # both routers: see the docstring
    return ca2 / max(replicas, 1)


@dataclass(frozen=True)
class Occupancy:
    """The stationary law of N (sequences in flight plus waiting) for several batch caps,
    each at several arrival rates: arrays are [caps, rates, ...].

    `pmf[k, i, n]` for n = 0…caps[k] (zero above), and above the cap a geometric tail of
    ratio `tail_ratio[k, i]` (mass `at_cap · r / (1 − r)`).
    """

    pmf: Array  # [caps, rates, top + 1], normalised with the tail
    at_cap: Array  # [caps, rates]: pmf at n = the cap
    tail_ratio: Array  # [caps, rates]
    caps: NDArray[np.int64]  # [caps]
    mu_cap: Array  # [caps]: completions a second with every slot taken

    @property
    def p_full(self) -> Array:
        """P(N ≥ c): an arrival finds every slot taken."""
        return np.asarray(self.at_cap / (1.0 - self.tail_ratio), dtype=np.float64)

    def mean(self) -> Array:
        n = np.arange(self.pmf.shape[2], dtype=np.float64)
        r, c = self.tail_ratio, self.caps[:, None]
        tail = self.at_cap * (c * r / (1.0 - r) + r / (1.0 - r) ** 2)
        return np.asarray(self.pmf @ n + tail, dtype=np.float64)

    def batch_quantile(self, p: float) -> Array:
        """The p-quantile of the running batch, min(N, c): the smallest n whose cumulative
        mass reaches p (c when the queue holds the rest)."""
        cdf = np.cumsum(self.pmf, axis=2)
        below = (cdf < p).sum(axis=2)
        return np.asarray(np.minimum(below, self.caps[:, None]), dtype=np.float64)

    def slot_wait_quantile(self, p: float) -> Array:
        """The p-quantile of the wait for a free slot (see the module docstring)."""
        full = self.p_full
        rate = self.mu_cap[:, None] * (1.0 - self.tail_ratio)
        with np.errstate(divide="ignore", invalid="ignore"):
            wait = np.log(np.maximum(full, 1e-300) / (1.0 - p)) / rate
        return np.asarray(np.where(full > 1.0 - p, wait, 0.0), dtype=np.float64)


def occupancy(
    log_mu_sum: Array,
    rates: Array,
    ca2: float,
    cs2: float,
    caps: Sequence[int] | None = None,
) -> Occupancy:
    """The occupancy law for arrivals of squared coefficient of variation `ca2` and a
    sequence's life of `cs2`, at `rates[k, i]` (below μ(caps[k])) on `caps[k]` slots; with
    `caps` None, one cap, len(log_mu_sum) − 1, and `rates` a vector.

    `log_mu_sum[n]` = Σ_{k=1..n} ln μ(k) for n = 0…the largest cap (`log_mu_sum[0]` = 0).
    """
    top = len(log_mu_sum) - 1
    cap = np.asarray([top] if caps is None else list(caps), dtype=np.int64)
    lam = np.asarray(rates, dtype=np.float64).reshape(len(cap), -1)
    n = np.arange(top + 1, dtype=np.float64)
    log_p = theta(ca2, cs2) * (n * np.log(lam)[:, :, None] - log_mu_sum)
    log_p = np.where(n <= cap[:, None, None], log_p, -np.inf)
    p = np.exp(log_p - log_p.max(axis=2, keepdims=True))
    mu_cap = np.exp(log_mu_sum[cap] - log_mu_sum[cap - 1])
    ratio = np.minimum((lam / mu_cap[:, None]) ** theta_queue(ca2, cs2), 1.0 - 1e-12)
    at_cap = np.take_along_axis(p, np.broadcast_to(cap[:, None, None], (*lam.shape, 1)), 2)[..., 0]
    total = p.sum(axis=2) + at_cap * ratio / (1.0 - ratio)
    return Occupancy(p / total[..., None], at_cap / total, ratio, cap, mu_cap)


SPREAD_COUNTS = np.geomspace(0.5, 64.0, 12)  # k: other prompts in a mean decoding window
SPREAD_CA2 = np.asarray([1.0, 2.0, 4.0, 8.0, 16.0, 32.0])  # burstiness of the arrivals
SPREAD_SAMPLES = 2000  # requests drawn per (ca², k)


@dataclass(frozen=True)
class StallSpread:
    """The p-quantile of one request's stall per token over its mean, on a grid of the
    arrivals' ca² (rows) and k (columns)."""

    ratios: dict[float, Array]  # p → [len(SPREAD_CA2), len(SPREAD_COUNTS)]

    def ratio(self, p: float, k: Array, ca2: float) -> Array:
        """The ratio at `k` other prompts and arrivals of `ca2` (interpolated in log k and
        log ca²; beyond the k grid it shrinks as 1 / √k, a sum's spread)."""
        grid = self.ratios.get(p)
        if grid is None:
            return np.ones_like(k, dtype=np.float64)
        where = np.log(np.clip(ca2, SPREAD_CA2[0], SPREAD_CA2[-1]) / SPREAD_CA2[0]) / np.log(2)
        low = min(int(where), len(SPREAD_CA2) - 2)  # the ca² grid doubles at each row
        row = grid[low] + (where - low) * (grid[low + 1] - grid[low])
        top = SPREAD_COUNTS[-1]
        kk = np.maximum(k, SPREAD_COUNTS[0])
        inside = np.interp(np.log(kk), np.log(SPREAD_COUNTS), row)
        beyond = 1.0 + (row[-1] - 1.0) * np.sqrt(top / np.maximum(kk, top))
        return np.asarray(np.where(kk > top, beyond, inside), dtype=np.float64)


def stall_spread(
    inputs: NDArray[np.int64], outputs: NDArray[np.int64], ps: Sequence[float], seed: int = 0
) -> StallSpread:
    """The spread of the stalls one request sees (see the module docstring), from samples
    of the prompt and output lengths; `ps` are quantiles in (0, 1). Bursty arrivals make
    the count of prompts in a window overdispersed: a gamma-mixed Poisson of variance
    ca² · mean (what a renewal process's counts tend to over long windows)."""
    rng = np.random.default_rng(seed)
    sizes = inputs.astype(np.float64)
    gaps_all = outputs.astype(np.float64)[outputs > 1] - 1.0
    if sizes.mean() <= 0 or gaps_all.size == 0:
        return StallSpread({})
    sizes /= sizes.mean()
    gaps = rng.choice(gaps_all, SPREAD_SAMPLES)
    scale = gaps / gaps_all.mean()
    ratios = {p: np.ones((len(SPREAD_CA2), len(SPREAD_COUNTS))) for p in ps}
    for i, ca2 in enumerate(SPREAD_CA2):
        for j, k in enumerate(SPREAD_COUNTS):
            mix = rng.gamma(k / (ca2 - 1), (ca2 - 1) / k, SPREAD_SAMPLES) if ca2 > 1 else 1.0
            counts = rng.poisson(k * scale * mix)
            draws = rng.choice(sizes, int(counts.sum()) + 1)
            totals = np.concatenate([[0.0], np.cumsum(draws)])
            ends = np.cumsum(counts)
            per_token = (totals[ends] - totals[ends - counts]) / scale / k  # mean 1
            for p, value in zip(ps, np.quantile(per_token, list(ps)), strict=True):
                ratios[p][i, j] = float(value)
    # Burstier arrivals never spread the stalls less (the draws' noise aside).
    return StallSpread({p: np.maximum.accumulate(r, axis=0) for p, r in ratios.items()})


def kingman_wait_quantile(load: Array, service_s: float, ca2: float, cs2: float, p: float) -> Array:
    """The p-quantile of the wait in a G/G/1 queue at utilisation `load`: it waits with
    probability `load`, then for an exponential time of Kingman's mean. Infinite at
    `load` ≥ 1."""
    rho = np.asarray(load, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = (ca2 + cs2) / 2.0 * service_s / (1.0 - rho)
        wait = mean * np.log(np.maximum(rho, 1e-300) / (1.0 - p))
    out = np.where(rho > 1.0 - p, wait, 0.0)
    return np.asarray(np.where(rho >= 1.0, np.inf, out), dtype=np.float64)


def upper_quantile_index(n: int, p: float, z: float = 1.645) -> int:
    """The order statistic that bounds the p-quantile of `n` samples from above with 95 %
    confidence (binomial normal approximation): a target met there is met with margin."""
    k = n * p + z * math.sqrt(n * p * (1.0 - p))
    return min(max(math.ceil(k) - 1, 0), n - 1)
