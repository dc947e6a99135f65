"""What-if accelerators: `--gpu h100:hbm_bandwidth=6.7TB/s` changes what it names and
nothing else; a what-if identical to its row gives identical answers; bad input is refused
naming the field."""

from __future__ import annotations

import dataclasses
import json

import pytest

from infercost.api import estimate, plan
from infercost.catalog.hardware import accelerator
from infercost.errors import InputError

ESTIMATE = {"model": "llama-3.1-70b", "tp": 4, "qps": 10, "input_tokens": 1000}


def test_an_override_changes_only_what_it_names() -> None:
    base = accelerator("h100")
    faster = accelerator("h100:hbm_bandwidth=6.7TB/s,bf16=1.5PFLOPS")
    assert faster.memory_bandwidth_bytes_per_s == 6.7e12
    assert faster.dense_flops_per_s["bf16"] == 1.5e15
    changed = {"memory_bandwidth_bytes_per_s", "dense_flops_per_s", "name", "notes", "what_if"}
    for f in dataclasses.fields(base):
        if f.name not in changed:
            assert getattr(faster, f.name) == getattr(base, f.name), f.name
    assert {k: v for k, v in faster.dense_flops_per_s.items() if k != "bf16"} == {
        k: v for k, v in base.dense_flops_per_s.items() if k != "bf16"
    }
    assert faster.id == base.id  # its servers and prices stay the base's
    assert "what-if" in faster.name


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("h100:memory=192GB", "memory_bytes", 192e9),
        ("h100:memory=192", "memory_bytes", 192e9),  # the catalog's unit, GB
        ("h100:memory=0.192TB", "memory_bytes", 192e9),
        ("h100:hbm_bandwidth=4800", "memory_bandwidth_bytes_per_s", 4.8e12),
        ("h100:memory_bandwidth=4800GB/s", "memory_bandwidth_bytes_per_s", 4.8e12),
        ("h100:power=1.2kW", "power_w", 1200.0),
        ("h100:interconnect=900GB/s", "interconnect_bandwidth_bytes_per_s", 9e11),
    ],
)
def test_values_in_the_catalogs_unit_or_with_their_own(text: str, field: str, value: float) -> None:
    assert getattr(accelerator(text), field) == pytest.approx(value)


def test_a_what_if_identical_to_its_row_gives_identical_answers() -> None:
    base = accelerator("h100")
    same = (
        f"h100:memory={base.memory_bytes / 1e9:g},"
        f"hbm_bandwidth={base.memory_bandwidth_bytes_per_s / 1e9:g},"
        f"bf16={base.dense_flops_per_s['bf16'] / 1e12:g}"
    )
    a = estimate(ESTIMATE, gpu=["h100"]).to_dict()["estimates"][0]
    b = estimate(ESTIMATE, gpu=[same]).to_dict()["estimates"][0]
    assert a == b


def test_more_bandwidth_makes_a_memory_bound_decode_faster() -> None:
    a = estimate(ESTIMATE, gpu=["h100"]).to_dict()["estimates"][0]
    b = estimate(ESTIMATE, gpu=["h100:hbm_bandwidth=6.7TB/s"]).to_dict()["estimates"][0]
    step_a, step_b = a["replica"]["decode_step"], b["replica"]["decode_step"]
    assert step_a["bound"] == "memory"
    # twice the bandwidth (3.35 → 6.7 TB/s), half the time to stream the same bytes
    assert step_b["memory_s"] == pytest.approx(step_a["memory_s"] * 3350 / 6700, rel=1e-9)
    assert step_b["compute_s"] == pytest.approx(step_a["compute_s"], rel=1e-9)
    assert b["replica"]["tpot_s"] < a["replica"]["tpot_s"]
    assert b["deployment"]["gpu_what_if"] == "hbm_bandwidth=6.7TB/s"  # said, not hidden
    assert "gpu_what_if" not in a["deployment"]
    assert b["usd_per_gpu_hour"] == a["usd_per_gpu_hour"]  # still priced as an H100
    assert b["fleet"]["gpus"] <= a["fleet"]["gpus"]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("h100:", "nothing after the colon"),
        ("h100:hbm_bandwidth", "NAME=VALUE"),
        ("h100:bandwidth=3TB/s", "unknown figure 'bandwidth'; allowed: memory"),
        ("h100:memory=80furlongs", "unknown unit"),
        ("h100:memory=-5", "not a number"),
        ("h100:memory=0", "must be > 0"),
        ("h100:memory=fast", "not a number"),
        ("h100:price=-1", "not a number"),
        ("custom", "nothing after the colon"),
        ("custom:memory=96GB", "needs hbm_bandwidth, power, one of fp32"),
        ("custom:memory=96GB,hbm_bandwidth=4TB/s,power=700", "one of fp32"),
    ],
)
def test_bad_what_ifs_are_refused_naming_the_field(text: str, needle: str) -> None:
    with pytest.raises(InputError) as err:
        accelerator(text)
    assert err.value.field == "gpu"
    assert needle in err.value.message


