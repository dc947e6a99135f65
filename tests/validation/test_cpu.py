"""The CPU point: predicted through the validation path; overheads fitted from two streams."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from infercost.perf.deployment import Efficiency
from infercost.perf.step import decode_step
from infercost.validation.cpu import cases, fit_overheads, predict_cpu_point
from infercost.validation.predict import deployment


def _measured(single_tok_s: float, per_stream_tok_s: float) -> dict[str, Any]:
    return {
        "single_stream": {
            "max_tokens": 256,
            "runs": [{"prompt_tokens": 31}],
            "median": {"decode_tok_per_s": single_tok_s},
        },
        "four_streams": {
            "streams": 4,
            "max_tokens": 128,
            "median": {
                "per_stream_decode_tok_per_s": per_stream_tok_s,
                "aggregate_tok_per_s": 3.5 * per_stream_tok_s,
            },
        },
    }


def test_cases_map_onto_the_catalog() -> None:
    c = cases(_measured(140.0, 42.0))
    assert c["single_stream"].gpu.id == "cpu-avx512-2c"
    assert c["single_stream"].model.id == "smollm2-135m"
    assert c["single_stream"].weights == "q4_1"
    assert (c["four_streams"].mode, c["four_streams"].batch) == ("continuous", 4)


def test_fit_recovers_overheads_that_generated_the_rates() -> None:
    truth = replace(Efficiency(), step_overhead_s=2e-3, token_overhead_s=3e-3)
    c = cases(_measured(1.0, 1.0))
    one, four = c["single_stream"], c["four_streams"]
    t1 = decode_step(deployment(one, truth), 1, one.input_tokens + one.output_tokens / 2)
    t4 = decode_step(deployment(four, truth), 4, four.input_tokens + four.output_tokens / 2)
    fitted = fit_overheads(_measured(1 / t1.total_s, 1 / t4.total_s))
    assert fitted["step_overhead_s"] == pytest.approx(2e-3, rel=1e-6)
    assert fitted["token_overhead_s"] == pytest.approx(3e-3, rel=1e-6)


def test_overheads_never_go_negative() -> None:
    fitted = fit_overheads(_measured(1e6, 1e6))  # faster than the roofline allows
    assert fitted["step_overhead_s"] == 0
    assert fitted["token_overhead_s"] == 0


def test_prediction_reports_raw_calibrated_and_fitted() -> None:
    out = predict_cpu_point(_measured(113.0, 49.0))
    assert {"raw", "calibrated", "overheads_fitted_here"} <= set(out)
    fitted = out["overheads_fitted_here"]
    assert fitted["fit"]["step_overhead_s"] > 0
    assert fitted["fit"]["token_overhead_s"] > 0
    assert fitted["single_stream"]["decode_tok_per_s"] == pytest.approx(113.0, rel=1e-6)
    assert fitted["four_streams"]["per_stream_decode_tok_per_s"] == pytest.approx(49.0, rel=1e-6)
    raw = out["raw"]["single_stream"]
    assert raw["decode_tok_per_s_error_percent"] == pytest.approx(
        (raw["decode_tok_per_s"] / 113 - 1) * 100
    )
