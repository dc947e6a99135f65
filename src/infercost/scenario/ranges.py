"""Uncertain inputs of a scenario: its `ranges:` block and `--range` on the command line.

A range is keyed by the same dotted path `--set` takes (`workload.output_tokens`) and is a
distribution (`planning.uncertainty`) with its own provenance: a source for the range or for
each bound, and a note. A bound infercost gives (source `infercost`) must say what it is:
the note says "default" (a choice, and why) or "derived" (arithmetic, and how). Every range
is checked when the scenario is read:

- the path names a numeric input that the scenario sets (its value is the point estimate);
- its bounds lie within what the input allows (`workload.target_utilisation` ≤ 1, ...), an
  integer input's after rounding; a lognormal is refused when more than 1e-9 of it lies
  outside (its tail would give impossible samples), and the samples are checked again;
- every source is declared in `sources`.

On the command line, `--range PATH=LOW:HIGH` is uniform, `PATH=LOW:MODE:HIGH` triangular and
`PATH=lognormal:MEDIAN:P90` lognormal (`uniform:` and `triangular:` may be written too); it
replaces the file's range for that path. A `--set` on a ranged path pins it: its range is
dropped.
"""

from __future__ import annotations

import math
import types
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Union, get_args, get_origin

import annotated_types as at
import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from infercost.errors import InputError
from infercost.limits import MAX_OVERRIDES
from infercost.planning.uncertainty import Z90, Array, Distribution
from infercost.scenario.loader import parse_override, submodel
from infercost.scenario.schema import Inputs, RangeIn, Scenario

RANGE_SOURCE = "--range on the command line"
MAX_OUTSIDE = 1e-9  # the most of a lognormal's mass allowed outside an input's limits
OUR_BASES = ("default", "derived")  # what a bound infercost gives must say it is


@dataclass(frozen=True)
class Limits:
    """What an input allows: its bounds (each inclusive or not) and whether it is whole."""

    low: float = -math.inf
    low_inclusive: bool = True
    high: float = math.inf
    high_inclusive: bool = True
    integer: bool = False

    def admits(self, values: Array) -> NDArray[np.bool_]:
        above = values >= self.low if self.low_inclusive else values > self.low
        below = values <= self.high if self.high_inclusive else values < self.high
        return np.asarray(above & below)

    def describe(self) -> str:
        parts = []
        if self.low > -math.inf:
            parts.append(f"{'≥' if self.low_inclusive else '>'} {self.low:g}")
        if self.high < math.inf:
            parts.append(f"{'≤' if self.high_inclusive else '<'} {self.high:g}")
        return " and ".join(parts) or "any number"


def input_limits(path: str, field: str) -> Limits:
    """The limits of the numeric input at `path`, or `InputError` naming `field`."""
    model: type[BaseModel] | None = Inputs
    parts = path.split(".")
    info: FieldInfo | None = None
    for i, part in enumerate(parts):
        if model is None or part not in model.model_fields:
            allowed = ", ".join(sorted(model.model_fields)) if model else "nothing (a leaf)"
            where = ".".join(parts[:i]) or "inputs"
            raise InputError(field, f"unknown field {part!r} under {where}; allowed: {allowed}")
        info = model.model_fields[part]
        model = submodel(model, part) if i < len(parts) - 1 else None
    assert info is not None
    kinds = _types(info.annotation)
    if not kinds or not kinds <= {int, float}:
        raise InputError(field, "is not a number; a range needs a numeric input")
    out = Limits(integer=kinds == {int})
    for rule in info.metadata:
        if isinstance(rule, at.Gt | at.Ge):
            bound = float(rule.gt if isinstance(rule, at.Gt) else rule.ge)  # type: ignore[arg-type]
            out = Limits(bound, isinstance(rule, at.Ge), out.high, out.high_inclusive, out.integer)
        elif isinstance(rule, at.Lt | at.Le):
            bound = float(rule.lt if isinstance(rule, at.Lt) else rule.le)  # type: ignore[arg-type]
            out = Limits(out.low, out.low_inclusive, bound, isinstance(rule, at.Le), out.integer)
    return out


def _types(annotation: Any) -> set[type]:
    """The non-None types an annotation allows (bool is not a number here)."""
    if get_origin(annotation) in (Union, types.UnionType):
        return set().union(*(_types(a) for a in get_args(annotation)))
    if annotation is type(None):
        return set()
    return {annotation} if annotation in (int, float) else {object}


def point_value(inputs: Inputs, path: str) -> Any:
    node: Any = inputs
    for part in path.split("."):
        node = getattr(node, part, None)
    return node


def distribution(path: str, r: RangeIn, field: str) -> Distribution:
    """The range as a distribution, after checking its bounds against the input's limits."""
    limits = input_limits(path, field)
    kind = r.kind
    if kind == "lognormal":
        outside = _lognormal_outside(r, limits)
        if outside > MAX_OUTSIDE:
            raise InputError(
                field,
                f"a lognormal with median {r.median:g} and p90 {r.p90:g} puts {outside:.2g} of "
                f"its samples where {path} must be {limits.describe()}; give {{low, high}} "
                "or {low, mode, high}",
            )
    for bound in r.given:
        value = float(getattr(r, bound))
        shown = float(round(value)) if limits.integer else value
        if not limits.admits(np.asarray([shown]))[0]:
            whole = " (rounded: it takes whole values)" if limits.integer else ""
            raise InputError(
                f"{field}.{bound}",
                f"{path} must be {limits.describe()}{whole}, got {value:g}",
            )
    try:
        return Distribution(
            path, kind, r.low, r.mode, r.high, r.median, r.p90, integer=limits.integer
        )
    except InputError as exc:
        raise InputError(field, exc.message) from None


