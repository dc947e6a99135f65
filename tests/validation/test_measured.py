"""A measured level as structured rows: every figure with its load, lengths and setup, read
back by validate, and the same case calibrate fits to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infercost.errors import InputError
from infercost.measurement import engines
from infercost.measurement.model import Setup
from infercost.validation.dataset import source_of
from infercost.validation.measured import Served, level_case, run_measurements
from infercost.validation.measurements import read_measurements, write_measurements

SERVED = Served("llama-3.1-8b", "h100", 1, None, "vllm", "0.9.1", "MEASURE-X", "2026-12-07")


def _report(level: str, completed: int = 10) -> dict[str, Any]:
    return {
        "level": level,
        "requests": 10,
        "completed": completed,
        "input_tokens_mean": 200.0,
        "output_tokens": 640,  # 64 per request
        "throughput_output_tok_s": 500.0,
        "throughput_requests_per_s": 7.8,
        "ttft_s": {"mean": 0.06, "p50": 0.05, "p99": 0.2},
        "tpot_s": {"p50": 0.012},
        "workload": {"arrival_group": 3.0, "cache_hit_rate": 0.25},
    }


def test_a_concurrency_level_states_its_load_lengths_and_figures() -> None:
    rows = run_measurements(SERVED, [_report("concurrency-4")])
    figures = {(m.metric, m.statistic): m.value for m in rows}
    assert figures == {
        ("output_tok_s", "mean"): 500.0,
        ("requests_s", "mean"): 7.8,
        ("ttft_s", "mean"): 0.06,
        ("ttft_s", "p50"): 0.05,
        ("ttft_s", "p99"): 0.2,
        ("tpot_s", "p50"): 0.012,
    }
    m = rows[0]
    assert (m.load_mode, m.batch, m.request_rate_per_s, m.arrival_group) == (
        "concurrency",
        4.0,
        None,
        3.0,
    )
    assert (m.input_tokens, m.output_tokens, m.cache_hit_rate) == (200.0, 64.0, 0.25)
    assert (m.engine, m.engine_version, m.gpu, m.num_gpus, m.per) == (
        "vllm",
        "0.9.1",
        "h100",
        1,
        "aggregate",
    )
    assert m.precision_weights is None  # not stated by the user: not chosen here


def test_a_rate_level_and_ids_numbered_through_the_run() -> None:
    rows = run_measurements(SERVED, [_report("concurrency-1"), _report("rate-2.5")])
    assert [m.id for m in rows] == [f"MEASURE-X-{k:03d}" for k in range(1, len(rows) + 1)]
    assert {source_of(m.id) for m in rows} == {"MEASURE-X"}
    rate = [m for m in rows if m.load_mode == "request_rate"]
    assert rate
    assert all(m.request_rate_per_s == 2.5 and m.batch is None for m in rate)


def test_a_trace_replay_or_an_empty_level_gives_no_rows() -> None:
    assert run_measurements(SERVED, [_report("trace-1"), _report("concurrency-2", 0)]) == []


def test_rows_round_trip_through_the_file_validate_reads(tmp_path: Path) -> None:
    rows = run_measurements(SERVED, [_report("concurrency-4"), _report("rate-3")])
    assert read_measurements(write_measurements(rows, tmp_path / "m.jsonl")) == rows


def test_calibrate_sees_the_level_through_its_measurement() -> None:
    setup = Setup("llama-3.1-8b", "h100", 1, "bf16", "vllm")
    case = level_case(setup, _report("concurrency-4"), "tpot_ms_p50")
    assert (case.mode, case.batch, case.arrival_group) == ("continuous", 4.0, 3.0)
    assert (case.target, case.measured) == ("tpot_ms", pytest.approx(12.0))
    assert case.cached_fraction == 0.25
    with pytest.raises(InputError, match="has no"):
        level_case(setup, _report("trace-1"), "tpot_ms_p50")


def test_the_engine_version_is_what_the_server_reports(monkeypatch: pytest.MonkeyPatch) -> None:
    pages = {"http://s/version": '{"version": "0.9.1"}', "http://s/props": '{"build_info": 7}'}
    monkeypatch.setattr(engines, "_get", lambda url, headers: pages.get(url))
    assert engines.detect_version("http://s", "vllm") == "0.9.1"
    assert engines.detect_version("http://s", "llama.cpp") == "7"
    assert engines.detect_version("http://s", "sglang") == ""  # no answer: not stated
    assert engines.detect_version("http://s", None) == ""
