"""`infercost plan`: the JSON other tools read, files it writes, infeasible targets (exit 2
with the closest candidates) and bad input (one line, exit 2), and a plan's answer
re-simulated by hand from its JSON."""

from __future__ import annotations

import csv
import itertools
import json
from functools import cache
from pathlib import Path

import pytest
from scenario_files import own_scenario, write
from test_cli import assert_user_error, invoke

SMALL = ("-m", "llama-3.1-8b", "--qps", "30", "--input-tokens", "1000", "--output-tokens",
         "200", "--slo", "ttft_p99=1s,tpot_p99=40ms", "--gpu", "h100,a100-80gb",
         "--max-gpus-per-replica", "2", "--requests", "4000", "--verify", "4",
         "--no-disaggregated")  # fmt: skip
CANDIDATE_KEYS = {
    "gpu", "tp", "pp", "ep", "dp_attention", "weight_precision", "kv_precision", "max_seqs",
    "replicas", "gpus", "usd_per_month", "usd_per_million_output_tokens", "binding_limit",
    "simulated",
}  # fmt: skip


@cache
def small_json() -> dict:
    result = invoke("plan", *SMALL, "--compare-api", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_json_has_the_documented_fields() -> None:
    doc = small_json()
    assert doc["feasible"] is True
    assert doc["best"] == doc["candidates"][0]
    for c in doc["candidates"]:
        assert c.keys() >= CANDIDATE_KEYS
    verified = [c for c in doc["candidates"] if c["verified"]]
    assert len(verified) == 4
    for c in verified:
        for metric in ("ttft_s", "tpot_s"):
            assert set(c["simulated"][metric]) >= {"p50", "p90", "p99", "mean"}
    best = doc["best"]
    assert best["simulated"]["met"]
    assert best["meets_targets"]
    assert best["gpus"] == best["replicas"] * best["gpus_per_replica"]
    assert doc["frontier"]
    assert {
        "output_tokens_per_s_per_gpu",
        "interactivity_tokens_per_s",
        "usd_per_million_output_tokens",
    } <= doc["frontier"][0].keys()
    api = doc["api"]
    assert api["options"]
    assert all(o["model"] == "llama-3.1-8b" for o in api["options"])
    assert [o["usd_per_month"] for o in api["options"]] == sorted(
        o["usd_per_month"] for o in api["options"]
    )


def test_the_answer_re_simulated_by_hand_from_its_json_meets_the_targets() -> None:
    b = small_json()["best"]
    result = invoke(
        "simulate", "-m", b["model"], "-g", b["gpu"], "--tp", str(b["tp"]), "--pp", str(b["pp"]),
        "--ep", str(b["ep"]), "--dp-attention", str(b["dp_attention"]),
        "--precision", b["weight_precision"], "--kv-precision", b["kv_precision"],
        "--max-seqs", str(b["max_seqs"]), "--replicas", str(b["replicas"]), "--rate", "30",
        "--requests", "20000", "--input-tokens", "1000", "--output-tokens", "200",
        "--seed", "99", "--slo", "ttft_p99=1s,tpot_p99=40ms", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    slo = json.loads(result.stdout)["slo"]
    assert slo["ttft_p99"]["met"], slo
    assert slo["tpot_p99"]["met"], slo


def test_frontier_csv_and_a_self_contained_plot(tmp_path: Path) -> None:
    frontier, plot = tmp_path / "front.csv", tmp_path / "front.html"
    result = invoke("plan", *SMALL, "--verify", "1", "--frontier", str(frontier),
                    "--plot", str(plot))  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(frontier.open(encoding="utf-8")))
    assert {r["gpu"] for r in rows} == {"h100-sxm", "a100-80gb"}
    for gpu in ("h100-sxm", "a100-80gb"):  # a frontier: faster per user, less per GPU
        line = sorted(
            (float(r["interactivity_tokens_per_s"]), float(r["output_tokens_per_s_per_gpu"]))
            for r in rows
            if r["gpu"] == gpu
        )
        assert all(a[1] >= b[1] for a, b in itertools.pairwise(line))
    html = plot.read_text(encoding="utf-8")
    assert "planned fleet" in html
    assert "Plotly" in html
    assert "<script src=" not in html  # plotly.js is inside the page: nothing to fetch


def test_infeasible_targets_exit_2_with_the_closest_candidates() -> None:
    args = ("-m", "llama-3.1-70b", "--qps", "5", "--slo", "tpot_p99=5ms", "--gpu",
            "h100,h200,b200", "--max-gpus-per-replica", "8")  # fmt: skip
    result = invoke("plan", *args, "--json")
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert doc["feasible"] is False
    assert doc["best"] is None
    assert doc["closest"]
    for c in doc["closest"]:  # a decode step's floor: weight reads, or the step's overhead
        assert c["binding_limit"] in ("decode bandwidth", "step overhead")
        assert "tpot_p99 is at least" in c["misses"][0]
        assert "over 5.0 ms" in c["misses"][0]
        assert "one decode step" in c["misses"][0]
    assert "decode bandwidth" in {c["binding_limit"] for c in doc["closest"]}
    text = invoke("plan", *args)
    assert text.exit_code == 2
    assert "No configuration meets the targets" in text.stdout
    assert "decode bandwidth" in text.stdout


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("--slo", "ttft_p99=-2s"), ("--slo", "must be > 0")),
        (("--slo", "ttft_p100=2s"), ("--slo", "(0, 100)")),
        (("--slo", "tpot_p99=fast"), ("--slo", "cannot read")),
        (("--gpu", "h1000"), ("--gpu", "h100")),
        (("--gpu", "l40s"), ("--gpu", "cannot be priced")),
        (("--gpu", "h100", "--gpus-per-replica", "3"), ("--gpus-per-replica", "exactly 3")),
        (("--gpus-per-replica", "8", "--max-gpus-per-replica", "4"), ("--max-gpus-per-replica",)),
        (("--kv-precision", "fp7"), ("--kv-precision", "fp8")),
        (("--price", "h1000=3"), ("--price", "h100")),
        (("--price", "h100=nan"), ("--price", "finite")),
        (("--price", "h100=2,h100-sxm=3"), ("--price", "twice")),
        (("--own", "--owner-profile", "nobody"), ("--owner-profile",)),
        (("--qps", "1e9", "--peak-to-average", "1000"), ("--peak-to-average",)),
        (("--output-tokens", ""), ("--output-tokens", "empty")),
        (("--gpu", ""), ("--gpu", "empty")),
        (("-m", "[/]"), ("--model",)),
        (("--max-candidates", "100"), ("--max-candidates", "over the bound")),
        (("--verify", "1000"), ("--verify",)),
        (("--burstiness", "3"), ("--burstiness", "gamma")),
        (("--queries-per-day", "1000"), ("--queries-per-day", "exactly one")),
        (("--price", "h100=abc"), ("--price", "cannot read")),
        (("--own", "--price", "2"), ("--price", "owning")),
        (("--goodput", "1.5"), ("--goodput",)),
        (("--objective", "speed"), ("--objective",)),
        (("--frontier", "/no/such/dir/f.csv"), ("--frontier", "no such folder")),
        (("--plot", "out.png"), ("--plot", ".html")),
    ],
)
def test_bad_input_is_one_line_naming_the_option(args: tuple[str, ...], needles: tuple) -> None:
    base = ["-m", "llama-3.1-8b", "--qps", "10", "--slo", "ttft_p99=2s", "--verify", "0"]
    assert_user_error(invoke("plan", *base, *args), *needles)


