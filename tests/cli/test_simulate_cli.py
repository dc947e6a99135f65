"""`infercost simulate`: flags, scenarios, SLOs, records and errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from test_cli import assert_user_error, invoke

BASE = ("simulate", "-m", "llama-3.1-8b", "-g", "h100", "--rate", "5", "--requests", "500")


def test_json_has_the_documented_keys() -> None:
    result = invoke(*BASE, "--json", "--slo", "ttft_p99=2s,tpot_p99=100ms")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    for key in ("requests", "duration_s", "throughput_output_tok_s", "goodput_rps",
                "mean_concurrency"):  # fmt: skip
        assert key in doc
    for metric in ("ttft_s", "tpot_s", "e2e_s"):
        assert {"p50", "p90", "p99", "mean"} <= set(doc[metric])
    assert doc["requests"] == 500
    assert set(doc["slo"]) == {"ttft_p99", "tpot_p99"}
    assert doc["goodput_rps"] <= doc["throughput_requests_per_s"]


def test_table_output_and_records(tmp_path: Path) -> None:
    out = tmp_path / "records.csv"
    result = invoke(
        *BASE, "--records", str(out), "--replicas", "2", "--router", "least-outstanding"
    )
    assert result.exit_code == 0, result.output
    assert "time to first token" in result.output
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 500
    assert {"arrival_s", "first_token_s", "finish_s", "input_tokens", "output_tokens"} <= set(
        rows[0]
    )
    assert {row["replica"] for row in rows} == {"0", "1"}


def test_trace_replay(tmp_path: Path) -> None:
    trace = tmp_path / "trace.csv"
    trace.write_text("timestamp,input_tokens,output_tokens\n" + "".join(
        f"{i * 0.1},{100 + i},{20}\n" for i in range(50)
    ))  # fmt: skip
    result = invoke("simulate", "-m", "llama-3.1-8b", "-g", "h100", "--trace", str(trace), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["requests"] == 50
    assert doc["throughput_output_tok_s"] > 0


def test_scenario_is_simulated_through_a_subset_at_peak_load() -> None:
    result = invoke("simulate", "chatgpt-2023", "--requests", "3000", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["fleet"]["replicas_simulated"] == 8
    assert doc["fleet"]["replicas_in_fleet"] > 3000
    assert doc["fleet"]["max_seqs"] == 132
    assert set(doc["slo"]) == {"ttft_p99", "tpot_p99"}  # the scenario's own targets
    assert all("met" in entry for entry in doc["slo"].values())


def test_unreadable_scenario_slo_is_named(tmp_path: Path) -> None:
    from scenario_files import own_scenario, write

    doc = own_scenario()
    doc["inputs"]["serving"] = {"slo": "fast please"}
    doc["provenance"]["serving.slo"] = {"basis": "stated", "source": "design-doc"}
    assert_user_error(invoke("simulate", write(tmp_path, doc), "--requests", "10"), "slo")


def test_bad_input_is_one_line() -> None:
    assert_user_error(invoke("simulate", "--rate", "5"), "--model")
    assert_user_error(invoke(*BASE, "--slo", "ttft=fast"), "slo")
    assert_user_error(invoke(*BASE, "--router", "random"), "router")
    assert_user_error(invoke(*BASE, "--records", "x.txt"), "records")
    assert_user_error(
        invoke("simulate", "-m", "llama-3.1-8b", "-g", "h100", "--requests", "10"), "rate"
    )


def test_parquet_records_round_trip(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    out = tmp_path / "records.parquet"
    result = invoke(*BASE, "--records", str(out))
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.num_rows == 500
    assert "first_token_s" in table.column_names


def test_a_disaggregated_scenario_simulates_both_pools(tmp_path: Path) -> None:
    out = tmp_path / "records.csv"
    result = invoke("simulate", "deepseek-2025", "--requests", "3000", "--records", str(out),
                    "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    pools = doc["pools"]
    assert pools["prefill"]["gpu"] == pools["decode"]["gpu"] == "h800"
    assert (pools["prefill"]["gpus_per_replica"], pools["decode"]["gpus_per_replica"]) == (32, 144)
    # Each pool sized by the pipeline for the day's tokens, rounded up to whole replicas.
    assert pools["prefill"]["replicas"] >= 1
    assert pools["decode"]["replicas"] >= 1
    for pool in ("prefill", "decode"):
        assert 0 < pools[pool]["busy_fraction"] <= 1
    assert pools["prefill"]["ttft_s"]["p50"] > 0
    assert pools["decode"]["tpot_s"]["p50"] > 0
    # A user's TTFT holds the prefill and the KV transfer; its TPOT is the decode pool's.
    assert doc["ttft_s"]["p50"] > pools["prefill"]["ttft_s"]["p50"]
    assert doc["kv_transfer_s"]["p50"] > 0
    assert doc["tpot_s"]["p50"] == pools["decode"]["tpot_s"]["p50"]
    assert doc["warnings"]  # 3,000 requests cannot fill a decode pool of 1,211-token answers
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == doc["requests"]
    assert {int(r["prefill_replica"]) for r in rows} <= set(
        range(pools["prefill"]["replicas_simulated"])
    )
    assert {int(r["replica"]) for r in rows} <= set(range(pools["decode"]["replicas_simulated"]))


def test_a_disaggregated_scenarios_pools_can_be_resized_and_its_table_printed() -> None:
    result = invoke("simulate", "deepseek-2025", "--requests", "2000", "--prefill-replicas",
                    "20", "--replicas", "6")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "prefill" in result.stdout
    assert "decode" in result.stdout
    assert "KV transfer" in result.stdout


def test_pool_options_are_refused_where_they_do_not_apply() -> None:
    assert_user_error(invoke("simulate", "deepseek-2025", "--max-seqs", "64"), "--max-seqs")
    assert_user_error(invoke("simulate", "chatgpt-2023", "--prefill-replicas", "3"),
                      "--prefill-replicas")  # fmt: skip
    assert_user_error(invoke(*BASE, "--prefill-replicas", "3"), "--prefill-replicas")


@pytest.mark.parametrize(("prefill", "grows"), [(8, True), (14, False)])
def test_a_prefill_pool_past_its_capacity_is_said_to_be(prefill: int, grows: bool) -> None:
    """DeepSeek's prefill pool needs 11 replicas of 4 nodes for the day's mean; 8 cannot keep
    up (its TTFT grows all run), 14 can."""
    result = invoke("simulate", "deepseek-2025", "--requests", "20000", "--prefill-replicas",
                    str(prefill), "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    warnings = json.loads(result.stdout)["warnings"]
    assert any("prefill pool's queue grows" in w for w in warnings) is grows


def test_speculative_decoding_the_simulator_does_not_model_is_said() -> None:
    """deepseek-2025 states MTP; the simulator decodes one token a step and says so."""
    doc = json.loads(invoke("simulate", "deepseek-2025", "--requests", "2000", "--json").stdout)
    assert any("speculates (mtp" in w for w in doc["warnings"])
    plain = json.loads(invoke("simulate", "chatgpt-2023", "--requests", "2000", "--json").stdout)
    assert not any("speculates" in w for w in plain.get("warnings", []))
