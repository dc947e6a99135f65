"""`infercost measure` against the fake server: records, summary, cost, exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_server import ThreadedServer
from test_cli import assert_user_error, invoke


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with ThreadedServer() as base:
        yield base


def test_json_summary_records_and_cost(url: str, tmp_path: Path) -> None:
    result = invoke(
        "measure", "--url", url, "--model", "m", "--concurrency", "2", "--requests", "10",
        "--output-tokens", "8", "--price", "2.0", "--gpus", "2", "--out", str(tmp_path), "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (doc,) = json.loads(result.stdout)["levels"]
    for key in ("requests", "errors", "output_tokens", "throughput_output_tok_s",
                "usd_per_million_output_tokens"):  # fmt: skip
        assert key in doc
    for metric in ("ttft_s", "tpot_s"):
        assert {"p50", "p99", "mean"} <= set(doc[metric])
    assert (doc["requests"], doc["errors"], doc["output_tokens"]) == (10, 0, 80)
    hourly = 2.0 * 2
    expected = hourly / (doc["throughput_output_tok_s"] * 3600) * 1e6
    assert doc["usd_per_million_output_tokens"] == pytest.approx(expected)
    lines = (tmp_path / "concurrency-2.jsonl").read_text().splitlines()
    assert len(lines) == 10
    assert {json.loads(line)["index"] for line in lines} == set(range(10))
    assert json.loads((tmp_path / "summary.json").read_text())["levels"][0]["requests"] == 10
    assert doc["server_metrics"] == {"available": False}  # the fake server has no /metrics


def test_rate_levels_report_achieved_rate(url: str) -> None:
    result = invoke(
        "measure", "--url", url, "--model", "m", "--rate", "20,40", "--requests", "20",
        "--output-tokens", "4", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    levels = json.loads(result.stdout)["levels"]
    assert [lv["level"] for lv in levels] == ["rate-20", "rate-40"]
    for level in levels:
        assert level["load"]["target_rate_rps"] in (20.0, 40.0)
        assert level["load"]["lateness_p99_s"] < 0.05


def test_failing_server_exits_non_zero_with_the_causes_on_stderr(url: str) -> None:
    result = invoke(
        "measure", "--url", "http://127.0.0.1:9", "--model", "m", "--requests", "3", "--json",
        "--timeout", "2",
    )  # fmt: skip
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["errors"] == 3
    assert doc["error_causes"] == {"connect refused": 3}
    assert "3 errors of 3 requests: 3 × connect refused" in result.stderr


def test_bad_options_are_one_line(url: str) -> None:
    assert_user_error(invoke("measure", "--url", "localhost:80", "--model", "m"), "--url")
    assert_user_error(invoke("measure", "--url", url, "--model", "m", "--rate", "x"), "--rate")
    assert_user_error(invoke("measure", "--url", url, "--model", "m", "--extra", "{"), "--extra")


def test_sweep_runs_doubling_levels(url: str) -> None:
    result = invoke(
        "measure", "--url", url, "--model", "m", "--sweep", "--requests", "8",
        "--output-tokens", "4", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    levels = json.loads(result.stdout)["levels"]
    names = [lv["level"] for lv in levels]
    assert names[0] == "concurrency-1"
    assert all(n == f"concurrency-{2**i}" for i, n in enumerate(names))
    assert_user_error(
        invoke("measure", "--url", url, "--model", "m", "--sweep", "--rate", "1"), "--sweep"
    )


def test_trace_and_prompts_files(url: str, tmp_path: Path) -> None:
    trace = tmp_path / "trace.csv"
    trace.write_text("timestamp,input_tokens,output_tokens\n0,5,3\n0.1,6,4\n0.2,7,5\n")
    replay = invoke("measure", "--url", url, "--model", "m", "--trace", str(trace), "--json")
    assert replay.exit_code == 0, replay.output
    (doc,) = json.loads(replay.stdout)["levels"]
    assert (doc["level"], doc["requests"], doc["output_tokens"]) == ("trace-1", 3, 12)
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('{"prompt": "ok"}\n{"prompt": "http500"}\n')
    mixed = invoke(
        "measure", "--url", url, "--model", "m", "--prompts", str(prompts), "--requests", "4",
        "--json", "--max-error-rate", "0.6",
    )  # fmt: skip
    assert mixed.exit_code == 0, mixed.output
    assert json.loads(mixed.stdout)["errors"] == 2  # the fake server fails every "http500"
    assert "2 errors of 4 requests: 2 × http 500" in mixed.stderr
    assert_user_error(
        invoke("measure", "--url", url, "--model", "m", "--trace", str(trace), "--rate", "1"),
        "--trace",
    )


def test_a_misbehaving_server_costs_requests_never_the_run(tmp_path: Path) -> None:
    """Non-UTF-8 /metrics, an event line of 600 KB, a web page, bytes that are not text:
    each request that met one is recorded with its cause, the others are measured."""
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("ok\nhuge\nhtml\ngarbage\n")
    with ThreadedServer(metrics=b"vllm:num_requests_running 1\n\xff\xfe bad bytes\n") as url:
        result = invoke(
            "measure", "--url", url, "--model", "m", "--prompts", str(prompts),
            "--requests", "8", "--concurrency", "2", "--output-tokens", "4",
            "--max-error-rate", "0.6", "--out", str(tmp_path / "run"), "--json",
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    (level,) = doc["levels"]
    assert level["requests"] == 8
    assert level["completed"] == 4  # "ok" and "huge", twice each
    assert doc["error_causes"] == {"stream dropped": 2, "malformed stream": 2}
    assert level["server_metrics"]["available"] is True
    lines = (tmp_path / "run" / "concurrency-2.jsonl").read_text().splitlines()
    assert len(lines) == 8
    for line in lines:  # strict JSON: times never reached are null, not NaN
        record = json.loads(line, parse_constant=lambda name: pytest.fail(f"{name} in JSON"))
        assert record["first_token_s"] is None or record["first_token_s"] > 0


def test_a_silent_server_times_out_as_configured(url: str, tmp_path: Path) -> None:
    prompts = tmp_path / "stall.txt"
    prompts.write_text("stall\n")
    result = invoke(
        "measure", "--url", url, "--model", "m", "--prompts", str(prompts), "--requests", "2",
        "--timeout", "0.5", "--json",
    )  # fmt: skip
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error_causes"] == {"timeout": 2}
    assert "2 × timeout" in result.stderr
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert_user_error(
        invoke("measure", "--url", url, "--model", "m", "--prompts", str(empty)), "no prompts"
    )


def test_output_folder_is_checked_before_the_run(url: str, tmp_path: Path) -> None:
    taken = tmp_path / "file"
    taken.write_text("")
    assert_user_error(
        invoke("measure", "--url", url, "--model", "m", "--out", str(taken)), "--out", "file"
    )
    done = tmp_path / "done"
    done.mkdir()
    (done / "summary.json").write_text("{}")
    assert_user_error(
        invoke("measure", "--url", url, "--model", "m", "--out", str(done)), "--out", "already"
    )


@pytest.mark.parametrize(
    ("flag", "value", "needle"),
    [
        ("--price", "nan", "finite"),
        ("--price", "-1", "greater than 0"),
        ("--input-tokens", "-5", "must be in [1"),
        ("--catalog-model", "llama-9", "--catalog-model"),
        ("--engine", "foo", "unknown engine"),
        ("--precision", "fp7", "unknown precision"),
        ("--timeout", "inf", "finite"),
        ("--seed", "-1", "greater than or equal to 0"),
    ],
)
def test_bad_values_are_refused_before_anything_is_sent(
    url: str, flag: str, value: str, needle: str
) -> None:
    assert_user_error(invoke("measure", "--url", url, "--model", "m", flag, value), flag, needle)


def test_levels_are_written_as_structured_rows_that_validate_reads(
    url: str, tmp_path: Path
) -> None:
    out = tmp_path / "run-a"
    result = invoke(
        "measure", "--url", url, "--model", "m", "--concurrency", "1,2", "--rate", "20",
        "--requests", "6", "--output-tokens", "8", "--gpu", "h100",
        "--catalog-model", "llama-3.1-8b", "--engine", "vllm", "--out", str(out), "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    written = out / "measurements.jsonl"
    assert json.loads(result.stdout)["measurements"] == str(written)
    rows = [json.loads(line) for line in written.read_text().splitlines()]
    by = {(r["load_mode"], r.get("batch"), r.get("request_rate_per_s"), r["metric"],
           r.get("statistic", "mean")): r for r in rows}  # fmt: skip
    summary = json.loads((out / "summary.json").read_text())["levels"]
    one = by[("concurrency", 1.0, None, "output_tok_s", "mean")]
    assert one["value"] == summary[0]["throughput_output_tok_s"]
    assert by[("concurrency", 2.0, None, "ttft_s", "p50")]["value"] == summary[1]["ttft_s"]["p50"]
    assert by[("request_rate", None, 20.0, "tpot_s", "p99")]["value"] == summary[2]["tpot_s"]["p99"]
    assert (one["engine"], one["gpu"], one["model"], one["output_tokens"]) == (
        "vllm", "h100", "llama-3.1-8b", 8.0,
    )  # fmt: skip
    assert one["num_requests"] == 6
    assert {r["id"].rsplit("-", 1)[0] for r in rows} == {"MEASURE-RUN-A"}  # one source
    checked = invoke("validate", "--data", str(written), "--no-calibration", "--json")
    assert checked.exit_code == 0, checked.output
    doc = json.loads(checked.stdout)
    assert doc["total"] == len(rows)
    assert doc["mapped"] == len([r for r in rows if r["metric"] != "e2e_s"])  # no E2E model
    assert {u["id"] for u in doc["unmapped"]} == {r["id"] for r in rows if r["metric"] == "e2e_s"}


def test_without_an_accelerator_no_structured_rows_are_written(url: str, tmp_path: Path) -> None:
    result = invoke(
        "measure", "--url", url, "--model", "m", "--requests", "3", "--output-tokens", "4",
        "--out", str(tmp_path / "run"), "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["measurements"] is None
    assert not (tmp_path / "run" / "measurements.jsonl").exists()
