"""The Monte Carlo machinery on its own: distributions, convergence of the sample mean,
variance shares and a tornado worked out by hand."""

import math

import numpy as np
import pytest

from infercost.errors import InputError
from infercost.planning.uncertainty import (
    Distribution,
    draw,
    first_order_index,
    monte_carlo,
    summary,
)


def test_quantiles_of_each_distribution_by_hand():
    u = Distribution("x", "uniform", low=10.0, high=20.0)
    assert u.quantile(0.1) == pytest.approx(11.0)
    assert u.quantile(0.9) == pytest.approx(19.0)
    # triangular (0, 0, 1): F(x) = 1 - (1 - x)², so the P10 is 1 - √0.9
    t = Distribution("x", "triangular", low=0.0, mode=0.0, high=1.0)
    assert t.quantile(0.1) == pytest.approx(1 - math.sqrt(0.9))
    # triangular (0, 1, 1): F(x) = x², so the P90 is √0.9
    t = Distribution("x", "triangular", low=0.0, mode=1.0, high=1.0)
    assert t.quantile(0.9) == pytest.approx(math.sqrt(0.9))
    g = Distribution("x", "lognormal", median=2.0, p90=6.0)
    assert g.quantile(0.5) == pytest.approx(2.0)
    assert g.quantile(0.9) == pytest.approx(6.0)
    assert g.quantile(0.1) == pytest.approx(2.0 * 2.0 / 6.0)  # symmetric in the log


def test_degenerate_distributions_give_their_value_exactly():
    rng = np.random.default_rng(0)
    for d in (
        Distribution("x", "uniform", low=0.3, high=0.3),
        Distribution("x", "triangular", low=0.3, mode=0.3, high=0.3),
    ):
        assert (d.draw(rng, 1000) == 0.3).all()
        assert d.quantile(0.1) == d.quantile(0.9) == 0.3


def test_an_integer_input_is_drawn_in_whole_values():
    d = Distribution("batch", "triangular", low=64, mode=132, high=143, integer=True)
    values = d.draw(np.random.default_rng(1), 5000)
    assert (values == np.rint(values)).all()
    assert values.min() >= 64
    assert values.max() <= 143


def test_a_range_out_of_order_is_refused():
    with pytest.raises(InputError, match="low ≤ mode ≤ high"):
        Distribution("x", "triangular", low=1.0, mode=3.0, high=2.0)
    with pytest.raises(InputError, match="median < p90"):
        Distribution("x", "lognormal", median=2.0, p90=1.0)
    with pytest.raises(InputError, match="samples"):
        draw({"x": Distribution("x", "uniform", low=0.0, high=1.0)}, 0, 0)


# The true means: uniform (a + b) / 2; triangular (a + c + b) / 3; lognormal median · e^(σ²/2).
MEANS = [
    (Distribution("x", "uniform", low=2.0, high=10.0), 6.0, (10.0 - 2.0) / math.sqrt(12)),
    (Distribution("x", "triangular", low=350.0, mode=2000.0, high=2000.0), 1450.0, None),
    (Distribution("x", "lognormal", median=1.0, p90=3.0), None, None),
]


@pytest.mark.parametrize(("dist", "mean", "sd"), MEANS, ids=lambda x: getattr(x, "kind", ""))
def test_the_sample_mean_converges_within_its_bound(dist, mean, sd):
    if dist.kind == "lognormal":
        mean = dist.median * math.exp(dist.sigma**2 / 2)
        sd = mean * math.sqrt(math.exp(dist.sigma**2) - 1)
    if dist.kind == "triangular":
        a, c, b = dist.low, dist.mode, dist.high
        sd = math.sqrt((a * a + b * b + c * c - a * b - a * c - b * c) / 18)
    for n in (100, 10_000, 1_000_000):
        values = draw({"x": dist}, n, seed=7)["x"]
        assert abs(values.mean() - mean) <= 4 * sd / math.sqrt(n)  # four standard errors
    assert 4 * sd / math.sqrt(1_000_000) < 0.01 * mean  # the bound itself shrinks as 1/√N


def test_variance_shares_of_a_sum_and_of_an_ignored_input():
    rng = np.random.default_rng(2)
    a, b, c = rng.random(40_000), rng.random(40_000), rng.random(40_000)
    y = a + b  # two equal halves of the variance; c plays no part
    assert first_order_index(a, y) == pytest.approx(0.5, abs=0.02)
    assert first_order_index(b, y) == pytest.approx(0.5, abs=0.02)
    assert first_order_index(c, y) == pytest.approx(0.0, abs=0.01)
    assert first_order_index(a, np.full(10, 3.0)) is None  # nothing to explain


def test_the_tornado_of_a_sum_worked_by_hand():
    """y = 3·a + b + 0·c with a, b, c uniform on [0, 1] and points 0.5: a at its P10 (0.1)
    and P90 (0.9) gives y = 0.8 and 3.2 (swing 2.4); b gives 1.6 → 2.4 (0.8); c none."""
    inputs = {n: Distribution(n, "uniform", low=0.0, high=1.0) for n in ("a", "b", "c")}

    def evaluate(v):
        return {"y": 3 * v["a"] + v["b"] + 0 * v["c"], "label": "not a number"}

    points = {"a": 0.5, "b": 0.5, "c": 0.5}
    u = monte_carlo(evaluate, inputs, points, 20_000, seed=1, headline="y")
    assert [r.input for r in u.tornado] == ["a", "b", "c"]
    a, b, c = u.tornado
    assert (a.low, a.high) == pytest.approx((0.8, 3.2))
    assert a.swing == pytest.approx(2.4)
    assert (b.low, b.high) == pytest.approx((1.6, 2.4))
    assert c.swing == 0
    assert a.variance_share == pytest.approx(0.9, abs=0.02)  # 9 / (9 + 1)
    assert b.variance_share == pytest.approx(0.1, abs=0.02)
    assert "label" not in u.quantiles  # only numbers have quantiles
    assert u.quantiles["y"] == summary(u.outputs["y"])


def test_the_same_seed_draws_the_same_samples_and_another_does_not():
    inputs = {"x": Distribution("x", "uniform", low=0.0, high=1.0)}
    assert (draw(inputs, 100, 5)["x"] == draw(inputs, 100, 5)["x"]).all()
    assert not (draw(inputs, 100, 5)["x"] == draw(inputs, 100, 6)["x"]).all()


def test_samples_are_evaluated_in_bounded_chunks():
    seen = []

    def evaluate(v):
        seen.append(len(v["x"]))
        return {"y": v["x"] * 2}

    inputs = {"x": Distribution("x", "uniform", low=0.0, high=1.0)}
    u = monte_carlo(evaluate, inputs, {"x": 0.5}, 150_000, seed=0, headline="y")
    assert max(seen) <= 65_536
    assert len(u.outputs["y"]) == 150_000
    assert (u.outputs["y"] == 2 * u.draws["x"]).all()
