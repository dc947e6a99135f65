"""Fit efficiency factors to measured rows, and measure the fit's error out of sample.

Factors (compute and memory efficiency, per-step overhead) are fitted per group of rows:
an engine family ("vllm"), and within it a hardware family ("vllm/datacenter-gpu"), each
pulled towards its parent (the defaults, then the engine's fit) by a penalty on the log of
the ratio, so a group with few rows moves only as far as its data insist. Everything pooled
("*") and each hardware family across engines ("*/cpu") are fitted too, for predictions that
name no engine. A group needs `MIN_ROWS` rows to be fitted at all.

The objective is the sum of |log(predicted / measured)|: symmetric in over- and
under-prediction and robust to a few dubious rows. It is minimised by coordinate descent on
a multiplicative grid, which needs no gradient and copes with the roofline's kinks.

Out-of-sample error: leave one source out. For each source, every group is refitted without
that source's rows, and its rows are predicted with the factors of the most specific group
that still has data. A source's own rows never calibrate their prediction.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from infercost.errors import InputError
from infercost.perf.calibration import FITTED, POOLED, Calibration, Factors
from infercost.perf.deployment import Efficiency
from infercost.validate.mapping import Case
from infercost.validate.predict import predict

MIN_ROWS = 3
PENALTY = 1.0  # per unit of |log(factor / parent)|, against one row's |log error|
BOUNDS = {
    "compute": (0.05, 1.0),
    "memory": (0.1, 1.0),
    "attention_memory": (0.1, 1.0),
    "step_overhead_s": (1e-5, 0.1),
    "token_overhead_s": (1e-7, 1e-3),
}
FLOOR = {"token_overhead_s": 1e-7}  # start of the search when the default is 0
_COARSE = (0.5, 0.7, 0.85, 1.18, 1.4, 2.0)
_WIDE = (0.01, 0.1, 0.3, 0.5, 0.7, 1.4, 2.0, 3.0, 10.0, 100.0)
_PASSES: tuple[dict[str, tuple[float, ...]], ...] = (
    {
        "compute": _COARSE,
        "memory": _COARSE,
        "attention_memory": _COARSE,
        "step_overhead_s": _WIDE,
        "token_overhead_s": _WIDE,
    },
    {name: _COARSE for name in FITTED},
    {name: (0.93, 1.07) for name in FITTED},
)
FAILED = math.log(10.0)  # a row the factors cannot predict counts as 10× off


def log_error(case: Case, eff: Efficiency) -> float:
    try:
        value = predict(case, eff).value
    except (InputError, ValueError, ZeroDivisionError):
        return FAILED
    if not value > 0 or not math.isfinite(value):
        return FAILED
    return abs(math.log(value / case.measured))


def fit(cases: Sequence[Case], parent: Factors, base: Efficiency | None = None) -> Factors:
    """Factors that minimise the rows' total |log error| plus the pull towards `parent`."""
    base = base or Efficiency()
    current = {k: max(v, FLOOR.get(k, 0.0)) for k, v in parent.values().items()}
    anchor = {k: math.log(v) for k, v in current.items()}

    def objective(values: dict[str, float]) -> float:
        eff = Factors.from_values(values).apply(base)
        loss = sum(log_error(c, eff) for c in cases)
        return loss + PENALTY * sum(abs(math.log(values[k]) - anchor[k]) for k in FITTED)

    best = objective(current)
    for steps in _PASSES:
        for name in FITTED:
            low, high = BOUNDS[name]
            for m in steps[name]:
                trial = dict(current)
                trial[name] = min(max(current[name] * m, low), high)
                if trial[name] == current[name]:
                    continue
                score = objective(trial)
                if score < best - 1e-9:
                    best, current = score, trial
    return Factors.from_values(
        current, rows=len(cases), sources=tuple(sorted({c.source for c in cases}))
    )


def group_keys(case: Case) -> tuple[str, ...]:
    """Groups a row belongs to, most specific first, for rows that name their engine."""
    return (f"{case.engine.family}/{case.hardware_family}", case.engine.family, POOLED)


def calibrate(cases: Sequence[Case], base: Efficiency | None = None) -> Calibration:
    """Fit every group with enough rows (engine, engine/hardware, */hardware, pooled)."""
    base = base or Efficiency()
    defaults = Factors.of(base)
    groups: dict[str, Factors] = {}
    if len(cases) >= MIN_ROWS:
        groups[POOLED] = fit(cases, defaults, base)
    for hardware, members in _by(cases, lambda c: c.hardware_family):
        if len(members) >= MIN_ROWS:
            groups[f"{POOLED}/{hardware}"] = fit(members, groups.get(POOLED, defaults), base)
    groups.update(_engine_groups(cases, base))
    return Calibration(groups)


def _engine_groups(cases: Sequence[Case], base: Efficiency) -> dict[str, Factors]:
    defaults = Factors.of(base)
    groups: dict[str, Factors] = {}
    for engine, members in _by(cases, lambda c: c.engine.family):
        if len(members) < MIN_ROWS:
            continue
        parent = groups[engine] = fit(members, defaults, base)
        for hardware, sub in _by(members, lambda c: c.hardware_family):
            if len(sub) >= MIN_ROWS:
                groups[f"{engine}/{hardware}"] = fit(sub, parent, base)
    return groups


def _by(cases: Iterable[Case], key: Callable[[Case], str]) -> list[tuple[str, list[Case]]]:
    out: dict[str, list[Case]] = {}
    for case in cases:
        out.setdefault(key(case), []).append(case)
    return sorted(out.items())


@dataclass(frozen=True)
class HeldOut:
    """One row predicted by factors fitted without its source."""

    case: Case
    group: str  # the group whose factors predicted it ("default" if none had data)
    factors: Factors


def leave_one_source_out(
    cases: Sequence[Case], base: Efficiency | None = None
) -> dict[str, HeldOut]:
    """For each row, the factors fitted on every other source (see the module docstring)."""
    base = base or Efficiency()
    full = _engine_groups(cases, base)
    out: dict[str, HeldOut] = {}
    for source in sorted({c.source for c in cases}):
        held = [c for c in cases if c.source == source]
        train = [c for c in cases if c.source != source]
        touched = {c.engine.family for c in held}
        # Groups of engines the held-out source doesn't use are unchanged: reuse them.
        groups = {k: v for k, v in full.items() if k.split("/")[0] not in touched}
        groups.update(_engine_groups([c for c in train if c.engine.family in touched], base))
        pooled: Factors | None = None
        for case in held:
            key = next((k for k in group_keys(case)[:2] if k in groups), None)
            if key is None:  # no other source used this engine: everything else, pooled
                pooled = pooled or fit(train, Factors.of(base), base)
                key, factors = POOLED, pooled
            else:
                factors = groups[key]
            out[case.row_id] = HeldOut(case, key, factors)
    return out
