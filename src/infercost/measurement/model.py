"""Set a measurement against the performance model.

A measured load level is a configuration under a workload: the catalog model and
accelerator the user names, the engine family, the measured mean prompt and output lengths,
and either the concurrency the level held or its request rate. Its prediction comes from
the same pipeline `estimate` uses (`infercost.evaluate`), so a measurement and a prediction
are the same question asked of the world and of the model.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from infercost.errors import InputError
from infercost.evaluate.config import CalibrationChoice, Config, resolve
from infercost.evaluate.pipeline import Serving, Workload, at_rate, evaluate
from infercost.perf.deployment import Efficiency
from infercost.perf.replica import ReplicaPerformance


@dataclass(frozen=True)
class Setup:
    """What was measured, in catalog terms."""

    model: str  # catalog model id or alias
    gpu: str  # catalog accelerator id or alias
    gpus: int = 1
    precision: str = "bf16"
    engine: str = "other"

    def config(self) -> Config:
        return Config(
            model=self.model,
            gpu=self.gpu,
            tp=self.gpus,
            weight_precision=self.precision,
            engine=self.engine,
        )

    def check(self) -> Setup:
        """Every name resolves (the model, accelerator, precision, engine, layout)."""
        resolve(self.config(), None)
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LevelShape:
    """What one measured level asked of the server, read from its summary."""

    kind: str  # concurrency | rate | trace
    value: float
    input_tokens: float
    output_tokens: float
    cached_fraction: float = 0.0  # of each prompt, served by the server's prefix cache
    arrival_group: float = 1.0  # requests that arrived together (a concurrency level's lockstep)

    @classmethod
    def of(cls, report: dict[str, Any]) -> LevelShape:
        kind, _, value = str(report["level"]).partition("-")
        completed = max(int(report.get("completed") or 0), 1)
        prompt = max(float(report.get("input_tokens_mean") or 0.0), 1.0)
        output = max(float(report.get("output_tokens") or 0) / completed, 1.0)
        try:
            number = float(value)
        except ValueError:
            raise InputError("measurement", f"unreadable level {report['level']!r}") from None
        group = (report.get("workload") or {}).get("arrival_group")
        together = float(group) if kind == "concurrency" and isinstance(group, int | float) else 1.0
        together = min(max(together, 1.0), max(number, 1.0))
        return cls(kind, number, prompt, output, cached_fraction_of(report), together)


def cached_fraction_of(report: dict[str, Any]) -> float:
    """The share of prompt tokens the server's cache served in a level, the simulator's
    `cached_fraction`: the server's own counters when it has them, else what its responses
    said (`usage.prompt_tokens_details.cached_tokens`); 0 when neither tells."""
    server = ((report.get("server_metrics") or {}).get("derived") or {}).get("cache_hit_rate")
    client = (report.get("workload") or {}).get("cache_hit_rate")
    for found in (server, client):
        if isinstance(found, int | float) and 0 <= found < 1:
            return float(found)
    return 0.0


def level_performance(
    setup: Setup,
    report: dict[str, Any],
    calibration: CalibrationChoice = "builtin",
    base: Efficiency | None = None,
) -> ReplicaPerformance:
    """The model's replica performance for one measured level."""
    shape = LevelShape.of(report)
    workload = Workload(shape.input_tokens, shape.output_tokens, shape.cached_fraction)
    if shape.kind == "concurrency":
        n = max(round(shape.value), 1)
        held = resolve(setup.config().with_(max_sequences=n), calibration, base)  # n in flight
        serving = Serving(concurrency=n, arrival_group=shape.arrival_group)
        return evaluate(held, workload, serving).performance
    if shape.kind == "rate":
        return at_rate(resolve(setup.config(), calibration, base), workload, shape.value)
    raise InputError("measurement", f"no prediction for a {shape.kind} level")


def predict_level(
    setup: Setup,
    report: dict[str, Any],
    calibration: CalibrationChoice = "builtin",
    base: Efficiency | None = None,
) -> dict[str, Any]:
    """The model's throughput, TPOT and TTFT for one measured level (None where it can't)."""
    try:
        perf = level_performance(setup, report, calibration, base)
    except InputError:
        return {"throughput_output_tok_s": None, "tpot_s_p50": None, "ttft_s_p50": None}
    return {
        "throughput_output_tok_s": perf.output_tokens_per_s,
        "tpot_s_p50": perf.tpot_s,
        "ttft_s_p50": perf.ttft_s,
    }


def load_results(directory: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The level summaries and the setup a `measure --out DIR` run saved."""
    if not directory.is_dir():
        raise InputError("results", f"{directory} is not a folder written by `measure --out`")
    path = directory / "summary.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("results", f"no summary.json in {directory}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError("results", f"cannot read {path}: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("levels"), list):
        raise InputError("results", f"{path} has no 'levels' list")
    levels = [lv for lv in doc["levels"] if isinstance(lv, dict) and "level" in lv]
    setup = doc.get("setup")
    return levels, dict(setup) if isinstance(setup, dict) else {}
