"""The built-in scenarios reproduce the figures their sources published.

The published numbers are written here as literals, copied from the sources (SemiAnalysis
2023, DeepSeek's day-6 overview), so a change to a scenario's `published` block cannot
quietly move the goal posts. Only one input in chatgpt-2023 is fitted (the batch); the
rest are stated, derived or defaults.
"""

from pathlib import Path

import pytest
import yaml

from infercost.evaluate.feasibility import max_concurrency
from infercost.scenario.engine import ScenarioResult, resolve_inputs, run
from infercost.scenario.loader import DATA_DIR, load

# SemiAnalysis, "The Inference Cost Of Search Disruption" (2023-02-09).
CHATGPT_GPUS = 28_936
CHATGPT_SERVERS = 3_617
CHATGPT_USD_PER_DAY = 694_444
CHATGPT_USD_PER_QUERY = 0.0036


@pytest.fixture(scope="module")
def chatgpt() -> ScenarioResult:
    return run(load("chatgpt-2023"))


@pytest.fixture(scope="module")
def search() -> ScenarioResult:
    return run(load("search-2023"))


@pytest.fixture(scope="module")
def deepseek() -> ScenarioResult:
    return run(load("deepseek-2025"))


# --- chatgpt-2023 -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "published"),
    [
        ("gpus", CHATGPT_GPUS),
        ("servers", CHATGPT_SERVERS),
        ("usd_per_day", CHATGPT_USD_PER_DAY),
        ("usd_per_query", CHATGPT_USD_PER_QUERY),
    ],
)
def test_chatgpt_2023_matches_semianalysis(
    chatgpt: ScenarioResult, key: str, published: float
) -> None:
    assert chatgpt.computed[key] == pytest.approx(published, rel=0.02)


def test_chatgpt_2023_fleet_is_whole_hgx_servers(chatgpt: ScenarioResult) -> None:
    assert chatgpt.computed["gpus"] == 8 * chatgpt.computed["servers"]
    # $1 per A100-hour, 24 hours a day
    assert chatgpt.computed["usd_per_day"] == pytest.approx(chatgpt.computed["gpus"] * 24.0)


def test_chatgpt_2023_calibrates_only_the_batch(chatgpt: ScenarioResult) -> None:
    calibration = chatgpt.calibration()
    assert calibration is not None
    assert calibration["parameter"] == "serving.concurrency"
    assert calibration["value"] == chatgpt.computed["concurrency_per_replica"]


def test_chatgpt_2023_batch_is_the_best_integer_fit(chatgpt: ScenarioResult) -> None:
    c = chatgpt.calibration()["value"]  # type: ignore[index]
    best = abs(chatgpt.computed["servers"] - CHATGPT_SERVERS)
    for neighbour in (c - 1, c + 1):
        result = run(load("chatgpt-2023", [f"serving.concurrency={neighbour}"]))
        assert abs(result.computed["servers"] - CHATGPT_SERVERS) >= best


def test_chatgpt_2023_reports_the_roofline_alone(chatgpt: ScenarioResult) -> None:
    roofline = chatgpt.uncalibrated
    assert roofline is not None
    assert roofline["gpus"] != chatgpt.computed["gpus"]
    assert roofline["concurrency_per_replica"] != chatgpt.computed["concurrency_per_replica"]
    # Uncalibrated, the batch is the most the KV cache holds, capped at 256 (vLLM's default).
    inputs = chatgpt.scenario.inputs
    w = inputs.workload
    memory_limited = max_concurrency(resolve_inputs(inputs, None), w.input_tokens, w.output_tokens)
    assert 1 <= roofline["concurrency_per_replica"] <= 256
    assert roofline["concurrency_per_replica"] == memory_limited


def test_doubling_questions_per_user_doubles_gpus(chatgpt: ScenarioResult) -> None:
    doubled = run(load("chatgpt-2023", ["workload.queries_per_user_per_day=30"]))
    assert 1.95 <= doubled.computed["gpus"] / chatgpt.computed["gpus"] <= 2.05


def test_more_traffic_never_needs_fewer_gpus() -> None:
    gpus = [
        run(load("chatgpt-2023", [f"workload.queries_per_user_per_day={q}"])).computed["gpus"]
        for q in (0.5, 1, 7, 15, 15.5, 40)
    ]
    assert gpus == sorted(gpus)


def test_override_is_tagged_in_provenance() -> None:
    scenario = load("chatgpt-2023", ["workload.queries_per_user_per_day=30"])
    assert scenario.provenance["workload.queries_per_user_per_day"].basis == "override"


# --- search-2023 --------------------------------------------------------------------------


