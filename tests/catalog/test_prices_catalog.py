"""Rental price points and owner TCO profiles: rows load and agree with published totals."""

import re

import pytest

from infercost.catalog.hardware import accelerators
from infercost.catalog.prices import owner_profiles, price_points, prices_for

INFERENCEX_GPUS = ["h100-sxm", "h200", "b200", "gb200", "mi300x", "mi325x", "mi355x"]
REQUIRED_PRICES = [
    "semianalysis-2023-a100",
    "azure-2022-a100",
    "deepseek-2025-h800",
    *(
        f"inferencex-{tier}-{gpu}"
        for tier in ("hyperscaler", "neocloud")
        for gpu in INFERENCEX_GPUS
    ),
]
AS_OF = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")
HOURS_PER_DAY = 24


@pytest.mark.parametrize("price_id", REQUIRED_PRICES)
def test_required_price_loads(price_id: str) -> None:
    assert price_points().get(price_id).id == price_id


def test_every_price_names_a_known_accelerator() -> None:
    gpus = accelerators()
    for row in price_points():
        assert row.accelerator in gpus, row.id
        assert gpus.get(row.accelerator).id == row.accelerator


def test_every_price_has_source_and_dated_as_of() -> None:
    for row in price_points():
        assert row.source.startswith("http"), row.id
        assert AS_OF.match(row.as_of), (row.id, row.as_of)


def test_prices_for_h100_is_newest_first() -> None:
    rows = prices_for("h100-sxm")
    dates = [p.as_of for p in rows]
    assert len(rows) >= 4
    assert dates == sorted(dates, reverse=True)
    assert dates[0] > dates[-1]
    assert {p.accelerator for p in rows} == {"h100-sxm"}


def test_prices_for_unpriced_accelerator_is_empty() -> None:
    assert prices_for("rtx-4090") == []


def test_semianalysis_price_reproduces_chatgpt_daily_cost() -> None:
    # 3,617 HGX A100 servers x 8 GPUs x 24 h x $1/GPU-h = $694,464, within 0.01 % of the
    # published $694,444 (which used the unrounded 3,616.9 servers).
    price = price_points().get("semianalysis-2023-a100")
    daily_usd = 3_617 * 8 * HOURS_PER_DAY * price.usd_per_gpu_hour
    assert daily_usd == pytest.approx(694_444, rel=1e-4)
    assert (price.accelerator, price.as_of, price.provider_kind) == (
        "a100-80gb",
        "2023-02",
        "assumption",
    )


def test_deepseek_price_reproduces_daily_cost() -> None:
    # 226.75 average H800 nodes x 8 GPUs x 24 h x $2/GPU-h = $87,072 (stated)
    price = price_points().get("deepseek-2025-h800")
    assert 226.75 * 8 * HOURS_PER_DAY * price.usd_per_gpu_hour == pytest.approx(87_072)
    assert price.as_of == "2025-03-01"


def test_goldstein_price_reproduces_cost_per_word() -> None:
    # 8 A100s at $3/h emitting 20 words/s: $24 / 72,000 words = $0.00033 per word
    price = price_points().get("azure-2022-a100")
    usd_per_word = 8 * price.usd_per_gpu_hour / (3_600 * 20)
    assert usd_per_word == pytest.approx(0.00033, rel=0.02)


@pytest.mark.parametrize("gpu_id", INFERENCEX_GPUS)
def test_inferencex_neocloud_costs_more_than_hyperscaler(gpu_id: str) -> None:
    table = price_points()
    hyperscaler = table.get(f"inferencex-hyperscaler-{gpu_id}")
    neocloud = table.get(f"inferencex-neocloud-{gpu_id}")
    assert hyperscaler.provider_kind == neocloud.provider_kind == "tco-model"
    assert neocloud.usd_per_gpu_hour > hyperscaler.usd_per_gpu_hour


def test_inferencex_h100_cost_per_million_tokens() -> None:
    # anchors.md: H100 at 1,000 tok/s/GPU -> $1.30 / (1000 x 3600 / 1e6) = $0.361 per 1M
    price = price_points().get("inferencex-hyperscaler-h100-sxm")
    tokens_per_hour_millions = 1_000 * 3_600 / 1e6
    assert price.usd_per_gpu_hour / tokens_per_hour_millions == pytest.approx(0.361, abs=5e-4)


@pytest.mark.parametrize("profile_id", ["hyperscaler-2023", "hyperscaler-2025", "neocloud-2025"])
def test_owner_profile_is_plausible(profile_id: str) -> None:
    profile = owner_profiles().get(profile_id)
    assert profile.source
    assert AS_OF.match(profile.as_of)
    assert profile.depreciation_years == 4
    assert profile.pue >= 1.0
    assert 0 < profile.power_utilisation <= 1
    assert 0 <= profile.networking_share < 1
    assert 0 < profile.cost_of_capital < 0.5


def test_owner_profile_aliases() -> None:
    assert owner_profiles().get("hyperscaler").id == "hyperscaler-2025"
    assert owner_profiles().get("Neocloud").id == "neocloud-2025"


def test_neocloud_capital_costs_more_than_hyperscaler() -> None:
    profiles = owner_profiles()
    neocloud = profiles.get("neocloud-2025")
    hyperscaler = profiles.get("hyperscaler-2025")
    assert neocloud.cost_of_capital > hyperscaler.cost_of_capital


def test_every_api_price_names_a_catalog_model_and_says_where_it_comes_from() -> None:
    from infercost.catalog.models import model
    from infercost.catalog.prices import api_prices

    rows = list(api_prices())
    assert len(rows) >= 30
    for row in rows:
        assert model(row.model).id == row.model
        assert row.source.startswith("https://")
        assert AS_OF.match(row.as_of)
        assert 0 < row.usd_per_million_input <= row.usd_per_million_output * 10
    wanted = {"llama-3.1-70b", "deepseek-v3", "deepseek-r1", "qwen3-235b-a22b", "gpt-oss-120b"}
    assert wanted <= {r.model for r in rows}
    # DeepSeek's own list price for V3 (its Feb 2025 price page): 0.27 in, 1.10 out, 0.07 cached.
    v3 = api_prices().get("deepseek-v3-deepseek")
    assert (v3.usd_per_million_input, v3.usd_per_million_output) == (0.27, 1.10)
    assert v3.usd_per_million_input_cached == 0.07
