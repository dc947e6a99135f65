"""What a new user meets: the version, the verbs, labels, 80 columns, a catalog of their
own, fleets from flags, several accelerators side by side, simulate honouring its flags."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from scenario_files import own_scenario, write
from test_cli import ROOT, assert_user_error, invoke, script

VERBS = ("estimate", "plan", "reproduce", "simulate", "measure", "calibrate", "validate",
         "catalog", "scenarios")  # fmt: skip


def test_version_and_the_verbs_in_the_help() -> None:
    proc = script("--version")
    assert proc.returncode == 0
    assert proc.stdout.startswith("infercost ")
    helped = script("--help")
    for verb in VERBS:
        assert verb in helped.stdout
    bare = script()
    assert bare.returncode == 0
    assert "estimate" in bare.stdout


def test_a_usage_error_is_one_line() -> None:
    proc = script("simulate", "-m", "llama-3.1-8b", "-g", "h100", "--requests", "many")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "--requests" in proc.stderr
    unknown = script("estimate", "-m", "x", "-g", "y", "--colour", "red")
    assert unknown.returncode == 2
    assert "--colour" in unknown.stderr


def test_tables_fit_80_columns_and_never_cut_an_id() -> None:
    from rich.console import Console

    from infercost.api import catalog_rows
    from infercost.cli.render import print_catalog

    console = Console(width=80, record=True)
    print_catalog(console, "gpus", catalog_rows(table="gpus"))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    for row in catalog_rows(table="gpus"):
        assert row["id"] in text  # whole, on one line
    assert "…" not in text


def test_estimate_sizes_a_fleet_from_flags_and_compares_accelerators() -> None:
    result = invoke("estimate", "-m", "llama-3.1-70b", "-g", "h100,h200", "--precision", "fp8",
                    "--tp", "2", "--qps", "10", "--peak-to-average", "2", "--utilisation",
                    "0.7", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["estimates"]
    assert [r["deployment"]["gpu"] for r in rows] == ["h100-sxm", "h200"]
    for row in rows:
        fleet = row["fleet"]
        needed = 10 * 2 / 0.7 / row["replica"]["requests_per_s"]
        assert fleet["replicas"] == -(-needed // 1)  # the peak at 70 % utilisation, rounded up
        assert row["fleet_cost"]["usd_per_day"] == fleet["gpus"] * 24 * row["usd_per_gpu_hour"]
    per_day = invoke("estimate", "-m", "llama-3.1-70b", "-g", "h100", "--precision", "fp8",
                     "--tp", "2", "--queries-per-day", "864000", "--json")  # fmt: skip
    by_qps = invoke("estimate", "-m", "llama-3.1-70b", "-g", "h100", "--precision", "fp8",
                    "--tp", "2", "--qps", "10", "--json")  # fmt: skip
    one = json.loads(per_day.stdout)["estimates"][0]["fleet"]
    assert one == json.loads(by_qps.stdout)["estimates"][0]["fleet"]
    assert_user_error(invoke("estimate", "-m", "llama-3.1-8b", "-g", "h100",
                             "--peak-to-average", "2"), "--peak-to-average", "qps")  # fmt: skip
    table = invoke("estimate", "-m", "llama-3.1-70b", "-g", "h100,h200", "--precision", "fp8",
                   "--tp", "2")  # fmt: skip
    assert "h100-sxm" in table.stdout
    assert "h200" in table.stdout


def test_a_comparison_lists_what_does_not_fit_and_prices_only_what_does() -> None:
    result = invoke("estimate", "-m", "llama-3.1-70b", "-g", "h100,h200", "--precision", "fp8",
                    "--json")  # fmt: skip
    doc = json.loads(result.stdout)
    assert [e["deployment"]["gpu"] for e in doc["estimates"]] == ["h200"]
    (refused,) = doc["refused"]
    assert (refused["gpu"], refused["binding"]) == ("h100-sxm", "weights")


def test_a_users_own_catalog_and_an_imported_model(tmp_path: Path) -> None:
    mine = tmp_path / "catalog"
    mine.mkdir()
    row = {
        "id": "acme-x1", "name": "ACME X1", "vendor": "acme", "kind": "gpu", "memory_gb": 96,
        "memory_bandwidth_gb_per_s": 4000, "dense_tflops": {"bf16": 800, "fp8": 1600},
        "power_w": 700, "price_usd": 20000, "source": "https://acme.example/x1",
        "as_of": "2026-11",
    }  # fmt: skip
    (mine / "gpus.yaml").write_text(yaml.safe_dump({"rows": [row]}))
    config = ROOT / "tests" / "fixtures" / "hf" / "llama-3.1-8b" / "config.json"
    imported = invoke("--catalog", str(mine), "catalog", "import-model", str(config), "--id",
                      "my-llama", "--into", str(mine))  # fmt: skip
    assert imported.exit_code == 0, imported.output
    assert (mine / "models.yaml").is_file()
    used = invoke("--catalog", str(mine), "estimate", "-m", "my-llama", "-g", "acme-x1",
                  "--price", "2", "--json")  # fmt: skip
    assert used.exit_code == 0, used.output
    (e,) = json.loads(used.stdout)["estimates"]
    assert (e["deployment"]["model"], e["deployment"]["gpu"]) == ("my-llama", "acme-x1")
    again = invoke("--catalog", str(mine), "catalog", "import-model", str(config), "--id",
                   "my-llama", "--into", str(mine))  # fmt: skip
    assert_user_error(again, "--id", "already")
    env = script("estimate", "-m", "my-llama", "-g", "acme-x1", "--price", "2", "--json",
                 env={"INFERCOST_CATALOG": str(mine)})  # fmt: skip
    assert env.returncode == 0, env.stderr


def test_a_bad_row_in_a_users_catalog_is_named(tmp_path: Path) -> None:
    (tmp_path / "gpus.yaml").write_text("rows:\n  - {id: broken, name: x}\n")
    result = invoke("--catalog", str(tmp_path), "estimate", "-m", "llama-3.1-8b", "-g", "h100")
    assert result.exit_code == 2
    assert "broken" in result.stderr


def test_simulating_a_scenario_honours_its_flags() -> None:
    base = ("simulate", "chatgpt-2023", "--requests", "2000", "--json")
    plain = json.loads(invoke(*base).stdout)
    flagged = invoke(*base, "--replicas", "3", "--router", "round-robin", "--max-seqs", "64",
                     "--no-calibration", "--engine", "vllm")  # fmt: skip
    assert flagged.exit_code == 0, flagged.output
    doc = json.loads(flagged.stdout)
    assert doc["fleet"]["replicas_simulated"] == 3
    assert doc["fleet"]["router"] == "round-robin"
    assert doc["fleet"]["max_seqs"] == 64
    assert doc["deployment"]["engine"] == "vllm"
    assert doc["offered_rate_rps"] != plain["offered_rate_rps"]
    fp8 = json.loads(invoke(*base, "--precision", "fp8").stdout)
    assert fp8["deployment"]["weight_precision"] == "fp8"
    assert_user_error(invoke(*base, "--rate", "5"), "--rate", "scenario")
    assert_user_error(invoke(*base, "--gpu", "h100"), "--gpu")


def test_a_scenario_may_state_queries_per_day(tmp_path: Path) -> None:
    doc = own_scenario()
    workload = doc["inputs"]["workload"]
    workload["queries_per_day"] = workload.pop("queries_per_second") * 86_400
    doc["provenance"]["workload.queries_per_day"] = doc["provenance"].pop(
        "workload.queries_per_second"
    )
    by_day = json.loads(invoke("reproduce", write(tmp_path, doc), "--json").stdout)
    by_second = json.loads(invoke("reproduce", write(tmp_path, own_scenario(), "s.yaml"),
                                  "--json").stdout)  # fmt: skip
    assert by_day["computed"]["gpus"] == by_second["computed"]["gpus"]