def test_search_2023_fleet(search: ScenarioResult) -> None:
    assert search.computed["gpus"] == pytest.approx(4_102_568, rel=0.02)
    assert search.computed["servers"] == pytest.approx(512_821, rel=0.02)
    assert search.computed["capex_usd"] > 100e9  # "> $100 B"


def test_search_2023_added_cost(search: ScenarioResult) -> None:
    assert search.computed["added_cost_usd_per_year"] == pytest.approx(36e9, rel=0.02)
    assert search.computed["added_cost_after_tax_usd_per_year"] == pytest.approx(30e9, rel=0.03)
    assert search.computed["morgan-stanley.added_cost_usd_per_year"] == pytest.approx(
        11.8e9, rel=0.02
    )


def test_search_2023_per_query_economics(search: ScenarioResult) -> None:
    c = search.computed
    assert c["revenue_usd_per_query"] == pytest.approx(0.0161, rel=0.01)
    assert c["cost_with_llm_usd_per_query"] == pytest.approx(0.0142, rel=0.02)
    assert c["margin_after"] < c["margin_before"]


def test_search_2023_uses_the_chatgpt_deployment(
    search: ScenarioResult, chatgpt: ScenarioResult
) -> None:
    # Same model, servers, batch and price: the cost of one answer does not change.
    assert search.computed["usd_per_query"] == pytest.approx(
        chatgpt.computed["usd_per_query"], rel=0.01
    )


# --- deepseek-2025 ------------------------------------------------------------------------


def test_deepseek_revenue(deepseek: ScenarioResult) -> None:
    assert deepseek.computed["revenue_usd_per_day"] == pytest.approx(562_027, rel=0.01)


def test_deepseek_cost_is_nodes_times_gpu_hours(deepseek: ScenarioResult) -> None:
    c = deepseek.computed
    assert c["usd_per_day"] == pytest.approx(c["nodes"] * 8 * 24 * 2.0)
    assert c["nodes"] == pytest.approx(c["nodes_prefill"] + c["nodes_decode"])


def test_deepseek_pool_throughput_is_near_published(deepseek: ScenarioResult) -> None:
    """Steady state at full load predicts more than a day's average; not more than 2.5×.

    DeepSeek's figures are 24-hour averages over a fleet whose load varies (peak 278 nodes
    against 226.75 on average) with real, unbalanced routing; the steady-state roofline is
    an upper bound of the same order (BENCHMARKS.md compares it with DeepSeek's profile).
    """
    prefill = deepseek.computed["prefill_input_tokens_per_s_per_node"]
    decode = deepseek.computed["decode_output_tokens_per_s_per_node"]
    assert 73_700 <= prefill <= 73_700 * 2.5
    assert 14_800 <= decode <= 14_800 * 2.5


def test_deepseek_gap_is_reported_not_tuned(deepseek: ScenarioResult) -> None:
    assert deepseek.calibration() is None
    assert deepseek.uncalibrated is None
    rows = {row["key"]: row for row in deepseek.comparisons()}
    for key in ("prefill_input_tokens_per_s_per_node", "decode_output_tokens_per_s_per_node"):
        assert rows[key]["diff_pct"] is not None
        assert rows[key]["computed"] == deepseek.computed[key]
    assert rows["decode_output_tokens_per_s_per_node"]["diff_pct"] == pytest.approx(
        (deepseek.computed["decode_output_tokens_per_s_per_node"] / 14_800 - 1) * 100
    )


# --- chatgpt-2023-today -------------------------------------------------------------------


def test_newer_gpus_need_fewer_gpus() -> None:
    result = run(load("chatgpt-2023-today"))
    assert set(result.variants) >= {"h100-fp8", "h200-fp8", "b200-fp8"}
    base = result.computed
    for name in ("h100-fp8", "h200-fp8", "b200-fp8"):
        assert result.variants[name]["gpus"] < base["gpus"], name
    assert result.variants["b200-fp8"]["usd_per_query"] < base["usd_per_query"]
    assert result.calibration() is None


# --- the engine never reads `published` ---------------------------------------------------


def test_published_figures_do_not_move_the_computed_ones(
    tmp_path: Path, chatgpt: ScenarioResult
) -> None:
    raw = yaml.safe_load((DATA_DIR / "chatgpt-2023.yaml").read_text())
    for entry in raw["published"].values():
        entry["value"] *= 10
    path = tmp_path / "chatgpt-2023-x10.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))

    result = run(load(str(path)))
    assert result.scenario.published["gpus"].value == 10 * CHATGPT_GPUS
    assert result.computed == chatgpt.computed
    assert result.uncalibrated == chatgpt.uncalibrated
