"""A measurement as validation cases, and efficiency factors fitted to it.

Each measured level of `infercost measure` becomes the same kind of `Case` a published
benchmark row does: the setup's catalog entries, the measured mean lengths, and the level's
concurrency (held in flight, as a "continuous" row at that batch) or request rate. The fit
is validation's (`calibrate.fit`), so factors fitted to a measurement and to published rows
mean the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from infercost.errors import InputError
from infercost.evaluate.config import resolve
from infercost.measurement.model import LevelShape, Setup
from infercost.perf.calibration import Calibration, Factors
from infercost.perf.deployment import Efficiency
from infercost.validation.calibrate import fit
from infercost.validation.mapping import LATENCY, THROUGHPUT, Case

# metric name → (what the model predicts, family, the summary's figure, unit scale)
METRICS = {
    "throughput_output_tok_s": ("output_tok_s", THROUGHPUT, ("throughput_output_tok_s",), 1.0),
    "tpot_ms_p50": ("tpot_ms", LATENCY, ("tpot_s", "p50"), 1e3),
    "ttft_ms_p50": ("ttft_ms", LATENCY, ("ttft_s", "p50"), 1e3),
}


def level_case(setup: Setup, report: dict[str, Any], metric: str) -> Case:
    """One measured level's `metric` as a validation case."""
    target, family, where, scale = METRICS[metric]
    value: Any = report
    for key in where:
        value = value.get(key) if isinstance(value, dict) else None
    if not isinstance(value, int | float) or not value > 0:
        raise InputError("measurement", f"{report.get('level')} has no {metric}")
    shape = LevelShape.of(report)
    if shape.kind not in ("concurrency", "rate"):
        raise InputError("measurement", f"{report.get('level')}: no model for a {shape.kind} level")
    r = resolve(setup.config(), None)
    dep = r.deployment
    held = shape.kind == "concurrency"
    return Case(
        row_id=f"measured-{report['level']}-{target}",
        source="measured",
        metric=metric,
        family=family,
        target=target,
        measured=float(value) * scale,
        engine=r.engine,
        model=dep.model,
        gpu=dep.gpu,
        tp=dep.parallelism.tp,
        pp=1,
        dp_attention=1,
        ep=1,
        weights=setup.precision,
        kv=dep.kv.name,
        input_tokens=shape.input_tokens,
        output_tokens=shape.output_tokens,
        mode="continuous" if held else "rate",
        batch=shape.value if held else None,
        max_requests=shape.value if held else float("inf"),
        request_rate=None if held else shape.value,
        scale=1.0,
        cached_fraction=shape.cached_fraction,
        arrival_group=shape.arrival_group,
    )


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
