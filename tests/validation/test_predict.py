"""Predictions of benchmark rows behave as the serving physics says they must."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from measured_rows import row

from infercost.perf.deployment import Efficiency
from infercost.validation.mapping import Case, map_row
from infercost.validation.predict import deployment, predict


def _case(**fields: str) -> Case:
    mapped = map_row(row(**fields))
    assert isinstance(mapped, Case)
    return mapped


EFF = Efficiency()


def test_batch_one_decode_is_bounded_by_reading_the_weights() -> None:
    c = _case(batch_or_concurrency="1", metric="decode_tok_s_single_stream", input_len="5")
    value = predict(c, EFF).value
    weights = c.model.total_params() * 2  # bf16
    ceiling = c.gpu.memory_bandwidth_bytes_per_s / weights
    assert value < ceiling  # can't beat streaming every weight once per token at peak
    assert value > 0.5 * ceiling * EFF.memory


def test_a_finite_run_with_variable_lengths_drains_below_the_steady_state() -> None:
    steady = _case(input_len="213", output_len="218")
    sharegpt = _case(
        input_len="ShareGPT (200 prompts)", output_len="ShareGPT", batch_or_concurrency="offline"
    )
    assert sharegpt.max_requests == 200
    drained = predict(sharegpt, EFF).value
    assert drained < predict(replace(steady, max_requests=math.inf), EFF).value
    # With fixed lengths the same 200 requests run as one full wave: no drain.
    fixed = predict(replace(steady, max_requests=200.0), EFF).value
    assert drained < fixed


def test_more_requests_never_lower_max_load_throughput() -> None:
    few = predict(_case(batch_or_concurrency="max load; 50 requests"), EFF).value
    many = predict(_case(batch_or_concurrency="max load; 5000 requests"), EFF).value
    assert many >= few


def test_multi_step_scheduling_delays_the_first_token() -> None:
    online = _case(
        batch_or_concurrency="1200 prompts", request_rate="4", metric="ttft_ms_p50", unit="ms"
    )
    one = predict(online, EFF).value
    ten = predict(replace(online, scheduler_steps=10), EFF).value
    assert ten > one * 1.5


def test_rate_mode_concurrency_obeys_littles_law() -> None:
    online = _case(
        batch_or_concurrency="1200 prompts", request_rate="4", metric="ttft_ms_p50", unit="ms"
    )
    p = predict(online, EFF)
    e2e = (
        predict(replace(online, target="ttft_ms"), EFF).value / 1e3
        + (online.output_tokens - 1) * predict(replace(online, target="tpot_ms"), EFF).value / 1e3
    )
    assert p.batch == pytest.approx(4 * e2e, rel=0.01)


def test_a_request_rate_is_shared_by_the_systems_replicas() -> None:
    """A rate row's rate is the whole system's: two TP1 replicas at 8 requests/s each see 4,
    so they match one replica at 4 requests/s in latency and double its throughput."""
    load = {"batch_or_concurrency": "1200 prompts", "unit": "tok/s (all GPUs)"}
    one = _case(**load, request_rate="4")
    two = _case(**load, request_rate="8", num_gpus="2")
    assert two.replicas == 2
    assert two.scale == 2
    assert predict(two, EFF).value == pytest.approx(2 * predict(one, EFF).value)
    assert predict(two, EFF).batch == pytest.approx(predict(one, EFF).batch)
    for target in ("ttft_ms", "tpot_ms"):
        assert predict(replace(two, target=target), EFF).value == pytest.approx(
            predict(replace(one, target=target), EFF).value
        )
    per_gpu = _case(**{**load, "unit": "tok/s/GPU"}, request_rate="8", num_gpus="2")
    assert predict(per_gpu, EFF).value == pytest.approx(predict(one, EFF).value)


def test_static_ttft_grows_with_the_prompt() -> None:
    short = _case(batch_or_concurrency="static batch 1", input_len="128", output_len="1")
    long = _case(batch_or_concurrency="static batch 1", input_len="2048", output_len="1")
    short, long = (replace(c, target="ttft_ms", metric="ttft_ms_mean") for c in (short, long))
    assert predict(long, EFF).value > 4 * predict(short, EFF).value


def test_engine_settings_reach_the_deployment() -> None:
    trt = _case(engine="TensorRT-LLM")
    dep = deployment(trt, EFF)
    assert dep.efficiency.memory_reserve_fraction == trt.engine.memory_reserve_fraction
    assert dep.efficiency.compute == EFF.compute


def test_a_servers_stated_slots_replace_the_engines_default_cap() -> None:
    """llama-server runs one sequence unless --parallel (-np) says more: four users against
    one slot queue for it (TTFT grows, throughput stays one stream's), against eight slots
    they are batched together."""
    common = {"engine": "llama.cpp", "model": "SmolLM2-135M-Instruct", "gpu": "cpu-avx512-2c",
              "precision_weights": "q4_1", "num_gpus": "0", "input_len": "128",
              "output_len": "128", "batch_or_concurrency": "concurrency 4"}  # fmt: skip
    queued = _case(**common, metric="ttft_ms_p50", unit="ms")
    slots = _case(**common, metric="ttft_ms_p50", unit="ms", notes="llama-server -np 8 -t 2")
    assert (queued.engine_cap, slots.engine_cap) == (None, 8.0)
    assert predict(queued, EFF).value > 2 * predict(slots, EFF).value
    one = _case(**common, metric="throughput_output_tok_s")
    eight = _case(**common, metric="throughput_output_tok_s", notes="llama-server -np 8")
    assert predict(eight, EFF).value > 1.5 * predict(one, EFF).value