def test_a_model_that_fits_nowhere_allowed_is_infeasible_with_the_reason() -> None:
    result = invoke("plan", "-m", "llama-3.1-405b", "--qps", "1", "--slo", "ttft_p99=10s",
                    "--gpu", "l4", "--price", "l4=0.8", "--max-gpus-per-replica", "8",
                    "--json")  # fmt: skip
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert doc["closest"]
    assert all(c["binding_limit"] == "weights memory" for c in doc["closest"])


def test_a_scenario_asks_its_question_and_flags_override_it() -> None:
    result = invoke("plan", "chatgpt-2023", "--server", "hgx-a100-80gb", "--verify", "1",
                    "--no-disaggregated",
                    "--slo", "ttft_p99=5s,tpot_p99=60ms", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["question"]["models"] == ["gpt3-175b"]
    assert doc["question"]["queries_per_day"] == pytest.approx(13e6 * 15)
    assert {t["threshold_s"] for t in doc["question"]["targets"]["slo"]} == {5.0, 0.06}
    assert doc["best"]["server"] == "hgx-a100-80gb"


def test_a_scenario_file_can_carry_the_question_in_a_plan_block(tmp_path: Path) -> None:
    block = {"slo": "ttft_p99=2s,tpot_p99=60ms", "gpus": ["h100"], "verify": 1}
    path = write(tmp_path, own_scenario(plan=block))
    result = invoke("plan", path, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["best"]["gpu"] == "h100-sxm"
    assert doc["question"]["verify"] == 1


def test_the_text_answer_fits_80_columns() -> None:
    result = invoke("plan", *SMALL, "--compare-api")
    assert result.exit_code == 0, result.output
    assert "Best:" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80


def test_user_text_in_an_error_is_printed_as_typed() -> None:
    err = assert_user_error(
        invoke("plan", "-m", "[red]x:thumbs_up:", "--qps", "1", "--slo", "ttft_p99=1s"),
        "--model",
    )
    assert "'[red]x:thumbs_up:'" in err


def test_a_trace_too_short_for_a_percentile_is_refused(tmp_path: Path) -> None:
    trace = tmp_path / "t.csv"
    trace.write_text("timestamp,input_tokens,output_tokens\n0,10,10\n1,10,10\n")
    assert_user_error(
        invoke("plan", "-m", "llama-3.1-8b", "--trace", str(trace), "--slo", "ttft_p99=1s"),
        "--trace",
        "at least 1,000",
    )


def test_a_scenario_speed_target_and_set_reach_the_plan() -> None:
    result = invoke("plan", "deepseek-2025", "--set", "plan.verify=0", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["question"]["verify"] == 0
    slo = doc["question"]["targets"]["slo"]
    assert [(t["metric"], t["percentile"]) for t in slo] == [("tpot", 50.0)]
    assert slo[0]["threshold_s"] == pytest.approx(1 / 21)  # 21 tokens/s per user


def test_requests_past_the_context_window_are_noted() -> None:
    result = invoke("plan", "chatgpt-2023", "--verify", "0", "--json")
    assert result.exit_code == 0, result.output
    warnings = json.loads(result.stdout)["warnings"]
    assert any("context window is 2,048 tokens" in w for w in warnings)


def test_a_tiny_rate_needs_one_replica() -> None:
    result = invoke("plan", "-m", "llama-3.1-8b", "--qps", "1e-6", "--slo", "ttft_p99=2s",
                    "--gpu", "h100", "--verify", "1", "--requests", "2000", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["best"]["replicas"] == 1