def test_an_unknown_base_names_the_closest_rows() -> None:
    with pytest.raises(InputError, match="h100"):
        accelerator("h10O:memory=80")


def test_plan_takes_catalog_rows_only() -> None:
    with pytest.raises(InputError, match="plan searches catalog rows"):
        plan(model=["llama-3.1-8b"], qps=1, slo="ttft_p99=1s", gpu=["h100:memory=160"])


def test_a_price_what_if_changes_the_rent_and_nothing_else() -> None:
    a = estimate(ESTIMATE, gpu=["h100"]).to_dict()["estimates"][0]
    b = estimate(ESTIMATE, gpu=["h100:price=1.5"]).to_dict()["estimates"][0]
    assert b["usd_per_gpu_hour"] == 1.5
    assert a["usd_per_gpu_hour"] != 1.5
    assert b["replica"] == a["replica"]
    assert b["fleet"]["gpus"] == a["fleet"]["gpus"]
    assert b["fleet_cost"]["usd_per_day"] == pytest.approx(b["fleet"]["gpus"] * 24 * 1.5)
    stated = estimate({**ESTIMATE, "price": 3.0}, gpu=["h100:price=1.5"]).to_dict()
    assert stated["estimates"][0]["usd_per_gpu_hour"] == 3.0  # --price still wins


def _as_custom(row: str, price: float) -> str:
    acc = accelerator(row)
    flops = ",".join(f"{k}={v / 1e12:.17g}" for k, v in acc.dense_flops_per_s.items())
    return (
        f"custom:memory={acc.memory_bytes / 1e9:.17g},"
        f"hbm_bandwidth={acc.memory_bandwidth_bytes_per_s / 1e9:.17g},{flops},"
        f"interconnect={acc.interconnect_bandwidth_bytes_per_s / 1e9:.17g},"
        f"power={acc.power_w:.17g},price={price}"
    )


def test_an_inline_chip_with_a_rows_figures_performs_as_that_row() -> None:
    """Same figures, same answers: the roofline reads only the figures (uncalibrated, since
    a custom chip falls in no calibration group)."""
    request = {**ESTIMATE, "calibration": None}
    a = estimate(request, gpu=["h100"]).to_dict()["estimates"][0]
    b = estimate(request, gpu=[_as_custom("h100", a["usd_per_gpu_hour"])]).to_dict()
    (b,) = b["estimates"]
    assert b["deployment"]["gpu"] == "custom"
    assert b["replica"] == a["replica"]
    assert b["fleet"] == a["fleet"]
    # energy alone differs: a catalog chip's counts its server's power (host, NICs), a
    # custom chip has no server, only its own power
    assert b["fleet_cost"].pop("energy_wh_per_query") < a["fleet_cost"].pop("energy_wh_per_query")
    assert b["fleet_cost"] == a["fleet_cost"]


def test_an_inline_chip_says_it_is_uncalibrated() -> None:
    doc = estimate(ESTIMATE, gpu=[_as_custom("h100", 2.0)]).to_dict()["estimates"][0]
    assert doc["usd_per_gpu_hour"] == 2.0
    assert any("uncalibrated for custom hardware" in w for w in doc["warnings"])


def test_the_cli_reads_a_what_if_with_several_figures_beside_a_row() -> None:
    from typer.testing import CliRunner

    from infercost.cli.main import app

    gpu = "h200,h100:hbm_bandwidth=6.7TB/s,price=1.5"
    result = CliRunner().invoke(app, ["estimate", "-m", "llama-3.1-8b", "-g", gpu, "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["estimates"]
    assert [r["deployment"]["gpu"] for r in rows] == ["h200", "h100-sxm"]
    assert rows[1]["deployment"]["gpu_what_if"] == "hbm_bandwidth=6.7TB/s,price=1.5"
    assert rows[1]["usd_per_gpu_hour"] == 1.5


def test_the_table_marks_a_what_if_column_and_lists_its_changes() -> None:
    from typer.testing import CliRunner

    from infercost.cli.main import app

    gpu = "h100,h100:memory=192GB,bf16=2.5PFLOPS"
    result = CliRunner().invoke(app, ["estimate", "-m", "llama-3.1-8b", "-g", gpu])
    assert result.exit_code == 0, result.output
    assert "h100-sxm (what-if)" in result.stdout  # never two columns both reading h100-sxm
    assert "what-if h100-sxm: memory=192GB,bf16=2.5PFLOPS" in result.stdout