def _lognormal_outside(r: RangeIn, limits: Limits) -> float:
    """The probability that a lognormal range falls outside the input's limits."""
    assert r.median is not None
    assert r.p90 is not None
    sigma = math.log(r.p90 / r.median) / Z90
    normal = NormalDist()
    below = normal.cdf(math.log(limits.low / r.median) / sigma) if limits.low > 0 else 0.0
    above = 1 - normal.cdf(math.log(limits.high / r.median) / sigma)
    return below + above


def check_ranges(scenario: Scenario) -> None:
    """Every range of the file: a numeric input the scenario sets, bounds it allows,
    declared sources, and a default bound said to be one (see the module docstring)."""
    declared = {s.id for s in scenario.sources} | {"infercost"}
    for path, r in scenario.ranges.items():
        field = f"ranges.{path}"
        distribution(path, r, field)
        if point_value(scenario.inputs, path) is None:
            raise InputError(
                field,
                "names an input this scenario leaves unset; a range varies a value the "
                "scenario gives (its point estimate)",
            )
        for bound, source in r.sources.items():
            if source not in declared:
                raise InputError(
                    f"{field}.source",
                    f"{source!r} ({bound}) is not a declared source; add it to `sources` "
                    f"or cite one of: {', '.join(sorted(declared))}",
                )
        ours = sorted(b for b, s in r.sources.items() if s == "infercost")
        if ours and not any(word in r.note.lower() for word in OUR_BASES):
            raise InputError(
                f"{field}.note",
                f"{', '.join(ours)} comes from infercost: the note must say whether it is a "
                "default we chose (and why) or derived (and how)",
            )


def parse_range(text: str) -> tuple[str, RangeIn]:
    """`PATH=LOW:HIGH`, `PATH=LOW:MODE:HIGH` or `PATH=lognormal:MEDIAN:P90` (see the module
    docstring) as a path and a range whose source is the command line."""
    if "=" not in text:
        raise InputError("--range", f"expected PATH=LOW:HIGH, got {text!r}")
    path, _, spec = text.partition("=")
    path = path.strip().removeprefix("inputs.")
    field = f"--range {path}"
    input_limits(path, field)
    head, _, rest = spec.partition(":")
    kind = head.strip().lower()
    if kind not in ("uniform", "triangular", "lognormal"):
        kind, rest = "", spec
    numbers = _numbers(rest, field)
    expected = {"uniform": 2, "triangular": 3, "lognormal": 2}.get(kind)
    if expected is None:
        kind = {2: "uniform", 3: "triangular"}.get(len(numbers), "")
        expected = len(numbers) if kind else -1
    if len(numbers) != expected:
        raise InputError(
            field,
            "give LOW:HIGH (uniform), LOW:MODE:HIGH (triangular) or lognormal:MEDIAN:P90, "
            f"got {spec!r}",
        )
    names = {"uniform": ("low", "high"), "triangular": ("low", "mode", "high")}
    bounds = dict(zip(names.get(kind, ("median", "p90")), numbers, strict=True))
    try:
        r = RangeIn.model_validate({**bounds, "source": RANGE_SOURCE, "note": "given by --range"})
    except ValidationError as exc:
        raise InputError(field, exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
    return path, r


def _numbers(text: str, field: str) -> list[float]:
    out = []
    for part in text.split(":"):
        try:
            value = float(part)
        except ValueError:
            raise InputError(field, f"{part.strip()!r} is not a number") from None
        if not math.isfinite(value):
            raise InputError(field, f"must be finite, got {part.strip()!r}")
        out.append(value)
    return out


@dataclass(frozen=True)
class Ranges:
    """The ranges a run samples, with the provenance of each and those `--set` pinned."""

    distributions: dict[str, Distribution]
    given: dict[str, RangeIn]
    pinned: tuple[str, ...]  # ranged in the file, fixed by --set

    def provenance(self) -> dict[str, dict[str, Any]]:
        return {
            path: {"sources": r.sources, "note": r.note} for path, r in sorted(self.given.items())
        }


def active_ranges(
    scenario: Scenario, cli: list[str] | None = None, overrides: list[str] | None = None
) -> Ranges:
    """The file's ranges, replaced by `--range` for the same path, less those `--set` pins."""
    if len(cli or []) > MAX_OVERRIDES:
        raise InputError("--range", f"at most {MAX_OVERRIDES} ranges")
    fixed = {parse_override(text)[0].removeprefix("inputs.") for text in overrides or []}
    given = dict(scenario.ranges)
    for text in cli or []:
        path, r = parse_range(text)
        if path in fixed:
            raise InputError(f"--range {path}", "is also given by --set: give one of the two")
        if point_value(scenario.inputs, path) is None:
            raise InputError(
                f"--range {path}",
                f"{scenario.scenario} leaves this input unset; a range varies a value the "
                "scenario gives (set it with --set first)",
            )
        given[path] = r
    pinned = tuple(sorted(p for p in given if p in fixed))
    for path in pinned:
        given.pop(path)
    dists = {}
    for path, r in given.items():
        field = f"--range {path}" if r.source == RANGE_SOURCE else f"ranges.{path}"
        dists[path] = distribution(path, r, field)
    return Ranges(dists, given, pinned)
