"""The streaming client and the load runner against an in-process fake server."""

from __future__ import annotations

import asyncio
import math

import numpy as np
import pytest
from fake_server import serving

from infercost.measurement.client import Request, Result
from infercost.measurement.load import run_concurrency, run_schedule


def collect(coro_factory):  # type: ignore[no-untyped-def]
    results: list[Result] = []

    async def main():  # type: ignore[no-untyped-def]
        async with serving(ttft_s=0.05, itl_s=0.01) as url:
            return await coro_factory(url, results.append)

    stats = asyncio.run(main())
    return stats, results


def test_timing_of_one_stream() -> None:
    stats, results = collect(
        lambda url, sink: run_concurrency(url, "m", [Request("ok", 20)], 1, sink)
    )
    (r,) = results
    assert r.error == ""
    assert r.output_tokens == 20  # from usage
    assert r.first_token_s - r.send_s == pytest.approx(0.05, abs=0.03)
    gaps = np.diff(r.chunks_s)
    assert len(gaps) == 19
    assert float(np.median(gaps)) == pytest.approx(0.01, abs=0.005)
    assert stats.sent == stats.finished == 1


def test_tokens_are_counted_when_the_server_gives_no_usage() -> None:
    _, results = collect(
        lambda url, sink: run_concurrency(url, "m", [Request("nousage", 9)], 1, sink)
    )
    assert results[0].output_tokens == 9
    assert results[0].error == ""


def test_every_request_appears_once_with_its_cause() -> None:
    modes = ["ok", "http500", "broken", "drop", "ok", "stall"]
    requests = [Request(m, 6) for m in modes]
    _, results = collect(
        lambda url, sink: run_concurrency(url, "m", requests, 3, sink, timeout_s=0.5)
    )
    by_index = {r.index: r for r in results}
    assert sorted(by_index) == list(range(len(modes)))
    assert by_index[0].error == ""
    assert by_index[4].error == ""
    assert by_index[1].error.startswith("http 500")
    assert by_index[2].error.startswith("malformed stream")
    assert by_index[3].error  # a dropped stream never counts as a success
    assert by_index[5].error.startswith("timeout")
    assert math.isnan(by_index[5].first_token_s)


def test_a_server_that_drops_kept_alive_connections_costs_retries_not_errors() -> None:
    # Each answer closes its connection after the stream, as llama-server's do: the next
    # request written into that pooled connection fails before the server saw it.
    requests = [Request("close", 3) for _ in range(12)]
    stats, results = collect(lambda url, sink: run_concurrency(url, "m", requests, 2, sink))
    assert [r.error for r in results] == [""] * 12
    assert stats.fresh_connections  # seen, and no longer reused
    assert 1 <= sum(r.retries for r in results) <= 2  # at most one per worker, then none


def test_kept_alive_connections_are_reused_when_the_server_keeps_them() -> None:
    requests = [Request("ok", 3) for _ in range(12)]
    stats, results = collect(lambda url, sink: run_concurrency(url, "m", requests, 2, sink))
    assert sum(r.retries for r in results) == 0
    assert not stats.fresh_connections


def test_a_server_that_really_fails_is_still_recorded_as_failing() -> None:
    requests = [Request("http500", 3), Request("drop", 6), Request("ok", 3)]
    _, results = collect(lambda url, sink: run_concurrency(url, "m", requests, 1, sink))
    by_index = {r.index: r for r in results}
    assert by_index[0].error.startswith("http 500")
    assert by_index[1].error.startswith("stream dropped")
    assert by_index[0].retries == by_index[1].retries == 0  # the server had begun them
    assert by_index[2].error == ""


def test_schedule_is_honoured_and_lateness_reported() -> None:
    times = np.arange(40) * 0.025  # 40 req/s for one second
    requests = [Request("ok", 4) for _ in times]
    stats, results = collect(
        lambda url, sink: run_schedule(url, "m", requests, times, sink, max_in_flight=64)
    )
    assert len(results) == 40
    report = stats.to_dict(target_rate=40.0)
    assert report["lateness_p99_s"] < 0.02
    sends = sorted(r.send_s for r in results)
    assert sends[-1] - sends[0] == pytest.approx(times[-1], abs=0.05)


def test_a_full_in_flight_cap_shows_as_lateness() -> None:
    times = np.zeros(6)  # six at once, two allowed in flight
    requests = [Request("ok", 5) for _ in times]
    stats, results = collect(
        lambda url, sink: run_schedule(url, "m", requests, times, sink, max_in_flight=2)
    )
    assert len(results) == 6
    assert max(stats.lateness_s) > 0.1  # the last pair waited for two full streams


def test_prometheus_text_is_summed_over_labels() -> None:
    from infercost.measurement.metrics import parse

    text = """# HELP vllm:generation_tokens_total Tokens.
vllm:generation_tokens_total{model_name="a"} 10
vllm:generation_tokens_total{model_name="b"} 5.5
vllm:num_requests_running 3
something_else 7
"""
    assert parse(text) == {"vllm:generation_tokens_total": 15.5, "vllm:num_requests_running": 3.0}


