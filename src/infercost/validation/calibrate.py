"""Fit efficiency factors to measured rows, and measure the fit's error out of sample.

Factors (compute and memory efficiency, per-step overhead) are fitted per group of rows:
an engine family ("vllm"), and within it a hardware family ("vllm/datacenter-gpu"), each
pulled towards its parent (the defaults, then the engine's fit) by a penalty on the log of
the ratio, so a group with few rows moves only as far as its data insist. Everything pooled
("*") and each hardware family across engines ("*/cpu") are fitted too, for predictions that
name no engine. A group needs `MIN_ROWS` rows to be fitted at all.

The objective is the sum of |log(predicted / measured)|: symmetric in over- and
under-prediction and robust to a few dubious rows. It is minimised over the log of each
factor by one coarse pass per factor and then Nelder–Mead, which needs no gradient, copes
with the roofline's kinks and, unlike one factor at a time, moves correlated factors together
(memory efficiency and step overhead both set a memory-bound step's time).

Out-of-sample error: leave one source out. For each source, the groups its rows use are
refitted without that source's rows, and its rows are predicted with the factors of the most
specific group that still has data; a row whose engine no other source measured gets factors
fitted on every other source's rows, pooled. A source's own rows never calibrate their
prediction. Only the groups a source's rows can use are fitted in its fold: its engines, and
within them its hardware families (the others would predict none of its rows).
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

import numpy as np

from infercost.errors import InputError
from infercost.perf.calibration import FITTED, POOLED, Calibration, Factors
from infercost.perf.deployment import Efficiency
from infercost.validation.mapping import Case
from infercost.validation.predict import Prediction, predict, predictor

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
# Overheads are pulled towards their parent on a log scale that flattens below ~0.1 ms, so
# that "none" and "a few microseconds" cost the same; the coarse pass also tries each decade.
SCALE = {"step_overhead_s": 1e-4, "token_overhead_s": 1e-4}
DECADES = {name: (1e-6, 1e-5, 1e-4, 1e-3, 1e-2) for name in SCALE}
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
NM_EVALUATIONS = 100  # Nelder–Mead iterations per fit
RESTARTS = 2
# The coarse pass sets the overheads before the efficiencies: a per-step cost is spread over
# every row, and an efficiency chosen first (with the overhead at its parent) absorbs it and
# leaves Nelder–Mead in the wrong valley (a fit on data made with a 4 ms step overhead found
# 1 ms and compensating efficiencies when efficiencies went first).
COARSE_ORDER = tuple(reversed(FITTED))
FAILED = math.log(10.0)  # a row the factors cannot predict counts as 10× off


def log_error(case: Case, eff: Efficiency) -> float:
    return _log_error(case, eff, lambda e: predict(case, e))


def _log_error(case: Case, eff: Efficiency, at: Callable[[Efficiency], Prediction]) -> float:
    try:
        value = at(eff).value
    except (InputError, ValueError, ZeroDivisionError):
        return FAILED
    if not value > 0 or not math.isfinite(value):
        return FAILED
    return abs(math.log(value / case.measured))


def fit(cases: Sequence[Case], parent: Factors, base: Efficiency | None = None) -> Factors:
    """Factors that minimise the rows' total |log error| plus the pull towards `parent`."""
    base = base or Efficiency()
    current = {k: max(v, FLOOR.get(k, 0.0)) for k, v in parent.values().items()}
    anchor = {k: _pull(k, v) for k, v in current.items()}
    rows = [(c, predictor(c)) for c in cases]  # each row resolved once, not per trial
    seen: dict[tuple[float, ...], float] = {}  # trials the search comes back to

    def objective(values: dict[str, float]) -> float:
        key = tuple(values[k] for k in FITTED)
        if key not in seen:
            eff = Factors.from_values(values).apply(base)
            loss = sum(_log_error(c, eff, at) for c, at in rows)
            pull = sum(abs(_pull(k, values[k]) - anchor[k]) for k in FITTED)
            seen[key] = loss + PENALTY * pull
        return seen[key]

    best = objective(current)
    for name in COARSE_ORDER:  # one coarse pass per factor finds the right decade
        low, high = BOUNDS[name]
        start = current[name]
        candidates = [start * m for m in _PASSES[0][name]] + list(DECADES.get(name, ()))
        for value in candidates:
            trial = dict(current)
            trial[name] = min(max(value, low), high)
            score = objective(trial)
            if score < best - 1e-9:
                best, current = score, trial
    for _ in range(RESTARTS):  # Nelder–Mead stalls in narrow valleys; a fresh simplex helps
        moved = _nelder_mead(objective, current)
        score = objective(moved)
        if score > best - 1e-3:
            break
        best, current = score, moved
    return Factors.from_values(
        current, rows=len(cases), sources=tuple(sorted({c.source for c in cases}))
    )


def _pull(name: str, value: float) -> float:
    """Where a factor sits for the penalty: its log, flattened near zero for overheads."""
    return math.log(value + SCALE.get(name, 0.0))


