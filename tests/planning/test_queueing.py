"""The planner's queueing approximations against textbook results worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from infercost.planning.queueing import (
    kingman_wait_quantile,
    occupancy,
    stall_spread,
    upper_quantile_index,
)


def _log_mu_sum(rates: list[float]) -> np.ndarray:
    """Σ ln μ(k) for a server whose completion rate with k in flight is rates[k − 1]."""
    return np.concatenate([[0.0], np.cumsum(np.log(rates))])


def test_one_slot_is_the_mm1_queue() -> None:
    # M/M/1 at ρ = 0.8, μ = 1: P(wait) = ρ = 0.8, and P(W > t) = ρ e^(−μ(1−ρ)t), so the
    # p99 wait solves 0.8 e^(−0.2 t) = 0.01: t = ln(80) / 0.2 = 21.91 s.
    occ = occupancy(_log_mu_sum([1.0]), np.array([0.8]), ca2=1.0, cs2=1.0)
    assert occ.p_full[0, 0] == pytest.approx(0.8)
    assert occ.slot_wait_quantile(0.99)[0, 0] == pytest.approx(21.91, abs=0.01)
    assert occ.mean()[0, 0] == pytest.approx(4.0)  # ρ / (1 − ρ)


def test_two_slots_give_erlang_c() -> None:
    # M/M/2, λ = 1, μ = 1 a slot (a = 1 Erlang): Erlang C = a² / (2 + a) ... = 1/3.
    occ = occupancy(_log_mu_sum([1.0, 2.0]), np.array([1.0]), ca2=1.0, cs2=1.0)
    assert occ.p_full[0, 0] == pytest.approx(1 / 3)
    # L = a + C·ρ/(1 − ρ) with ρ = 1/2: 1 + 1/3 = 4/3.
    assert occ.mean()[0, 0] == pytest.approx(4 / 3)


def test_many_slots_hold_a_poisson_number_in_service() -> None:
    # M/M/∞ (cap far above the load): N is Poisson(λ/μ), mean and variance 20.
    slots = 200
    occ = occupancy(_log_mu_sum([float(k) for k in range(1, slots + 1)]), np.array([20.0]), 1, 1)
    n = np.arange(slots + 1)
    mean = float(occ.pmf[0, 0] @ n)
    assert mean == pytest.approx(20.0, rel=1e-6)
    assert float(occ.pmf[0, 0] @ (n - mean) ** 2) == pytest.approx(20.0, rel=1e-4)
    assert occ.p_full[0, 0] < 1e-50


@pytest.mark.parametrize(
    ("ca2", "cs2", "variance_over_mean"),
    [
        (1.0, 0.0, 1.0),  # Poisson arrivals: Poisson occupancy, whatever the service
        (4.0, 1.0, 2.5),  # exponential service: (1 + ca²) / 2
        (4.0, 0.0, 4.0),  # fixed service: the count of arrivals in one service time, ca²
        (0.05, 0.0, 0.05),  # round-robin of fixed requests: nearly constant
    ],
)
def test_bursty_or_smooth_arrivals_widen_or_narrow_the_occupancy(
    ca2: float, cs2: float, variance_over_mean: float
) -> None:
    slots = 400
    occ = occupancy(
        _log_mu_sum([float(k) for k in range(1, slots + 1)]), np.array([100.0]), ca2, cs2
    )
    n = np.arange(slots + 1)
    mean = float(occ.pmf[0, 0] @ n)
    assert mean == pytest.approx(100.0, rel=0.02)  # the diffusion scaling keeps it, nearly
    assert float(occ.pmf[0, 0] @ (n - mean) ** 2) / mean == pytest.approx(
        variance_over_mean, rel=0.05
    )


def test_the_batch_quantile_stops_at_the_cap() -> None:
    occ = occupancy(_log_mu_sum([1.0, 1.5, 1.8]), np.array([0.2, 1.7]), ca2=1.0, cs2=1.0)
    batch = occ.batch_quantile(0.99)[0]
    assert batch[0] < 3
    assert batch[1] == 3


def test_kingman_is_exact_for_mm1_and_infinite_when_unstable() -> None:
    waits = kingman_wait_quantile(np.array([0.8, 0.005, 1.0]), 1.0, 1.0, 1.0, 0.99)
    assert waits[0] == pytest.approx(math.log(80) / 0.2)
    assert waits[1] == 0.0  # waits with probability 0.5 % < 1 %: the p99 does not wait
    assert math.isinf(waits[2])


def test_the_upper_bound_of_a_percentile_sits_above_it() -> None:
    # 10,000 samples: the p99 is the 9,900th (index 9,899); its 95 % upper bound is
    # 1.645 σ = 1.645 √(10,000 · 0.99 · 0.01) = 16.4 samples further: ⌈9,916.4⌉, index 9,916.
    assert upper_quantile_index(10_000, 0.99) == 9_916
    assert upper_quantile_index(10, 0.999) == 9


def test_several_caps_at_once_agree_with_each_alone() -> None:
    mus = [k / (1.0 + 0.01 * k) for k in range(1, 65)]  # a batch that slows as it grows
    rates = np.array([[1.0, 5.0, 10.0], [2.0, 20.0, 40.0]])
    both = occupancy(_log_mu_sum(mus), rates, 2.0, 0.3, caps=[16, 64])
    for k, cap in enumerate((16, 64)):
        alone = occupancy(_log_mu_sum(mus[:cap]), rates[k], 2.0, 0.3)
        assert np.allclose(both.pmf[k, :, : cap + 1], alone.pmf[0])
        assert np.allclose(both.slot_wait_quantile(0.95)[k], alone.slot_wait_quantile(0.95)[0])
        assert np.allclose(both.mean()[k], alone.mean()[0])


def test_one_request_sees_stalls_spread_only_when_lengths_or_arrivals_vary() -> None:
    fixed = stall_spread(np.full(5000, 1000), np.full(5000, 201), (0.99,))
    # Fixed lengths and Poisson arrivals: the count of prompts in a 200-token window is
    # Poisson, so with k = 64 expected the p99 is about 64 + 2.33·8 = 83: a ratio near 1.3.
    assert fixed.ratio(0.99, np.array([64.0]), 1.0)[0] == pytest.approx(1.3, abs=0.06)
    long_tail = stall_spread(
        np.random.default_rng(1).lognormal(6.4, 1.0, 5000).astype(np.int64),
        np.full(5000, 201),
        (0.99,),
    )
    k = np.array([4.0, 64.0, 10_000.0])
    assert np.all(long_tail.ratio(0.99, k, 1.0) > fixed.ratio(0.99, k, 1.0))
    assert np.all(long_tail.ratio(0.99, k, 9.0) > long_tail.ratio(0.99, k, 1.0))
    assert fixed.ratio(0.99, np.array([10_000.0]), 1.0)[0] < 1.05  # many prompts average out
