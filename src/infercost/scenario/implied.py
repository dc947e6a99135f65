"""What a published figure implies: each named input solved for, alone, so that the
scenario's computation gives the published value (`implied:` in a scenario).

A figure such as Bard's "up to $3 billion" comes without the inputs behind it. Fitting one
of them would present a guess as an answer; instead each input is solved for separately,
every other input held at the scenario's value, and shown beside the value the scenario
states: "at 256,000 queries/s and 350 tokens, $3 B a year needs $0.42 per chip-hour". An
input no value of which (within 1/1000× to 1000× of its own, and its limits) reaches the
figure is reported as such, never as a number.

The computation is the scenario's own (`engine.run_inputs`), run a few dozen times per input
by Brent's method (SciPy); fleet sizes are whole replicas, so the figure is a step function
of traffic and the answer is where the step crosses it.
"""

from __future__ import annotations

import math
from typing import Any

from scipy.optimize import brentq

from infercost.errors import InputError
from infercost.perf.calibration import Calibration
from infercost.scenario.engine import apply_variant, run_inputs
from infercost.scenario.ranges import input_limits, point_value
from infercost.scenario.schema import Scenario

SPAN = 1000.0  # search from value / SPAN to value × SPAN
RELATIVE = 1e-4  # the solved input's relative precision


def implied(scenario: Scenario, calibration: Calibration | None) -> list[dict[str, Any]]:
    """One row per input of `scenario.implied` (see the module docstring)."""
    spec = scenario.implied
    if spec is None:
        return []
    target = scenario.published[spec.figure].value
    return [_solve(scenario, calibration, spec.figure, target, path) for path in spec.inputs]


def _solve(
    scenario: Scenario, cal: Calibration | None, figure: str, target: float, path: str
) -> dict[str, Any]:
    field = f"implied.inputs.{path}"
    limits = input_limits(path, field)
    now = point_value(scenario.inputs, path)
    if not isinstance(now, int | float) or isinstance(now, bool) or not now > 0:
        raise InputError(field, f"the scenario must set {path} to a positive number, got {now!r}")

    def value(x: float) -> float:
        x = round(x) if limits.integer else x
        computed, _ = run_inputs(apply_variant(scenario, {path: x}), cal)
        out = computed.get(figure)
        if not isinstance(out, int | float) or not math.isfinite(out):
            raise InputError(field, f"{figure} is not computed at {path} = {x:g}")
        return float(out) - target

    low = max(now / SPAN, limits.low if limits.low_inclusive else math.nextafter(limits.low, 1))
    high = min(now * SPAN, limits.high)
    if limits.integer:
        low, high = max(math.ceil(low), 1), math.floor(high)
    row: dict[str, Any] = {"input": path, "stated": now, "figure": figure, "target": target}
    try:
        f_now = value(now)
    except InputError as exc:
        return {**row, "implied": None, "why": exc.message}
    low, f_low = _inside(value, now, f_now, low, limits.integer)
    high, f_high = _inside(value, now, f_now, high, limits.integer)
    if f_low * f_high > 0:
        edge = "above" if f_low > 0 else "below"
        return {
            **row,
            "implied": None,
            "why": f"no {path} from {low:g} to {high:g} alone gives it ({figure} stays {edge} "
            f"the published value)",
        }
    if f_now == 0:
        return {**row, "implied": now, "ratio": 1.0, "why": None}
    low, high = (low, now) if f_low * f_now < 0 else (now, high)
    found = brentq(value, low, high, rtol=RELATIVE, xtol=0.5 if limits.integer else 1e-12)
    found = round(found) if limits.integer else float(found)
    return {**row, "implied": found, "ratio": found / now, "why": None}


def _inside(
    value: Any, now: float, f_now: float, end: float, integer: bool, tries: int = 40
) -> tuple[float, float]:
    """`end` and the figure there, or, where the model refuses `end` (the answers no longer
    fit, say), the farthest point toward it that it accepts (geometric steps back to `now`)."""
    x = end
    for _ in range(tries):
        try:
            return x, value(x)
        except InputError:
            x = round(math.sqrt(x * now)) if integer else math.sqrt(x * now)
            if x == now:
                break
    return now, f_now