def test_sweep_doubles_until_goodput_falls_or_errors_rise() -> None:
    from infercost.measurement.run import sweep

    rule = sweep(max_error_rate=0.1)
    first = rule([])
    assert first is not None
    assert first.name == "concurrency-1"
    good = {"requests": 10, "errors": 0}
    nxt = rule([{**good, "level": "concurrency-1", "goodput_rps": 1.0}])
    assert nxt is not None
    assert nxt.name == "concurrency-2"
    falling = [
        {**good, "level": "concurrency-1", "goodput_rps": 1.0},
        {**good, "level": "concurrency-2", "goodput_rps": 0.9},
    ]
    assert rule(falling) is None
    failing = [{"level": "concurrency-1", "requests": 10, "errors": 2, "goodput_rps": 1.0}]
    assert rule(failing) is None


def _vllm(buckets: tuple[float, ...], total: float, hits: float, queries: float) -> str:
    """A vLLM-like exposition: one TTFT histogram (bounds 0.1, 0.5, 1, +Inf) and the prefix
    cache counters, with the labels vLLM puts on them."""
    name = "vllm:time_to_first_token_seconds"
    lines = [f"# TYPE {name} histogram"]
    for bound, count in zip(("0.1", "0.5", "1.0", "+Inf"), buckets, strict=True):
        lines.append(f'{name}_bucket{{le="{bound}",model_name="m"}} {count}')
    lines += [
        f'{name}_sum{{model_name="m"}} {total}',
        f'{name}_count{{model_name="m"}} {buckets[-1]}',
        "# TYPE vllm:prefix_cache_hits counter",
        f'vllm:prefix_cache_hits_total{{engine="0",model_name="m"}} {hits}',
        "# TYPE vllm:prefix_cache_queries counter",
        f'vllm:prefix_cache_queries_total{{engine="0",model_name="m"}} {queries}',
    ]
    return "\n".join(lines) + "\n"


VLLM_BEFORE = _vllm((1, 1, 1, 1), 0.05, 0, 100)
VLLM_AFTER = _vllm((3, 7, 9, 9), 3.25, 150, 400)


def test_a_level_reads_the_servers_histograms_and_cache_counters() -> None:
    from infercost.measurement.metrics import added, derived, read

    flat0, hist0 = read(VLLM_BEFORE)
    flat1, hist1 = read(VLLM_AFTER)
    name = "vllm:time_to_first_token_seconds"
    level = added(hist0[name], hist1[name])
    assert level is not None
    # 8 requests the level added: 2 under 0.1 s, 4 in (0.1, 0.5], 2 in (0.5, 1.0]; 3.2 s in all.
    assert level["count"] == 8
    assert level["mean_s"] == pytest.approx(0.4)
    # The median is the 4th of 8: the 2nd of the 4 in (0.1, 0.5], halfway: 0.3 s.
    assert level["p50_s"] == pytest.approx(0.3)
    assert level["p99_s"] == pytest.approx(0.5 + 0.5 * (7.92 - 6) / 2)
    delta = {k: flat1[k] - flat0.get(k, 0.0) for k in flat1}
    assert derived(delta)["cache_hit_rate"] == pytest.approx(150 / 300)


def test_llama_cpp_counts_cached_prompt_tokens_apart() -> None:
    from infercost.measurement.metrics import derived

    delta = {"llamacpp:prompt_tokens_total": 300.0, "llamacpp:prompt_tokens_cached_total": 100.0,
             "llamacpp:prompt_seconds_total": 1.5}  # fmt: skip
    found = derived(delta)
    assert found["cache_hit_rate"] == pytest.approx(0.25)  # 100 of the 400 prompt tokens
    assert found["prompt_s_per_token"] == pytest.approx(0.005)


def test_a_measured_cache_hit_rate_is_the_simulators_cached_fraction() -> None:
    from infercost.measurement.model import Setup, cached_fraction_of, predict_level

    report = {"level": "concurrency-1", "completed": 4, "input_tokens_mean": 2000.0,
              "output_tokens": 64, "workload": {"cache_hit_rate": 0.2},
              "server_metrics": {"derived": {"cache_hit_rate": 0.75}}}  # fmt: skip
    assert cached_fraction_of(report) == 0.75  # the server's own count first
    assert cached_fraction_of({**report, "server_metrics": {}}) == 0.2
    assert cached_fraction_of({"level": "concurrency-1"}) == 0.0
    setup = Setup("llama-3.1-8b", "h100")
    cold = predict_level(setup, {**report, "server_metrics": {}, "workload": {}})
    warm = predict_level(setup, report)
    assert warm["ttft_s_p50"] < 0.5 * cold["ttft_s_p50"]  # three quarters of the prompt cached


def test_requests_sent_together_are_one_arrival_group() -> None:
    from infercost.measurement.run import arrival_group

    def sent(times: list[float]) -> list[Result]:
        return [Result(index=i, send_s=t) for i, t in enumerate(times)]

    step = 0.02  # a decode step
    lockstep = [0.0, 0.001, 0.002, 0.003, 1.0, 1.001, 1.002, 1.003]
    assert arrival_group(sent(lockstep), step) == pytest.approx(4)
    staggered = [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
    assert arrival_group(sent(staggered), step) == pytest.approx(1)
    # Σ size² ÷ Σ size: a request's own group, on average over requests (6 alone, 1 of 2).
    mixed = [0.0, 0.001, 0.3, 0.6, 0.9, 1.2, 1.5, 1.8]
    assert arrival_group(sent(mixed), step) == pytest.approx((4 + 6) / 8)
    assert arrival_group(sent([0.5]), step) == 1.0
