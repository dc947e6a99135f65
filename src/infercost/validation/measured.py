"""A measurement as structured rows and validation cases, and efficiency factors fitted to it.

Each measured level of `infercost measure` becomes `Measurement` rows (`level_measurements`):
its output tokens/s and requests/s, and its TTFT, TPOT, ITL and E2E statistics, each with the
level's load (concurrency held in flight, or a request rate), the measured mean lengths, the
prefix-cache hit rate, the engine and the setup. `measure --out DIR` writes them as
`DIR/measurements.jsonl`, which `validate --data` reads. A level becomes a `Case` through the
same `mapping.case_of` a published row does, and the fit is validation's (`calibrate.fit`), so
factors fitted to a measurement and to published rows mean the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from infercost.errors import InputError
from infercost.measurement.model import LevelShape, Setup
from infercost.perf.calibration import Calibration, Factors
from infercost.perf.deployment import Efficiency
from infercost.validation.calibrate import fit
from infercost.validation.mapping import Case, case_of
from infercost.validation.schema import Measurement

# metric name (calibrate's) → (the Measurement's metric, its statistic)
METRICS = {
    "throughput_output_tok_s": ("output_tok_s", "mean"),
    "tpot_ms_p50": ("tpot_s", "p50"),
    "ttft_ms_p50": ("ttft_s", "p50"),
}
# the summary's figures written for each level: (summary key, metric, statistics)
_RATES = (("throughput_output_tok_s", "output_tok_s"), ("throughput_requests_per_s", "requests_s"))
_LATENCIES = ("ttft_s", "tpot_s", "itl_s", "e2e_s")
_STATISTICS = ("mean", "p50", "p90", "p95", "p99")
_LOADS = {"concurrency": "concurrency", "rate": "request_rate"}


@dataclass(frozen=True)
class Served:
    """What served a measurement: the setup, and the engine as named or detected."""

    model: str  # a catalog model, or the name the server serves
    gpu: str
    gpus: int = 1
    precision: str | None = None  # None: not stated
    engine: str = "unknown"
    engine_version: str = ""
    run: str = "MEASURE"  # the rows' id prefix; their source in leave-one-source-out
    date: str = ""

    @classmethod
    def of(cls, setup: Setup, **more: Any) -> Served:
        return cls(setup.model, setup.gpu, setup.gpus, setup.precision, setup.engine, **more)


def run_measurements(served: Served, reports: Sequence[dict[str, Any]]) -> list[Measurement]:
    """Every level's figures, numbered through the run (`RUN-001`, …: one source)."""
    out: list[Measurement] = []
    for report in reports:
        out += level_measurements(served, report, first=len(out) + 1)
    return out


def level_measurements(served: Served, report: dict[str, Any], first: int = 1) -> list[Measurement]:
    """One measured level's figures as `Measurement`s, numbered from `first` (none for a
    trace replay or an empty level: no load mode describes the first, nothing was measured
    in the second)."""
    shape = LevelShape.of(report)
    if shape.kind not in _LOADS or not report.get("completed"):
        return []
    held = shape.kind == "concurrency"
    common: dict[str, Any] = {
        "source_url": "",
        "date": served.date,
        "engine": served.engine or "unknown",
        "engine_version": served.engine_version,
        "model": served.model,
        "gpu": served.gpu,
        "num_gpus": served.gpus,
        "precision_weights": served.precision,
        "tp": served.gpus,
        "load_mode": _LOADS[shape.kind],
        "batch": shape.value if held else None,
        "request_rate_per_s": None if held else shape.value,
        "arrival_group": shape.arrival_group if held else None,
        "max_batch": (report.get("workload") or {}).get("server_slots"),
        "num_requests": int(report.get("requests") or 0) or None,
        "input_tokens": shape.input_tokens,
        "output_tokens": shape.output_tokens,
        "cache_hit_rate": shape.cached_fraction,
        "notes": (
            f"infercost measure, level {report['level']}: {report.get('completed')} of "
            f"{report.get('requests')} requests completed"
        ),
    }
    figures: list[tuple[str, str, Any]] = [(m, "mean", report.get(key)) for key, m in _RATES]
    for metric in _LATENCIES:
        stats = report.get(metric) or {}
        figures += [(metric, s, stats.get(s)) for s in _STATISTICS if isinstance(stats, dict)]
    out: list[Measurement] = []
    for metric, statistic, value in figures:
        if isinstance(value, int | float) and value > 0:
            row_id = f"{served.run}-{first + len(out):03d}"
            fields = {**common, "id": row_id, "metric": metric, "statistic": statistic}
            out.append(Measurement.model_validate({**fields, "value": float(value)}))
    return out


def level_case(setup: Setup, report: dict[str, Any], metric: str) -> Case:
    """One measured level's `metric` as a validation case, through its `Measurement`."""
    want = METRICS[metric]
    found = [
        m for m in level_measurements(Served.of(setup), report) if (m.metric, m.statistic) == want
    ]
    if not found:
        raise InputError("measurement", f"{report.get('level')} has no {metric}")
    return case_of(found[0])


def cases(setup: Setup, reports: Sequence[dict[str, Any]]) -> list[Case]:
    """Every level's throughput, TPOT and TTFT that can be read, as cases."""
    out = []
    for report in reports:
        for metric in METRICS:
            try:
                out.append(level_case(setup, report, metric))
            except InputError:
                continue
    return out


def calibrate_to(
    setup: Setup, reports: Sequence[dict[str, Any]], base: Efficiency | None = None
) -> Calibration:
    """Factors fitted to the measured throughputs and latencies (TPOT and TTFT, their
    medians) of every level."""
    base = base or Efficiency()
    found = cases(setup, reports)
    if not found:
        raise InputError("measurement", "no level has a throughput, TPOT or TTFT to fit")
    factors = fit(found, Factors.of(base), base)
    hardware = found[0].gpu.family
    engine = found[0].engine.id
    keys = (f"{engine}/{hardware}", engine, f"*/{hardware}")
    provenance = {
        "basis": "calibrated",
        "data": "infercost measure",
        "setup": setup.to_dict(),
        "levels": [r["level"] for r in reports],
        "method": "validate.calibrate.fit on measured throughput, TPOT and TTFT",
    }
    return Calibration({key: factors for key in keys}, provenance)
