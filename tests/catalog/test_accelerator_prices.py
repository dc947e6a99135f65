"""Rental prices for TPU, Trainium, Inferentia and Gaudi: each row is sourced and positive,
on-demand costs at least as much as a commitment on the same date, the default price of a chip
(prices_for()[0]) is its on-demand row, and `infercost estimate` prices those chips from the
catalog."""

import json
import re

import pytest
from typer.testing import CliRunner

from infercost.catalog.hardware import accelerator, accelerators, server, server_for
from infercost.catalog.prices import PricePoint, price_points, prices_for
from infercost.cli.main import app

NEW_PRICES = [
    "gcp-2025-tpu-v4",
    "gcp-2025-tpu-v4-1y",
    "gcp-2025-tpu-v4-3y",
    "gcp-2025-tpu-v5e",
    "gcp-2025-tpu-v5e-1y",
    "gcp-2025-tpu-v5e-3y",
    "gcp-2025-tpu-v6e",
    "gcp-2025-tpu-v6e-1y",
    "gcp-2025-tpu-v6e-3y",
    "gcp-2026-tpu-v5p",
    "semianalysis-2026-tpu7x-3y",
    "aws-2025-trn2-48xlarge",
    "aws-2026-inf2-48xlarge",
    "aws-2026-inf2-xlarge",
    "hf-2024-inf2-x12",
    "intel-2025-gaudi2",
    "intel-2025-gaudi3",
]
COMMITTED = re.compile(r"-(1y|3y)$")
AS_OF = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")
SECONDS_PER_HOUR = 3_600


def committed(row: PricePoint) -> bool:
    return COMMITTED.search(row.id) is not None


@pytest.mark.parametrize("price_id", NEW_PRICES)
def test_row_loads_sourced_and_positive(price_id: str) -> None:
    row = price_points().get(price_id)
    assert row.source.startswith("https://")
    assert AS_OF.match(row.as_of)
    assert row.usd_per_gpu_hour > 0
    assert row.accelerator in accelerators()
    assert row.notes


def test_committed_rows_say_their_term() -> None:
    for row in price_points():
        match = COMMITTED.search(row.id)
        if match:
            term = {"1y": "1-year", "3y": "3-year"}[match.group(1)]
            assert term in row.provider or term in row.notes, row.id


def test_on_demand_costs_at_least_a_commitment_on_the_same_date() -> None:
    table = price_points()
    pairs = 0
    for row in table:
        base = COMMITTED.sub("", row.id)
        if row.id == base or base not in table:
            continue
        on_demand = table.get(base)
        assert (on_demand.accelerator, on_demand.as_of) == (row.accelerator, row.as_of)
        assert on_demand.usd_per_gpu_hour >= row.usd_per_gpu_hour, row.id
        pairs += 1
    assert pairs >= 6


@pytest.mark.parametrize("gpu_id", ["tpu-v4", "tpu-v5e", "tpu-v6e"])
def test_three_year_costs_less_than_one_year(gpu_id: str) -> None:
    by_id = {row.id: row.usd_per_gpu_hour for row in prices_for(gpu_id)}
    base = f"gcp-2025-{gpu_id}"
    assert by_id[base] > by_id[f"{base}-1y"] > by_id[f"{base}-3y"]


@pytest.mark.parametrize(
    ("gpu_id", "default_id", "usd"),
    [
        ("tpu-v4", "gcp-2025-tpu-v4", 3.22),
        ("tpu-v5e", "gcp-2025-tpu-v5e", 1.20),
        ("tpu-v6e", "gcp-2025-tpu-v6e", 2.70),
        ("tpu-v5p", "gcp-2026-tpu-v5p", 4.20),
        ("trainium2", "aws-2025-trn2-48xlarge", 2.235),
        ("inferentia2", "aws-2026-inf2-48xlarge", 1.0818),
        ("gaudi2", "intel-2025-gaudi2", 1.30),
        ("gaudi3", "intel-2025-gaudi3", 2.49),
    ],
)
def test_default_price_is_on_demand(gpu_id: str, default_id: str, usd: float) -> None:
    default = prices_for(gpu_id)[0]
    assert (default.id, default.usd_per_gpu_hour) == (default_id, usd)
    assert not committed(default)


