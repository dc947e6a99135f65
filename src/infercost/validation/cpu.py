"""The CPU point: SmolLM2-135M (Q4_1) behind llama.cpp's llama-server on the 2-core CI VM.

`benchmarks/bench_cpu_point.py` measures one stream and four concurrent streams; this module
predicts the same two figures with the performance model, through exactly the path
`infercost validate` uses for a measured row (so the prediction and the data-set rows
`INFERCOST-CPU-*` agree), and fits the per-step and per-sequence overheads that explain the
measurement on this machine.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from infercost.perf.calibration import load_calibration
from infercost.perf.deployment import Efficiency
from infercost.perf.step import decode_step
from infercost.validation.mapping import Case, case_of
from infercost.validation.predict import deployment, predict
from infercost.validation.schema import Measurement, Per

MODEL = "SmolLM2-135M-Instruct"
GPU = "cpu-avx512-2c"


def _case(row_id: str, per: Per, streams: int, prompt: int, output: int, value: float) -> Case:
    """`streams` sequences held in flight; `value` output tok/s in all or per stream."""
    measured = Measurement(
        id=row_id,
        engine="llama.cpp",
        model=MODEL,
        precision_weights="Q4_1",
        precision_kv="f16",
        gpu=GPU,
        num_gpus=0,
        input_tokens=prompt,
        output_tokens=output,
        load_mode="concurrency",
        batch=streams,
        metric="output_tok_s",
        value=value,
        per=per,
    )
    return case_of(measured)


def cases(measured: dict[str, Any]) -> dict[str, Case]:
    """The two measured configurations as validation cases (value = the measured median)."""
    single, four = measured["single_stream"], measured["four_streams"]
    prompt = int(single["runs"][0]["prompt_tokens"]) if single.get("runs") else 31
    return {
        "single_stream": _case(
            "CPU-1",
            "user",
            1,
            prompt,
            int(single["max_tokens"]),
            float(single["median"]["decode_tok_per_s"]),
        ),
        "four_streams": _case(
            "CPU-4",
            "aggregate",
            int(four["streams"]),
            prompt,
            int(four["max_tokens"]),
            float(four["median"]["aggregate_tok_per_s"]),
        ),
    }


def _predicted(c: dict[str, Case], eff: Efficiency) -> dict[str, dict[str, float]]:
    four = c["four_streams"]
    context = four.input_tokens + four.output_tokens / 2
    step = decode_step(deployment(four, eff), four.batch or 4, context)
    return {
        "single_stream": {"decode_tok_per_s": predict(c["single_stream"], eff).value},
        "four_streams": {
            "aggregate_tok_per_s": predict(four, eff).value,
            "per_stream_decode_tok_per_s": 1.0 / step.total_s,
        },
    }


def fit_overheads(measured: dict[str, Any], eff: Efficiency | None = None) -> dict[str, float]:
    """Per-step and per-sequence overheads that make both measured decode rates exact.

    With one and four sequences, t(b) = roofline(b) + step overhead + b × token overhead:
    two equations, two unknowns. Each is kept ≥ 0, so when the solution would need a
    negative one the fit is exact for the four-stream rate only.
    """
    eff = eff or Efficiency()
    c = cases(measured)
    bare = replace(eff, step_overhead_s=0.0, token_overhead_s=0.0)
    one = c["single_stream"]
    four = c["four_streams"]
    ctx1 = one.input_tokens + one.output_tokens / 2
    ctx4 = four.input_tokens + four.output_tokens / 2
    roof1 = decode_step(deployment(one, bare), 1, ctx1).total_s
    roof4 = decode_step(deployment(four, bare), four.batch or 4, ctx4).total_s
    t1 = 1.0 / float(measured["single_stream"]["median"]["decode_tok_per_s"])
    t4 = 1.0 / float(measured["four_streams"]["median"]["per_stream_decode_tok_per_s"])
    b = four.batch or 4
    token = max(((t4 - roof4) - (t1 - roof1)) / (b - 1), 0.0)
    step = max(t1 - roof1 - token, 0.0)
    return {
        "step_overhead_s": step,
        "token_overhead_s": token,
        "roofline_1_s": roof1,
        "roofline_4_s": roof4,
        "measured_1_s": t1,
        "measured_4_s": t4,
    }


def predict_cpu_point(measured: dict[str, Any]) -> dict[str, Any]:
    """Predictions of the two measured figures: raw roofline, calibrated, and overhead-fitted."""
    c = cases(measured)
    raw = Efficiency()
    calibrated = load_calibration().efficiency(c["single_stream"].gpu, "llama.cpp")
    fitted = fit_overheads(measured, raw)
    with_overheads = replace(
        raw, step_overhead_s=fitted["step_overhead_s"], token_overhead_s=fitted["token_overhead_s"]
    )
    out: dict[str, Any] = {
        "raw": _predicted(c, raw),
        "calibrated": _predicted(c, calibrated),
        "overheads_fitted_here": {**_predicted(c, with_overheads), "fit": fitted},
    }
    for label in ("raw", "calibrated"):
        for case, values in out[label].items():
            for metric, value in list(values.items()):
                measured_value = measured[case]["median"].get(metric)
                if isinstance(measured_value, int | float) and math.isfinite(value):
                    values[f"{metric}_error_percent"] = (value / measured_value - 1) * 100
    # The benchmark prints the first level as "predicted".
    out["single_stream"] = out["calibrated"]["single_stream"]
    out["four_streams"] = out["calibrated"]["four_streams"]
    return out
