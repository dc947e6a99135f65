"""The seed story on Google's and Microsoft's own chips: search-2023's TPU variants, bard-2023
and what its "up to $3 billion" implies, and the README's computed table."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path
from typing import Any

import pytest
import yaml

import infercost
from infercost.errors import InputError
from infercost.perf.deployment import build
from infercost.perf.memory import memory_plan
from infercost.scenario.loader import DATA_DIR, load

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def search() -> dict[str, Any]:
    return infercost.reproduce(scenario="search-2023").to_dict()


@pytest.fixture(scope="module")
def bard() -> dict[str, Any]:
    return infercost.reproduce(scenario="bard-2023").to_dict()


def test_gpt3_in_int8_on_two_tpu_v4_hosts_by_hand() -> None:
    # tp 16 over four 4-chip v4 hosts. GPT-3 175B has ~174.6 B parameters, int8 one byte:
    # 174.6 / 16 = 10.91 GB of weights per chip. A chip has 32 GiB = 34.36 GB; the engine
    # keeps back 10 % (3.44 GB): 34.36 - 3.44 - 10.91 = 20.01 GB, less under 1 GB of
    # activations, so 19.0 to 20.0 GB for KV. KV per token: 96 layers x 96 heads x 128 dims
    # x 2 (K and V) x 1 byte = 2,359,296 bytes, a sixteenth per chip (147,456 bytes).
    # Tokens: 19.0e9 / 147,456 = 128,900 to 20.0e9 / 147,456 = 135,600.
    plan = memory_plan(build("gpt3-175b", "tpu-v4", tp=16, precision_name="int8",
                             kv_precision_name="int8"))  # fmt: skip
    assert plan.fits
    assert plan.weights_bytes == pytest.approx(10.91e9, rel=0.01)
    assert plan.kv_bytes_per_token == 2_359_296
    assert 19.0e9 < plan.kv_free_bytes < 20.0e9
    assert 128_900 < plan.kv_capacity_tokens < 135_600


def test_search_on_tpus_needs_more_chips_than_a100s(search: dict[str, Any]) -> None:
    base, v4, v5e = search["computed"], search["variants"]["tpu-v4"], search["variants"]["tpu-v5e"]
    # 34.4 GB and 1.2 TB/s a v4 chip against 80 GB and 2.0 TB/s an A100: more chips for the
    # same memory-bound decode; v5e's 16 GB chips need more still
    assert base["gpus"] < v4["gpus"] < v5e["gpus"]
    for row, chips_per_host, pod in ((v4, 4, 4096), (v5e, 8, 256)):
        assert row["servers"] * chips_per_host == row["gpus"]  # hosts, not HGX servers
        assert row["pod_accelerators"] == pod
        assert (row["pods"] - 1) * pod < row["gpus"] <= row["pods"] * pod
        assert row["capex_usd"] is None  # Google sells no TPU: no price, none made up
        assert row["queries_per_year"] == base["queries_per_year"]  # the same searches
    assert "pods" not in base
    # priced at the variants' stated 3-year prices, per chip-hour, all year
    assert v4["usd_per_gpu_hour"] == 1.45
    assert v5e["usd_per_gpu_hour"] == 0.54
    # at Google's cheapest published prices neither undercuts SemiAnalysis's $1 A100-hour:
    # the TPU advantage needs a chip-hour below what the A100 fleet costs per TPU chip
    for row in (v4, v5e):
        assert row["added_cost_usd_per_year"] > base["added_cost_usd_per_year"]
        assert base["usd_per_day"] / 24 / row["gpus"] < row["usd_per_gpu_hour"]


def test_each_tpu_variant_says_where_its_inputs_come_from(search: dict[str, Any]) -> None:
    for name in ("tpu-v4", "tpu-v5e"):
        assumptions = search["variant_assumptions"][name]
        assert set(assumptions) >= {"hardware.gpu", "hardware.server", "cost.usd_per_gpu_hour"}
        for path, a in assumptions.items():
            assert a["basis"] in {"stated", "derived", "default"}, path
            assert a["source"], path
    sources = {s["id"] for s in search["sources"]}
    assert "gcp-tpu-prices" in sources


def test_bard_2023_runs_and_states_its_sources(bard: dict[str, Any]) -> None:
    (row,) = bard["comparison"]
    assert row["key"] == "usd_per_day"
    assert row["published"] == pytest.approx(3e9 / 365, rel=1e-3)
    assert bard["details"]["deployment"]["gpu"] == "tpu-v4"
    assert bard["calibration"] is None  # nothing fitted to the $3 B
    paths = {a["path"] for a in bard["assumptions"]}
    assert {"workload.queries_per_second", "workload.output_tokens"} <= paths
    for a in bard["assumptions"]:
        assert a["source"], a["path"]


def test_what_the_published_figure_implies_reproduces_it(bard: dict[str, Any]) -> None:
    """Each implied input, set alone, gives the published $/day (run again, not recomputed)."""
    target = bard["comparison"][0]["published"]
    by_input = {r["input"]: r for r in bard["implied"]}
    assert set(by_input) == {
        "cost.usd_per_gpu_hour",
        "workload.queries_per_second",
        "workload.output_tokens",
    }
    price = by_input["cost.usd_per_gpu_hour"]["implied"]
    assert 0 < price < 1.45  # below every published TPU v4 price
    again = infercost.reproduce(scenario="bard-2023", set=[f"cost.usd_per_gpu_hour={price}"])
    assert again.to_dict()["computed"]["usd_per_day"] == pytest.approx(target, rel=1e-3)
    qps = by_input["workload.queries_per_second"]["implied"]
    at = infercost.reproduce(scenario="bard-2023", set=[f"workload.queries_per_second={qps}"])
    per_replica = bard["computed"]["usd_per_day"] / bard["computed"]["replicas"]
    # whole replicas: the figure steps by one replica's cost as traffic grows
    assert abs(at.to_dict()["computed"]["usd_per_day"] - target) <= per_replica


def test_an_unreachable_figure_is_said_not_answered(tmp_path: Path) -> None:
    raw = yaml.safe_load((DATA_DIR / "bard-2023.yaml").read_text())
    raw["inputs"]["workload"]["target_utilisation"] = 0.5
    raw["provenance"]["workload.target_utilisation"] = {"basis": "default", "source": "infercost"}
    raw["implied"]["inputs"] = ["workload.target_utilisation"]
    raw["published"]["usd_per_day"]["value"] = 1.0  # $1 a day: no utilisation ≤ 1 gives it
    path = tmp_path / "unreachable.yaml"
    path.write_text(yaml.safe_dump(raw))
    (row,) = infercost.reproduce(scenario=str(path)).to_dict()["implied"]
    assert row["implied"] is None
    assert "alone gives it" in row["why"]
    assert "stays above" in row["why"]  # even a fleet 100 % busy costs more than $1 a day


def test_implied_must_name_a_published_figure(tmp_path: Path) -> None:
    raw = yaml.safe_load((DATA_DIR / "bard-2023.yaml").read_text())
    bad = copy.deepcopy(raw)
    bad["implied"]["figure"] = "usd_per_query"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    with pytest.raises(InputError, match="not a published figure"):
        load(str(path))


def test_the_readme_table_is_computed_not_typed() -> None:
    spec = importlib.util.spec_from_file_location("silicon", ROOT / "scripts/silicon_table.py")
    assert spec is not None
    assert spec.loader is not None
    silicon = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(silicon)
    assert silicon.readme_table() == silicon.table(), "run python scripts/silicon_table.py"
