"""Uncertain inputs: distributions, a seeded Monte Carlo, quantiles, a tornado and variance
shares.

An uncertain input is one of three distributions, each read from what a source gives:

    {low, high}          uniform on [low, high]
    {low, mode, high}    triangular: density rising from low to mode, falling to high
    {median, p90}        lognormal with that median and 90th percentile:
                         X = median · exp(σ Z), σ = ln(p90 / median) / z₀.₉ (z₀.₉ ≈ 1.2816)

An input that only takes whole values (a batch, a TP degree) is rounded to the nearest one.

`monte_carlo` draws N samples of every input (independently, from one seeded generator, in
the inputs' sorted order), evaluates them all at once through an evaluator (the caller's
pipeline, taking arrays), and reports for every output its P10, P50 and P90 (numpy's linear
interpolation between order statistics) and its mean. Two rankings of the inputs explain the
headline output:

- the tornado: the headline with one input at its own P10 and then at its P90, every other
  input at its point value; swing = |high − low|, largest first (one-at-a-time);
- each input's share of the headline's variance: the first-order Sobol index
  S_i = Var(E[Y | X_i]) / Var(Y), estimated from the same samples by the correlation ratio:
  the samples sorted by X_i and cut into B = ⌊√N⌋ (at most 100) bins of equal count, and
  the variance of the bins' means over the variance of Y (Saltelli et al., *Global
  Sensitivity Analysis: The Primer*, 2008, ch. 1; the "given data" estimator). Its bias is
  about (B − 1) / N; the shares of independent inputs add up to 1 less the interactions.

Samples are evaluated in chunks of `CHUNK`, so memory stays bounded whatever N.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from infercost.errors import InputError
from infercost.limits import MAX_SAMPLES

Array = NDArray[np.float64]
Kind = Literal["uniform", "triangular", "lognormal"]
Evaluator = Callable[[dict[str, Array]], dict[str, Any]]

Z90 = NormalDist().inv_cdf(0.9)  # the standard normal's 90th percentile, ≈ 1.2816
QUANTILES = {"p10": 0.1, "p50": 0.5, "p90": 0.9}
CHUNK = 65_536  # samples evaluated at once
MAX_BINS = 100  # bins of the variance-share estimator
TORNADO_METHOD = (
    "one at a time: the headline with the input at its P10 and at its P90, every other "
    "input at its point value"
)
VARIANCE_METHOD = (
    "first-order Sobol index Var(E[Y|X]) / Var(Y), from the samples: the correlation ratio "
    "over floor(sqrt(N)) (at most 100) equal-count bins of the input"
)


@dataclass(frozen=True)
class Distribution:
    """One uncertain input (see the module docstring); `name` is the input's path."""

    name: str
    kind: Kind
    low: float | None = None
    mode: float | None = None
    high: float | None = None
    median: float | None = None
    p90: float | None = None
    integer: bool = False

    def __post_init__(self) -> None:
        if self.kind == "lognormal":
            if self.median is None or self.p90 is None or not 0 < self.median < self.p90:
                raise InputError(self.name, "a lognormal needs 0 < median < p90")
            return
        low, high = self.low, self.high
        mode = self.mode if self.kind == "triangular" else low
        if low is None or high is None or mode is None or not low <= mode <= high:
            shape = "low ≤ mode ≤ high" if self.kind == "triangular" else "low ≤ high"
            raise InputError(self.name, f"a {self.kind} range needs {shape}")

    @property
    def sigma(self) -> float:
        """A lognormal's σ (its log's standard deviation)."""
        assert self.median is not None
        assert self.p90 is not None
        return math.log(self.p90 / self.median) / Z90

    def draw(self, rng: np.random.Generator, n: int) -> Array:
        if self.kind == "lognormal":
            assert self.median is not None
            values = self.median * np.exp(self.sigma * rng.standard_normal(n))
        else:
            values = self._ppf(rng.random(n))
        return np.rint(values) if self.integer else values

    def quantile(self, p: float) -> float:
        if self.kind == "lognormal":
            assert self.median is not None
            value = self.median * math.exp(self.sigma * NormalDist().inv_cdf(p))
        else:
            value = float(self._ppf(np.asarray([p]))[0])
        return float(round(value)) if self.integer else value

    def _ppf(self, u: Array) -> Array:
        """The inverse CDF of the uniform or triangular distribution at `u` in [0, 1)."""
        assert self.low is not None
        assert self.high is not None
        low, high = self.low, self.high
        width = high - low
        if self.kind == "uniform":
            return low + u * width
        assert self.mode is not None
        if width == 0:
            return np.full(u.shape, low)
        rise, fall = self.mode - low, high - self.mode
        left = low + np.sqrt(u * width * rise)
        right = high - np.sqrt((1 - u) * width * fall)
        return np.where(u < rise / width, left, right)

    def to_dict(self) -> dict[str, Any]:
        params = ("median", "p90") if self.kind == "lognormal" else ("low", "mode", "high")
        shown = {k: getattr(self, k) for k in params if getattr(self, k) is not None}
        if self.kind == "uniform":
            shown.pop("mode", None)
        return {"kind": self.kind, **shown, "p10": self.quantile(0.1), "p90": self.quantile(0.9)}


@dataclass(frozen=True)
class TornadoRow:
    input: str
    input_low: float  # the input's P10
    input_high: float  # its P90
    low: float  # the headline with the input at its P10
    high: float  # and at its P90
    variance_share: float | None  # first-order Sobol index; None when Var(Y) = 0

    @property
    def swing(self) -> float:
        return abs(self.high - self.low)

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "low": self.low,
            "high": self.high,
            "swing": self.swing,
            "input_low": self.input_low,
            "input_high": self.input_high,
            "variance_share": self.variance_share,
        }


