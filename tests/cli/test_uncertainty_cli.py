"""`infercost reproduce SCENARIO --samples N [--seed S] --json`: the interface other checks
rely on, its text output in 80 columns, and one-line errors with exit status 2."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from infercost.cli.main import app
from infercost.limits import MAX_SAMPLES

SCRIPT = Path(sys.executable).parent / "infercost"


def invoke(*args: str, width: int = 80) -> Result:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": str(width)})


def stderr_of(result: Result) -> str:
    try:
        return result.stderr
    except ValueError:
        return result.output


@pytest.fixture(scope="module")
def sampled() -> dict:
    result = invoke("reproduce", "chatgpt-2023", "--samples", "2000", "--seed", "3", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_json_interface(sampled: dict) -> None:
    point = json.loads(invoke("reproduce", "chatgpt-2023", "--json").stdout)
    assert sampled["computed"] == point["computed"]  # `computed` keeps the point estimate
    figures = {k for k, v in point["computed"].items() if isinstance(v, int | float)}
    assert set(sampled["quantiles"]) == figures
    for q in sampled["quantiles"].values():
        assert set(q) == {"p10", "p50", "p90"}
        assert q["p10"] <= q["p50"] <= q["p90"]
    rows = sampled["tornado"]
    assert {r["input"] for r in rows} == set(sampled["uncertainty"]["inputs"])
    for row in rows:
        assert {"input", "low", "high", "swing"} <= set(row)
        assert row["swing"] == abs(row["high"] - row["low"])
    swings = [r["swing"] for r in rows]
    assert swings == sorted(swings, reverse=True)
    u = sampled["uncertainty"]
    assert (u["samples"], u["seed"], u["headline"]) == (2000, 3, "usd_per_day")


def test_the_same_seed_gives_the_same_answer_and_another_seed_another(sampled: dict) -> None:
    again = invoke("reproduce", "chatgpt-2023", "--samples", "2000", "--seed", "3", "--json")
    assert json.loads(again.stdout) == sampled
    other = invoke("reproduce", "chatgpt-2023", "--samples", "2000", "--seed", "4", "--json")
    assert json.loads(other.stdout)["quantiles"] != sampled["quantiles"]


def test_the_text_output_fits_80_columns() -> None:
    result = invoke("reproduce", "chatgpt-2023", "--samples", "1000")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "Quantiles" in text
    assert "Tornado: $ per day" in text
    assert "cost.usd_per_gpu_hour" in text
    assert max(len(line) for line in text.splitlines()) <= 80


BAD = [
    (["--samples", "0"], "--samples: input should be greater than or equal to 1"),
    (["--samples", str(MAX_SAMPLES + 1)], f"less than or equal to {MAX_SAMPLES}"),
    (["--range", "workload.output_tokens=1:2"], "--range: applies to a Monte Carlo"),
    (["--headline", "gpus"], "--headline: applies to a Monte Carlo"),
    (["--samples", "10", "--range", "workload.output_tokens=3:2"], "low (3) must be ≤ high"),
    (["--samples", "10", "--range", "workload.output_tokens=3"], "give LOW:HIGH"),
    (["--samples", "10", "--range", "workload.output_tokens=a:b"], "'a' is not a number"),
    (["--samples", "10", "--range", "workload.output_tokens"], "expected PATH=LOW:HIGH"),
    (["--samples", "10", "--range", "workload.tokens=1:2"], "unknown field 'tokens'"),
    (["--samples", "10", "--range", "hardware.gpu=1:2"], "is not a number"),
    (["--samples", "10", "--range", "workload.target_utilisation=0.5:1.5"], "≤ 1, got 1.5"),
    (["--samples", "10", "--range", "workload.target_utilisation=lognormal:0.5:0.9"],
     "a lognormal with median 0.5"),
    (["--samples", "10", "--range", "workload.queries_per_second=1:2"], "leaves this input unset"),
    (["--samples", "10", "--headline", "decode_bound"], "--headline: 'decode_bound' is not a"),
    (["--samples", "100", "--range", "serving.concurrency=140:300"], "samples)"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "needle"), BAD)
def test_bad_input_is_one_line_and_exit_2(args: list[str], needle: str) -> None:
    result = invoke("reproduce", "chatgpt-2023", *args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    err = stderr_of(result).strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error:")
    assert needle in err, err


def test_the_installed_command_exits_2_on_a_bad_sample_count() -> None:
    run = subprocess.run(
        [str(SCRIPT), "reproduce", "chatgpt-2023", "--samples", "-5"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.strip().startswith("error: --samples")


PLAN = ["plan", "chatgpt-2023", "--no-disaggregated", "--verify", "0"]


def test_plan_samples_in_80_columns_and_json() -> None:
    pins = ["--set", "workload.output_tokens=2000", "--set", "workload.target_utilisation=0.5"]
    result = invoke(*PLAN, *pins, "--samples", "20")
    assert result.exit_code == 0, result.output
    assert "Monte Carlo: 20 samples" in result.stdout
    assert "Not sampled: serving.concurrency" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    doc = json.loads(invoke(*PLAN, *pins, "--samples", "20", "--json").stdout)
    assert doc["uncertainty"]["headline"] == "usd_per_month"
    assert set(doc["quantiles"]["usd_per_month"]) == {"p10", "p50", "p90"}
    assert [r["input"] for r in doc["tornado"]] == [
        "cost.usd_per_gpu_hour",
        "workload.queries_per_user_per_day",
    ]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--samples", "5", "--range", "serving.concurrency=100:140"], "a plan cannot sample"),
        (["--samples", "0"], "--samples: input should be greater than or equal to 1"),
        (["--samples", "5", "--qps", "100"], "--qps replaces it"),
    ],
)
def test_plan_samples_bad_input_is_one_line(args: list[str], needle: str) -> None:
    result = invoke(*PLAN, *args)
    assert result.exit_code == 2, result.output
    err = stderr_of(result).strip()
    assert len(err.splitlines()) == 1, err
    assert needle in err, err
