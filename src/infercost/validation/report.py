"""Run a validation: map rows, predict them raw and out of sample, summarise the error.

Error of a row is (predicted − measured) / measured in percent; a family's summary is the
median of the absolute errors (MdAPE) over its rows. Families: throughput (output, prefill,
single-stream decode and request rates) and latency (TTFT, TPOT, ITL).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infercost.errors import InputError
from infercost.perf.calibration import Calibration
from infercost.perf.deployment import Efficiency
from infercost.validation.calibrate import calibrate, leave_one_source_out
from infercost.validation.dataset import BUILTIN_STRUCTURED, MeasuredRow, source_of
from infercost.validation.mapping import (
    LATENCY,
    THROUGHPUT,
    Case,
    Unmapped,
    map_measurement,
    map_row,
)
from infercost.validation.measurements import load, unread
from infercost.validation.predict import check_fits, predict
from infercost.validation.schema import Measurement

FAMILIES = (THROUGHPUT, LATENCY)


@dataclass(frozen=True)
class RowResult:
    case: Case
    predicted: float
    raw_predicted: float
    batch: float
    bound: str
    group: str  # calibration group used, or "raw"

    @property
    def error_percent(self) -> float:
        return (self.predicted - self.case.measured) / self.case.measured * 100

    @property
    def raw_error_percent(self) -> float:
        return (self.raw_predicted - self.case.measured) / self.case.measured * 100

    def to_dict(self) -> dict[str, Any]:
        c = self.case
        return {
            "id": c.row_id,
            "source": c.source,
            "metric": c.metric,
            "family": c.family,
            "measured": c.measured,
            "predicted": self.predicted,
            "error_percent": self.error_percent,
            "raw_predicted": self.raw_predicted,
            "raw_error_percent": self.raw_error_percent,
            "calibration_group": self.group,
            "engine": c.engine.family,
            "hardware": c.gpu.id,
            "model": c.model.id,
            "precision": c.weights,
            "kv_precision": c.kv,
            "parallelism": {"tp": c.tp, "pp": c.pp, "dp_attention": c.dp_attention, "ep": c.ep},
            "mode": c.mode,
            "batch": self.batch,
            "bound": self.bound,
            "input_tokens": c.input_tokens,
            "output_tokens": c.output_tokens,
            "assumptions": list(c.assumptions),
        }


def mdape(errors: Sequence[float]) -> float | None:
    return statistics.median(abs(e) for e in errors) if errors else None


@dataclass(frozen=True)
class Validation:
    total: int
    rows: list[RowResult]
    unmapped: list[Unmapped]
    calibrated: bool
    fitted: Calibration | None = None

    @property
    def mapped(self) -> int:
        return len(self.rows)

    def summary(self, raw: bool = False) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for family in FAMILIES:
            errors = [
                r.raw_error_percent if raw else r.error_percent
                for r in self.rows
                if r.case.family == family
            ]
            out[family] = {"mdape_percent": mdape(errors), "count": len(errors)}
        return out

    def by_source(self) -> dict[str, dict[str, Any]]:
        sources: dict[str, list[RowResult]] = {}
        for r in self.rows:
            sources.setdefault(r.case.source, []).append(r)
        return {
            name: {
                "count": len(rs),
                "mdape_percent": mdape([r.error_percent for r in rs]),
                "raw_mdape_percent": mdape([r.raw_error_percent for r in rs]),
            }
            for name, rs in sorted(sources.items())
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "mapped": self.mapped,
            "calibration": "leave-one-source-out" if self.calibrated else "none (raw roofline)",
            "summary": self.summary(),
            "summary_raw": self.summary(raw=True),
            "by_source": self.by_source(),
            "rows": [r.to_dict() for r in self.rows],
            "unmapped": [
                {"id": u.row_id, "source": u.source, "metric": u.metric, "reason": u.reason}
                for u in self.unmapped
            ],
        }


def prepare(rows: Sequence[MeasuredRow | Measurement]) -> tuple[list[Case], list[Unmapped]]:
    """Map every row; rows that can't be read, or whose model doesn't fit, are unmapped."""
    cases: list[Case] = []
    unmapped: list[Unmapped] = []
    for row in rows:
        mapped = map_measurement(row) if isinstance(row, Measurement) else map_row(row)
        if isinstance(mapped, Unmapped):
            unmapped.append(mapped)
            continue
        try:
            check_fits(mapped)
            predict(mapped, Efficiency())
        except (InputError, ZeroDivisionError, ValueError) as exc:
            unmapped.append(Unmapped(mapped.row_id, mapped.source, mapped.metric, str(exc)))
            continue
        cases.append(mapped)
    return cases, unmapped


def validate(
    data: Path | str | None = None,
    *,
    calibrated: bool = True,
    fit_all: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Validation:
    """Validate the performance model against a measured-points CSV.

    `calibrated` predicts each row with factors fitted without its source (leave one source
    out); otherwise with the default efficiencies. `fit_all` also fits factors on every row,
    for `--write-calibration`.
    """
    rows = load(data)
    cases, unmapped = prepare(rows)
    # rows of the bundled free text that the conversion could not read
    left = unread(BUILTIN_STRUCTURED) if data is None else []
    unmapped += [Unmapped(u["id"], source_of(u["id"]), u["metric"], u["reason"]) for u in left]
    base = Efficiency()
    held = leave_one_source_out(cases, base, progress=progress) if calibrated else {}
    results: list[RowResult] = []
    for case in cases:
        raw = predict(case, base)
        if case.row_id in held:
            h = held[case.row_id]
            try:
                cal = predict(case, h.factors.apply(base))
            except (InputError, ZeroDivisionError, ValueError):
                cal = raw
            results.append(RowResult(case, cal.value, raw.value, cal.batch, cal.bound, h.group))
        else:
            results.append(RowResult(case, raw.value, raw.value, raw.batch, raw.bound, "raw"))
    fitted = calibrate(cases, base) if fit_all else None
    return Validation(len(rows) + len(left), results, unmapped, calibrated, fitted)