@dataclass(frozen=True)
class Uncertainty:
    """The Monte Carlo's answer: quantiles of every output, the tornado of the headline."""

    samples: int
    seed: int
    headline: str
    inputs: dict[str, Distribution]
    quantiles: dict[str, dict[str, float]]
    means: dict[str, float]
    tornado: tuple[TornadoRow, ...]
    draws: dict[str, Array] = field(repr=False)  # every input's samples
    outputs: dict[str, Array] = field(repr=False)  # every output's, sample by sample

    def to_dict(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "seed": self.seed,
            "headline": self.headline,
            "inputs": {name: d.to_dict() for name, d in self.inputs.items()},
            "mean": self.means,
            "tornado_method": TORNADO_METHOD,
            "variance_method": VARIANCE_METHOD,
        }


def draw(inputs: Mapping[str, Distribution], n: int, seed: int) -> dict[str, Array]:
    """`n` samples of every input, independently, from one generator seeded with `seed`."""
    if not 1 <= n <= MAX_SAMPLES:
        raise InputError("samples", f"must be in [1, {MAX_SAMPLES:,}], got {n:,}")
    rng = np.random.default_rng(seed)
    return {name: inputs[name].draw(rng, n) for name in sorted(inputs)}


def summary(values: Array) -> dict[str, float]:
    """P10, P50 and P90 of `values` (linear interpolation between order statistics)."""
    q = np.quantile(values, list(QUANTILES.values()))
    return {name: float(v) for name, v in zip(QUANTILES, q, strict=True)}


def first_order_index(x: Array, y: Array) -> float | None:
    """Var(E[Y | X]) / Var(Y) from paired samples (see the module docstring); None when Y
    does not vary."""
    total = float(np.var(y))
    if not total > 0:
        return None
    bins = min(max(math.isqrt(len(x)), 1), MAX_BINS)
    order = np.argsort(x, kind="stable")
    means = np.asarray([part.mean() for part in np.array_split(y[order], bins)])
    sizes = np.asarray([len(part) for part in np.array_split(order, bins)])
    between = float(np.average((means - y.mean()) ** 2, weights=sizes))
    return min(between / total, 1.0)


def evaluate_all(evaluate: Evaluator, values: dict[str, Array], n: int) -> dict[str, Array]:
    """Every numeric output of `evaluate` for `n` samples, in chunks of `CHUNK`; an output
    that does not depend on the samples is repeated, one that is not a number left out."""
    parts: list[dict[str, Array]] = []
    for start in range(0, n, CHUNK):
        chunk = {k: v[start : start + CHUNK] for k, v in values.items()}
        size = min(CHUNK, n - start)
        parts.append(_numeric(evaluate(chunk), size))
    names = [k for k in parts[0] if all(k in p for p in parts)]
    return {k: np.concatenate([p[k] for p in parts]) for k in names}


def _numeric(outputs: dict[str, Any], size: int) -> dict[str, Array]:
    out = {}
    for key, value in outputs.items():
        if isinstance(value, bool) or value is None or isinstance(value, str | dict | list):
            continue
        out[key] = np.broadcast_to(np.asarray(value, dtype=np.float64), (size,))
    return out


def monte_carlo(
    evaluate: Evaluator,
    inputs: Mapping[str, Distribution],
    points: Mapping[str, float],
    n: int,
    seed: int,
    headline: str,
    check: Callable[[dict[str, Array]], None] | None = None,
) -> Uncertainty:
    """Quantiles of every output and the tornado of `headline` (see the module docstring).

    `evaluate` maps arrays of the inputs' values (every ranged input, by name) to the
    outputs; `points` are the inputs' point values, which the tornado holds the others at;
    `check` may refuse the samples before any is evaluated.
    """
    samples = draw(inputs, n, seed)
    if check is not None:
        check(samples)
    outputs = evaluate_all(evaluate, samples, n)
    if headline not in outputs:
        raise InputError("headline", f"{headline!r} is not a figure; figures: {', '.join(outputs)}")
    y = outputs[headline]
    shares = {name: first_order_index(samples[name], y) for name in samples}
    return Uncertainty(
        samples=n,
        seed=seed,
        headline=headline,
        inputs={name: inputs[name] for name in sorted(inputs)},
        quantiles={k: summary(v) for k, v in outputs.items()},
        means={k: float(v.mean()) for k, v in outputs.items()},
        tornado=tornado(evaluate, inputs, points, headline, shares),
        draws=samples,
        outputs=outputs,
    )


def tornado(
    evaluate: Evaluator,
    inputs: Mapping[str, Distribution],
    points: Mapping[str, float],
    headline: str,
    shares: Mapping[str, float | None],
) -> tuple[TornadoRow, ...]:
    """One row per input: the headline with that input at its P10 and its P90 and the
    others at their points, ranked by swing (largest first; ties by name)."""
    names = sorted(inputs)
    rows = {
        name: np.full(2 * len(names), points[name], dtype=np.float64) for name in names
    }  # row 2k: input k at its P10; row 2k + 1: at its P90
    for k, name in enumerate(names):
        rows[name][2 * k] = inputs[name].quantile(0.1)
        rows[name][2 * k + 1] = inputs[name].quantile(0.9)
    y = evaluate_all(evaluate, rows, 2 * len(names))[headline]
    out = [
        TornadoRow(
            input=name,
            input_low=float(rows[name][2 * k]),
            input_high=float(rows[name][2 * k + 1]),
            low=float(y[2 * k]),
            high=float(y[2 * k + 1]),
            variance_share=shares.get(name),
        )
        for k, name in enumerate(names)
    ]
    return tuple(sorted(out, key=lambda r: (-r.swing, r.input)))
