"""End to end: `infercost measure` against the real llama.cpp server serving SmolLM2-135M.

The server is built once from the llama-cpp-python sdist and cached (scripts/llama_server.py;
about six minutes the first time on two cores), started on 127.0.0.1 by this module and
stopped at its end. Token counts the tool reports are checked against the server's own
Prometheus counters.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from report_checks import check_self_contained
from test_cli import invoke

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import gguf_tokenizer
import llama_server

# Greedy decoding with the end tokens suppressed: every reply runs to max_tokens.
FIXED_LENGTH = json.dumps({"temperature": 0, "logit_bias": {"0": -100, "2": -100}})


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with llama_server.running_server(slots=4, threads=2) as url:
        yield url


def test_measured_tokens_and_timings_match_the_servers_own(server: str, tmp_path: Path) -> None:
    """What measure reports, set against the server's Prometheus counters for the same
    level: prompt and generated tokens exactly, the mean TPOT against llama.cpp's own
    generation seconds a step, the TTFT against its prompt seconds (one stream, so no
    request waits for another's prefill)."""
    result = invoke(
        "measure", "--url", server, "--model", "smollm2", "--concurrency", "1",
        "--requests", "6", "--input-tokens", "48", "--output-tokens", "24",
        "--price", "0.05", "--out", str(tmp_path), "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (doc,) = json.loads(result.stdout)["levels"]
    assert (doc["requests"], doc["errors"], doc["output_tokens"]) == (6, 0, 144)
    delta = doc["server_metrics"]["delta"]
    assert delta["llamacpp:tokens_predicted_total"] == 144
    records = [json.loads(x) for x in (tmp_path / "concurrency-1.jsonl").read_text().splitlines()]
    assert len(records) == 6
    assert sum(r["input_tokens"] for r in records) == 6 * 48
    cached = delta.get("llamacpp:prompt_tokens_cached_total", 0)
    assert delta["llamacpp:prompt_tokens_total"] + cached == 6 * 48
    # llama.cpp's generation seconds run from the first token to the last: tokens − 1 steps
    # a request, the steps a client's TPOT divides by.
    step = delta["llamacpp:tokens_predicted_seconds_total"] / (144 - 6)
    assert doc["tpot_s"]["mean"] == pytest.approx(step, rel=0.1)
    prompt = delta["llamacpp:prompt_seconds_total"] / 6
    assert prompt <= doc["ttft_s"]["mean"] <= prompt + 0.25
    assert doc["client_vs_server"]["ttft"]["large"] is False
    assert doc["usd_per_million_output_tokens"] > 0


def test_a_server_killed_mid_run_is_recorded_not_fatal(tmp_path: Path) -> None:
    import threading

    with llama_server.running_server(slots=2, threads=2) as url:
        threading.Timer(1.5, llama_server.process(url).kill).start()
        result = invoke(
            "measure", "--url", url, "--model", "smollm2", "--concurrency", "2",
            "--requests", "20", "--output-tokens", "64", "--extra", FIXED_LENGTH,
            "--timeout", "10", "--out", str(tmp_path), "--json",
        )  # fmt: skip
    doc = json.loads(result.stdout)
    assert doc["requests"] == 20  # every request sent appears once
    assert doc["errors"] > 0
    assert result.exit_code == 1  # past the default 10 % error rate
    assert f"{doc['errors']} errors of 20 requests" in result.stderr


def test_measure_predict_calibrate_estimate_loop(server: str, tmp_path: Path) -> None:
    measured = invoke(
        "measure", "--url", server, "--model", "smollm2", "--concurrency", "1,4",
        "--requests", "8", "--input-tokens", "32", "--output-tokens", "48",
        "--extra", FIXED_LENGTH, "--gpu", "cpu-avx512-2c", "--precision", "q4_1",
        "--engine", "llama.cpp", "--price", "0.05", "--out", str(tmp_path), "--json",
        "--html", str(tmp_path / "measured.html"),
    )  # fmt: skip
    assert measured.exit_code == 0, measured.output
    levels = json.loads(measured.stdout)["levels"]
    for level in levels:
        assert level["predicted"]["throughput_output_tok_s"] > 0
        assert level["predicted"]["usd_per_million_output_tokens"] > 0
        assert sum(level["distributions"]["timeline"]["requests"]) == level["completed"]
    # The report: measured beside predicted per level, CDFs with the predicted medians;
    # and the same report redrawn from the saved folder.
    assert "Measured levels" in check_self_contained(tmp_path / "measured.html")
    html = (tmp_path / "measured.html").read_text(encoding="utf-8")
    assert "measured concurrency-4" in html
    assert "predicted p50 (concurrency-1)" in html
    redrawn = invoke("report", str(tmp_path))
    assert redrawn.exit_code == 0, redrawn.output
    assert "Measured levels" in check_self_contained(tmp_path / "report.html")
    calibrated = tmp_path / "calibrated.html"
    fitted = invoke("calibrate", str(tmp_path), "--json", "--html", str(calibrated))
    assert fitted.exit_code == 0, fitted.output
    assert "Predicted against measured, before and after the fit" in check_self_contained(
        calibrated
    )
    doc = json.loads(fitted.output)
    assert "llama.cpp/cpu" in doc["groups"]
    # The fit lowers the levels' total |log error| (one level may move away to bring the
    # others closer: the roofline cannot match two noisy CPU levels exactly), and leaves
    # every level within 30 % of what was measured.
    raw_error = fitted_error = 0.0
    for row in doc["levels"]:
        raw_error += abs(math.log(row["raw_tok_s"] / row["measured_tok_s"]))
        fitted_error += abs(math.log(row["calibrated_tok_s"] / row["measured_tok_s"]))
        assert abs(row["calibrated_tok_s"] / row["measured_tok_s"] - 1) < 0.3, row
    assert fitted_error <= raw_error + 1e-9
    estimate = invoke(
        "estimate", "-m", "smollm2", "-g", "cpu", "--engine", "llama.cpp",
        "--calibration", doc["saved"], "--json",
    )  # fmt: skip
    assert estimate.exit_code == 0, estimate.output
    (row,) = json.loads(estimate.stdout)["estimates"]
    assert row["efficiency"]["calibration_group"] == "llama.cpp/cpu"


def test_prompts_are_unique_exact_and_answers_run_to_the_length_asked(
    server: str, tmp_path: Path
) -> None:
    # No --extra: measure finds the engine and the tokenizer itself.
    result = invoke(
        "measure", "--url", server, "--model", "smollm2", "--concurrency", "1",
        "--requests", "6", "--input-tokens", "300", "--output-tokens", "24",
        "--out", str(tmp_path), "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (level,) = json.loads(result.stdout)["levels"]
    work = level["workload"]
    assert work["engine"] == "llama.cpp"
    assert work["length_sources"] == ["server"]
    assert work["prompts_at_requested_length"] == work["prompts_checked"] == 6
    assert work["short_outputs"] == 0
    assert (work["cached_prompt_tokens"] or 0) <= 6  # nothing reused from another prompt
    assert level["server_metrics"]["delta"]["llamacpp:prompt_tokens_total"] >= 6 * 300 - 6
    records = [json.loads(x) for x in (tmp_path / "concurrency-1.jsonl").read_text().splitlines()]
    ttft = sorted(r["first_token_s"] - r["send_s"] for r in records)
    assert ttft[0] > 0.5 * ttft[len(ttft) // 2]  # no prompt served from the cache
    assert all(r["finish_reason"] == "length" for r in records)


def test_a_shared_prefix_is_served_from_the_cache(server: str) -> None:
    result = invoke(
        "measure", "--url", server, "--model", "smollm2", "--concurrency", "1",
        "--requests", "5", "--input-tokens", "300", "--output-tokens", "4",
        "--shared-prefix-tokens", "250", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (level,) = json.loads(result.stdout)["levels"]
    assert level["workload"]["cache_hit_rate"] > 0.5  # all but the first reuse 250 of 300


def test_hundreds_of_short_requests_at_mixed_concurrency_see_no_errors(server: str) -> None:
    result = invoke(
        "measure", "--url", server, "--model", "smollm2", "--concurrency", "1,3,8",
        "--requests", "100", "--input-tokens", "8", "--output-tokens", "3", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["requests"], doc["errors"]) == (300, 0)
    # llama-server closes each connection after a streamed answer: seen once, then a fresh
    # connection per request, not a retry for every other one.
    assert sum(level["workload"]["retries"] for level in doc["levels"]) <= 3
    for level in doc["levels"]:
        delta = level["server_metrics"]["delta"]
        assert delta["llamacpp:tokens_predicted_total"] == level["output_tokens"] == 300


def test_conversations_are_served_from_the_cache_they_build(server: str) -> None:
    result = invoke(
        "measure", "--url", server, "--model", "smollm2", "--concurrency", "2",
        "--requests", "6", "--turns", "3", "--input-tokens", "100", "--output-tokens", "16",
        "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (level,) = json.loads(result.stdout)["levels"]
    assert level["errors"] == 0
    # Turns 2 and 3 resend 100–232 tokens the slot already holds.
    assert level["workload"]["cache_hit_rate"] > 0.3
    assert level["server_metrics"]["derived"]["cache_hit_rate"] > 0.3


def test_a_tokenizer_built_from_the_gguf_counts_as_the_server_does(
    server: str, tmp_path: Path
) -> None:
    """The peer benchmark's tokenizer (scripts/gguf_tokenizer.py), from the model file's own
    vocabulary: its counts equal the server's /tokenize, and measure given it as a file sends
    prompts the server counts at exactly the requested length."""
    tok, meta = gguf_tokenizer.build(llama_server.ensure_model())
    assert meta["vocab"] == 49152
    assert gguf_tokenizer.check(tok, server, gguf_tokenizer._sample_texts()) == 0
    gguf_tokenizer.save(tok, meta, tmp_path / "tok")
    result = invoke(
        "measure", "--url", server, "--model", "smollm2", "--concurrency", "2",
        "--requests", "6", "--input-tokens", "uniform:40:200", "--output-tokens", "4",
        "--tokenizer", str(tmp_path / "tok" / "tokenizer.json"), "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (level,) = json.loads(result.stdout)["levels"]
    work = level["workload"]
    assert work["length_sources"] == ["tokenizer"]
    assert work["prompts_at_requested_length"] == work["prompts_checked"] == 6