def _nelder_mead(
    objective: Callable[[dict[str, float]], float], start: dict[str, float]
) -> dict[str, float]:
    """Minimise `objective` over the log of each factor (bounded), from `start`."""
    names = list(FITTED)
    low = np.log([BOUNDS[n][0] for n in names])
    high = np.log([BOUNDS[n][1] for n in names])

    def f(x: np.ndarray) -> float:
        clipped = np.clip(x, low, high)
        return objective(dict(zip(names, np.exp(clipped).tolist(), strict=True)))

    x0 = np.clip(np.log([start[n] for n in names]), low, high)
    simplex = [x0] + [x0 + np.eye(len(names))[i] * 0.4 for i in range(len(names))]
    scores = [f(x) for x in simplex]
    for _ in range(NM_EVALUATIONS):
        order = np.argsort(scores)
        simplex, scores = [simplex[i] for i in order], [scores[i] for i in order]
        if scores[-1] - scores[0] < 1e-3:
            break
        centre = np.mean(simplex[:-1], axis=0)
        reflected = centre + (centre - simplex[-1])
        r = f(reflected)
        if r < scores[0]:
            expanded = centre + 2 * (centre - simplex[-1])
            e = f(expanded)
            simplex[-1], scores[-1] = (expanded, e) if e < r else (reflected, r)
        elif r < scores[-2]:
            simplex[-1], scores[-1] = reflected, r
        else:
            contracted = centre + 0.5 * (simplex[-1] - centre)
            c = f(contracted)
            if c < scores[-1]:
                simplex[-1], scores[-1] = contracted, c
            else:  # shrink towards the best point
                simplex = [simplex[0]] + [simplex[0] + 0.5 * (x - simplex[0]) for x in simplex[1:]]
                scores = [scores[0]] + [f(x) for x in simplex[1:]]
    best = simplex[int(np.argmin(scores))]
    return dict(zip(names, np.exp(np.clip(best, low, high)).tolist(), strict=True))


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


def _engine_groups(
    cases: Sequence[Case], base: Efficiency, wanted: set[tuple[str, str]] | None = None
) -> dict[str, Factors]:
    """Engine groups and their hardware groups; with `wanted`, only those (engine, hardware)
    pairs' groups and their engines' (a fold needs no others)."""
    defaults = Factors.of(base)
    engines = None if wanted is None else {engine for engine, _ in wanted}
    groups: dict[str, Factors] = {}
    for engine, members in _by(cases, lambda c: c.engine.family):
        if len(members) < MIN_ROWS or (engines is not None and engine not in engines):
            continue
        parent = groups[engine] = fit(members, defaults, base)
        for hardware, sub in _by(members, lambda c: c.hardware_family):
            if len(sub) >= MIN_ROWS and (wanted is None or (engine, hardware) in wanted):
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
    cases: Sequence[Case],
    base: Efficiency | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, HeldOut]:
    """For each row, the factors fitted on every other source (see the module docstring).

    Folds are independent, so they run in `workers` processes (default: one per CPU), the
    largest first so that no worker is left with a long one at the end;
    `progress(done, total)` hears of each finished fold.
    """
    base = base or Efficiency()
    sources = sorted({c.source for c in cases}, key=lambda s: -_fold_rows(s, cases))
    jobs = [(source, list(cases), base) for source in sources]
    workers = min(workers or os.cpu_count() or 1, len(sources))
    out: dict[str, HeldOut] = {}
    if workers <= 1:
        for done, job in enumerate(jobs, start=1):
            out.update(_fold(job))
            if progress:
                progress(done, len(jobs))
        return out
    context = multiprocessing.get_context("fork" if "fork" in _METHODS else None)
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = [pool.submit(_fold, job) for job in jobs]
        for done, future in enumerate(as_completed(futures), start=1):
            out.update(future.result())
            if progress:
                progress(done, len(jobs))
    return {case.row_id: out[case.row_id] for case in cases if case.row_id in out}


_METHODS = multiprocessing.get_all_start_methods()


def _fold_rows(source: str, cases: Sequence[Case]) -> int:
    """Rows the fits of `source`'s fold go through: a measure of its work."""
    train = [c for c in cases if c.source != source]
    total = 0
    for engine in {c.engine.family for c in cases if c.source == source}:
        members = sum(c.engine.family == engine for c in train)
        total += 2 * members if members >= MIN_ROWS else len(train)
    return total


def _fold(job: tuple[str, list[Case], Efficiency]) -> dict[str, HeldOut]:
    """Held-out factors for one source's rows."""
    source, cases, base = job
    held = [c for c in cases if c.source == source]
    train = [c for c in cases if c.source != source]
    wanted = {(c.engine.family, c.hardware_family) for c in held}
    groups = _engine_groups(train, base, wanted)
    pooled: Factors | None = None
    out: dict[str, HeldOut] = {}
    for case in held:
        key = next((k for k in group_keys(case)[:2] if k in groups), None)
        if key is None:  # no other source used this engine: every other row, pooled
            pooled = pooled or fit(train, Factors.of(base), base)
            key, factors = POOLED, pooled
        else:
            factors = groups[key]
        out[case.row_id] = HeldOut(case, key, factors)
    return out
