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

from infercost.catalog.hardware import accelerator
from infercost.elementwise import NotElementwise
from infercost.errors import InputError
from infercost.perf.calibration import Calibration
from infercost.planning.sampled import Planned
from infercost.planning.uncertainty import Array, Uncertainty, monte_carlo
from infercost.scenario.engine import figures, traffic
from infercost.scenario.ranges import Ranges, input_limits, parse_range, point_value
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


# How a plan reads each ranged input (`plan --samples`): the traffic's volume and peak, the
# mean lengths, the cache hit ratio and the accelerator's price enter its screen.
PLAN_TRAFFIC = (
    "workload.daily_users",
    "workload.queries_per_user_per_day",
    "workload.queries_per_second",
    "workload.queries_per_day",
    "workload.peak_to_average",
)
PLAN_LENGTHS = ("workload.input_tokens", "workload.output_tokens")
PLAN_READS = (
    *PLAN_TRAFFIC,
    *PLAN_LENGTHS,
    "workload.cached_input_fraction",
    "cost.usd_per_gpu_hour",
)
# Inputs a plan does not read even at its point (scenario/planning.py), with why.
PLAN_IGNORES = {
    "workload.target_utilisation": "a plan sizes the fleet by its targets, not at a utilisation",
    "serving.concurrency": "a plan chooses its own batch",
}


@dataclass(frozen=True)
class SampledPlan:
    """The Monte Carlo of a plan's chosen fleet (see `planning/sampled.py`)."""

    uncertainty: Uncertainty
    ranges: Ranges
    point: dict[str, float]  # the screen at the point inputs
    not_sampled: dict[str, str]  # file ranges the plan does not read, and why

    def to_dict(self) -> dict[str, Any]:
        u = self.uncertainty
        inputs = u.to_dict()
        for path, prov in self.ranges.provenance().items():
            if path in inputs["inputs"]:
                inputs["inputs"][path].update(prov)
        return {
            "quantiles": u.quantiles,
            "tornado": [row.to_dict() for row in u.tornado],
            "uncertainty": {
                **inputs,
                "point": self.point,
                "pinned": list(self.ranges.pinned),
                "not_sampled": self.not_sampled,
                "method": "the plan's configuration and batch cap held, re-sized sample by "
                "sample by the screen (analytic, not simulated)",
            },
        }


def plan_ranges(ranges: Ranges, cli: list[str], replaced: dict[str, str]) -> dict[str, str]:
    """Refuse the ranges a plan cannot sample; the file's ranges of inputs a plan does not
    read are returned (path → why) to be reported as not sampled. `replaced` maps a ranged
    path to the option that replaced the scenario's value (--qps, --price, ...)."""
    from_cli = {parse_range(text)[0] for text in cli}
    not_sampled = {}
    for path in ranges.distributions:
        field = f"--range {path}" if path in from_cli else f"ranges.{path}"
        if path in replaced:
            raise InputError(field, f"is ranged, but {replaced[path]} replaces it: drop one")
        if path in PLAN_READS:
            continue
        if path in PLAN_IGNORES and path not in from_cli:
            not_sampled[path] = PLAN_IGNORES[path]
            continue
        why = PLAN_IGNORES.get(path, "it changes every configuration the plan searched")
        raise InputError(
            field,
            f"a plan cannot sample it ({why}); pin it with --set, or sample "
            f"{', '.join(PLAN_READS)}",
        )
    return not_sampled


def sample_plan(
    scenario: Scenario,
    ranges: Ranges,
    planned: Planned,
    not_sampled: dict[str, str],
    samples: int,
    seed: int,
    gpu: str,
) -> SampledPlan:
    """`samples` draws of the plan's ranges through its screen, the chosen fleet held."""
    sampled = {p: d for p, d in ranges.distributions.items() if p not in not_sampled}
    if not sampled:
        raise InputError("samples", f"{scenario.scenario} has no range a plan reads to sample")
    price_of = accelerator(scenario.inputs.hardware.gpu).id
    if "cost.usd_per_gpu_hour" in sampled and price_of != gpu:
        raise InputError(
            "ranges.cost.usd_per_gpu_hour",
            f"prices {price_of}, but the plan chose {gpu}: the range does not apply (pin it "
            "with --set, or plan with --gpu " + price_of + ")",
        )
    points = {p: float(point_value(scenario.inputs, p)) for p in sampled}

    def evaluate(values: dict[str, Array]) -> dict[str, Any]:
        return planned.figures(_plan_quantities(scenario.inputs, values))

    u = monte_carlo(evaluate, sampled, points, samples, seed, "usd_per_month", _within)
    point = {
        k: float(v[0]) for k, v in evaluate({p: np.asarray([v]) for p, v in points.items()}).items()
    }
    return SampledPlan(u, ranges, point, not_sampled)


def _plan_quantities(inputs: Inputs, values: dict[str, Array]) -> dict[str, Array]:
    """The plan's quantities (`planning.sampled.QUANTITIES`) of each sample, through the
    scenario's own traffic (the same `engine.traffic` as the plan's question)."""
    sampled = with_values(inputs, values)
    out: dict[str, Array] = {}
    if any(p in values for p in PLAN_TRAFFIC):
        w = sampled.workload
        rate = traffic(sampled).queries_per_s * w.peak_to_average
        out["rate_per_s"] = np.broadcast_to(rate, _shape(values))
    w0, w = inputs.workload, sampled.workload
    if "workload.input_tokens" in values:
        out["input_scale"] = values["workload.input_tokens"] / w0.input_tokens
    if "workload.output_tokens" in values:
        out["output_scale"] = values["workload.output_tokens"] / w0.output_tokens
    if "workload.cached_input_fraction" in values:
        out["cached_fraction"] = np.asarray(w.cached_input_fraction)
    if "cost.usd_per_gpu_hour" in values:
        out["usd_per_gpu_hour"] = values["cost.usd_per_gpu_hour"]
    return out


def _shape(values: dict[str, Array]) -> tuple[int]:
    return (len(next(iter(values.values()))),)
