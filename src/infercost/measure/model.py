"""Set a measurement against the performance model, and calibrate the model to it.

A measured load level becomes the same kind of case `infercost validate` predicts: the
catalog model and accelerator the user names, the engine family, the measured mean prompt
and output lengths, and either a fixed concurrency (`N concurrent streams`) or a Poisson
rate. So a measurement, a published benchmark and a prediction all go through one path, and
`calibrate` fits factors to measurements with the fit `validate` uses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infercost.errors import InputError
from infercost.perf.calibration import Calibration, Factors
from infercost.perf.deployment import Efficiency
from infercost.validate.calibrate import fit
from infercost.validate.dataset import MeasuredRow
from infercost.validate.mapping import Case, map_row
from infercost.validate.predict import predict


@dataclass(frozen=True)
class Setup:
    """What was measured, in catalog terms."""

    model: str  # catalog model id or alias
    gpu: str  # catalog accelerator id or alias
    gpus: int = 1
    precision: str = "bf16"
    engine: str = "other"

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _case(setup: Setup, report: dict[str, Any], metric: str) -> Case:
    kind, _, value = report["level"].partition("-")
    measured = {
        "throughput_output_tok_s": report.get("throughput_output_tok_s"),
        "tpot_ms_p50": (report.get("tpot_s") or {}).get("p50"),
        "ttft_ms_p50": (report.get("ttft_s") or {}).get("p50"),
    }[metric]
    if measured is None or not measured > 0:
        raise InputError("measurement", f"{report['level']} has no {metric}")
    if metric.endswith("_ms_p50"):
        measured *= 1e3
    completed = max(int(report.get("completed") or 0), 1)
    prompt = max(float(report.get("input_tokens_mean") or 0.0), 1.0)
    output = max(float(report.get("output_tokens", 0)) / completed, 1.0)
    fields = {
        "id": f"measured-{report['level']}",
        "engine": setup.engine,
        "model": setup.model,
        "precision_weights": setup.precision,
        "gpu": setup.gpu,
        "num_gpus": str(setup.gpus),
        "tp": str(setup.gpus),
        "input_len": f"{prompt:.0f}",
        "output_len": f"{output:.0f}",
        "batch_or_concurrency": f"{value} concurrent streams" if kind == "concurrency" else "",
        "request_rate": value if kind == "rate" else "",
        "metric": metric,
        "value": f"{measured}",
        "unit": "tok/s" if metric.startswith("throughput") else "ms",
    }
    mapped = map_row(MeasuredRow(fields["id"], fields))
    if not isinstance(mapped, Case):
        raise InputError("measurement", mapped.reason)
    return mapped


def predict_level(setup: Setup, report: dict[str, Any], eff: Efficiency) -> dict[str, Any]:
    """The model's throughput, TPOT and TTFT for one measured level (None where it can't)."""
    out: dict[str, Any] = {}
    for metric, key, scale in (
        ("throughput_output_tok_s", "throughput_output_tok_s", 1.0),
        ("tpot_ms_p50", "tpot_s_p50", 1e-3),
        ("ttft_ms_p50", "ttft_s_p50", 1e-3),
    ):
        try:
            out[key] = predict(_case(setup, report, metric), eff).value * scale
        except (InputError, ValueError, ZeroDivisionError):
            out[key] = None
    return out


def calibrate_to(
    setup: Setup, reports: list[dict[str, Any]], base: Efficiency | None = None
) -> Calibration:
    """Factors fitted to the measured throughputs and latencies of every level."""
    base = base or Efficiency()
    cases = []
    for report in reports:
        for metric in ("throughput_output_tok_s", "tpot_ms_p50"):
            try:
                cases.append(_case(setup, report, metric))
            except InputError:
                continue
    if not cases:
        raise InputError("measurement", "no level has a throughput or TPOT to fit")
    factors = fit(cases, Factors.of(base), base)
    hardware = cases[0].gpu.family
    keys = (f"{setup.engine}/{hardware}", setup.engine, f"*/{hardware}")
    provenance = {
        "basis": "calibrated",
        "data": "infercost measure",
        "setup": setup.to_dict(),
        "levels": [r["level"] for r in reports],
        "method": "validate.calibrate.fit on measured throughput and TPOT",
    }
    return Calibration({key: factors for key in keys}, provenance)


def load_results(directory: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The level summaries and the setup a `measure --out DIR` run saved."""
    path = directory / "summary.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("results", f"no summary.json in {directory}") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError("results", f"cannot read {path}: {exc}") from None
    if isinstance(doc, dict) and "levels" in doc:
        return list(doc["levels"]), dict(doc.get("setup") or {})
    return list(doc), {}