@pytest.mark.parametrize(
    ("price_id", "usd_per_instance_hour", "chips"),
    [
        # Instance prices as published, divided by the instance's chips by hand.
        ("aws-2025-trn2-48xlarge", "35.76", 16),  # 2.235
        ("aws-2026-inf2-48xlarge", "12.98127", 12),  # 1.08177
        ("aws-2026-inf2-xlarge", "0.7582", 1),
        ("hf-2024-inf2-x12", "12", 12),
        ("intel-2025-gaudi2", "10.40", 8),  # 1.30
        ("intel-2025-gaudi3", "19.92", 8),  # 2.49
    ],
)
def test_per_chip_price_is_the_instance_price_over_its_chips(
    price_id: str, usd_per_instance_hour: str, chips: int
) -> None:
    row = price_points().get(price_id)
    published = float(usd_per_instance_hour)
    assert row.usd_per_gpu_hour * chips == pytest.approx(published, abs=0.01)
    assert f"${usd_per_instance_hour}" in row.notes  # the notes quote the published figure


def test_tpu7x_has_only_a_committed_price() -> None:
    # No on-demand TPU7x price was found: the SemiAnalysis 3-year rent is the default.
    rows = prices_for("tpu7x")
    assert [row.id for row in rows] == ["semianalysis-2026-tpu7x-3y"]
    assert rows[0].provider_kind == "tco-model"


def test_tpu_v6e_discounts_match_the_announcement() -> None:
    # GA announcement: $2.70 on demand, $1.89 for 1 year (30 % off), $1.22 for 3 years (~55 %).
    by_id = {row.id: row.usd_per_gpu_hour for row in prices_for("tpu-v6e")}
    assert by_id["gcp-2025-tpu-v6e-1y"] / by_id["gcp-2025-tpu-v6e"] == pytest.approx(0.70)
    assert by_id["gcp-2025-tpu-v6e-3y"] / by_id["gcp-2025-tpu-v6e"] == pytest.approx(
        0.452, abs=1e-3
    )


def estimate(gpu: str) -> dict:
    args = ["estimate", "--model", "llama-3.1-8b", "--gpu", gpu, "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    (doc,) = json.loads(result.stdout)["estimates"]
    return doc


@pytest.mark.parametrize(
    ("gpu", "usd"),
    [
        ("tpu-v6e", 2.70),
        ("Trillium", 2.70),
        ("trn2", 2.235),
        ("inferentia2", 1.0818),
        ("gaudi2", 1.30),
        ("Gaudi 3", 2.49),
    ],
)
def test_estimate_prices_the_chip_from_the_catalog(gpu: str, usd: float) -> None:
    doc = estimate(gpu)
    assert doc["usd_per_gpu_hour"] == pytest.approx(usd)
    # $/1M output tokens x output tokens per chip-hour / 1e6 gives back $/chip-hour.
    tokens_per_chip_hour = doc["output_tokens_per_s_per_gpu"] * SECONDS_PER_HOUR
    spent = doc["usd_per_million_output_tokens"] * tokens_per_chip_hour / 1e6
    assert spent == pytest.approx(usd, rel=1e-6)


# --- rented hosts: chips per host and per-chip, per-direction link bandwidths by hand ------

GB = 1e9


@pytest.mark.parametrize(
    ("server_id", "gpu_id", "intra_gb_s", "scale_out_gb_s"),
    [
        # 24 ports per chip: 21 scale-up (3 to each of the 7 others), 3 scale-out; Gaudi 2
        # at 100 Gb/s a port, Gaudi 3 at 200 Gb/s.
        ("hls-gaudi2", "gaudi2", 21 * 100 / 8, 3 * 100 / 8),
        ("hls-gaudi3", "gaudi3", 21 * 200 / 8, 3 * 200 / 8),
    ],
)
def test_gaudi_host_links_per_chip_per_direction(
    server_id: str, gpu_id: str, intra_gb_s: float, scale_out_gb_s: float
) -> None:
    host = server(server_id)
    assert (host.accelerator, host.accelerators_per_server) == (gpu_id, 8)
    assert host.intra_node_bandwidth_bytes_per_s == pytest.approx(intra_gb_s * GB)
    assert host.scale_out_bandwidth_bytes_per_s == pytest.approx(scale_out_gb_s * GB)
    assert host.price_usd is None
    assert host.power_w is None
    assert server_for(accelerator(gpu_id)).id == server_id


def test_a_gaudi3_replica_across_hosts_costs_more_per_token() -> None:
    # 16 chips span two HLS-3 boxes joined by 75 GB/s per chip, a seventh of the scale-up.
    per_token = {}
    for tp in ("8", "16"):
        args = ["estimate", "--model", "llama-3.1-70b", "--gpu", "gaudi3", "--tp", tp, "--json"]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        (doc,) = json.loads(result.stdout)["estimates"]
        assert doc["deployment"]["server"] == "hls-gaudi3"
        per_token[tp] = doc["usd_per_million_output_tokens"]
    assert per_token["16"] > per_token["8"]
