"""`reproduce --samples N`: a scenario's uncertain inputs sampled through the same pipeline.

The samples of every ranged input are put into the scenario's inputs as numpy arrays and
the inputs go through `engine.figures`, the code that computes `reproduce`'s point
estimate: one pass for all the samples (`infercost.elementwise`). Inputs that change the
replica's configuration (model, hardware, layout, efficiency factors, the engine and its
batch cap) are resolved once per distinct sampled value, the samples sharing it evaluated
together; a step that cannot take a whole array (a per-user speed target, a disaggregated
deployment, samples on both sides of a branch) evaluates its samples one at a time. With
every range degenerate (low = high), every sample is the point estimate, exactly.

The headline output, which the tornado ranks the inputs by, is the first published figure
in dollars (`usd_...`) the engine computes, else `usd_per_day`; `--headline` picks another.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from pydantic import BaseModel

from infercost.elementwise import NotElementwise
from infercost.errors import InputError
from infercost.perf.calibration import Calibration
from infercost.planning.uncertainty import Array, Uncertainty, monte_carlo
from infercost.scenario.engine import figures
from infercost.scenario.ranges import Ranges, input_limits, point_value
from infercost.scenario.schema import Inputs, Scenario

# Inputs that `engine.config_of` reads: a new value is a new replica configuration.
CONFIG_PATHS = (
    "model.",
    "hardware.",
    "parallelism.",
    "efficiency.",
    "serving.engine",
    "serving.max_concurrency",
    "prefill.",
)


@dataclass(frozen=True)
class SampledRun:
    """The Monte Carlo of one scenario: the uncertainty and the ranges it sampled."""

    uncertainty: Uncertainty
    ranges: Ranges

    def to_dict(self) -> dict[str, Any]:
        u = self.uncertainty
        inputs = u.to_dict()
        for path, prov in self.ranges.provenance().items():
            inputs["inputs"][path].update(prov)
        return {
            "quantiles": u.quantiles,
            "tornado": [row.to_dict() for row in u.tornado],
            "uncertainty": {**inputs, "pinned": list(self.ranges.pinned)},
        }


def headline_of(scenario: Scenario, computed: dict[str, Any]) -> str:
    """The first published dollar figure the engine computes, else `usd_per_day`."""
    for key in scenario.published:
        if key.startswith("usd_") and isinstance(computed.get(key), int | float):
            return key
    return "usd_per_day" if "usd_per_day" in computed else next(iter(computed))


def sample(
    scenario: Scenario,
    ranges: Ranges,
    samples: int,
    seed: int,
    calibration: Calibration | None,
    headline: str,
) -> SampledRun:
    """`samples` draws of `ranges` through the scenario's pipeline (see the module docstring)."""
    if not ranges.distributions:
        raise InputError(
            "samples",
            f"{scenario.scenario} has no ranges to sample: add a `ranges:` block or "
            "--range PATH=LOW:HIGH",
        )
    points = {p: float(point_value(scenario.inputs, p)) for p in ranges.distributions}
    integers = {p for p, d in ranges.distributions.items() if d.integer}
    evaluate = partial(_evaluate, scenario.inputs, calibration, integers)
    u = monte_carlo(evaluate, ranges.distributions, points, samples, seed, headline, _within)
    return SampledRun(u, ranges)


def _within(values: dict[str, Array]) -> None:
    """Every sample within what its input allows (a lognormal's tail may not be)."""
    for path, v in values.items():
        limits = input_limits(path, f"ranges.{path}")
        outside = int(len(v) - limits.admits(v).sum())
        if outside:
            raise InputError(
                f"ranges.{path}",
                f"{outside:,} of {len(v):,} samples are outside what {path} allows "
                f"({limits.describe()}); narrow the range or give {{low, mode, high}}",
            )


def _evaluate(
    inputs: Inputs, cal: Calibration | None, integers: set[str], values: dict[str, Array]
) -> dict[str, Any]:
    """The figures of every sample: configurations one by one, the rest as arrays."""
    config = [p for p in values if p.startswith(CONFIG_PATHS)]
    if not config:
        return _together(inputs, cal, integers, values)
    n = len(next(iter(values.values())))
    keys = np.column_stack([values[p] for p in config])
    rows, which = np.unique(keys, axis=0, return_inverse=True)
    which = which.ravel()
    parts = []
    for row in rows:
        fixed = {p: _item(p, v, integers) for p, v in zip(config, row, strict=True)}
        rest = {p: v for p, v in values.items() if p not in fixed}
        parts.append((fixed, rest))
    out: dict[str, Array] = {}
    for g, (fixed, rest) in enumerate(parts):
        mask = which == g
        part = _together(
            with_values(inputs, fixed), cal, integers, {p: v[mask] for p, v in rest.items()}
        )
        for key, value in part.items():
            if _is_number(value) and (g == 0 or key in out):
                out.setdefault(key, np.full(n, np.nan))[mask] = value
        for key in [k for k in out if k not in part]:
            out.pop(key)  # a figure some configurations do not have
    return out


def _together(
    inputs: Inputs, cal: Calibration | None, integers: set[str], values: dict[str, Array]
) -> dict[str, Any]:
    """All the samples in one pass, or one at a time where a step cannot take arrays."""
    try:
        return figures(with_values(inputs, values), cal)
    except NotElementwise:
        pass
    n = len(next(iter(values.values()))) if values else 1
    rows = [
        figures(with_values(inputs, {p: _item(p, v[i], integers) for p, v in values.items()}), cal)
        for i in range(n)
    ]
    keys = [k for k, v in rows[0].items() if _is_number(v)]
    return {k: np.asarray([row[k] for row in rows], dtype=np.float64) for k in keys}


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool | str | dict | list) and value is not None


def _item(path: str, value: Any, integers: set[str]) -> float | int:
    return int(value) if path in integers else float(value)


def with_values(model: Any, values: dict[str, Any]) -> Any:
    """A copy of `model` (the scenario's inputs) with `values` at their dotted paths, not
    validated again: the values are samples of checked ranges, and may be arrays."""
    assert isinstance(model, BaseModel)
    nested: dict[str, dict[str, Any]] = {}
    update: dict[str, Any] = {}
    for path, value in values.items():
        head, dot, rest = path.partition(".")
        if dot:
            nested.setdefault(head, {})[rest] = value
        else:
            update[head] = value
    for head, inner in nested.items():
        update[head] = with_values(getattr(model, head), inner)
    return model.model_copy(update=update)
