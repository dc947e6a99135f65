"""The accelerator and server tables: every row loads, names resolve, figures convert to SI."""

import re

import pytest

from infercost.catalog.hardware import accelerator, accelerators, server, servers
from infercost.errors import UnknownNameError

REQUIRED_GPUS = [
    "a100-40gb",
    "a100-80gb",
    "h100-sxm",
    "h100-pcie",
    "h800",
    "h20",
    "h200",
    "b200",
    "gb200",
    "mi300x",
    "mi325x",
    "mi355x",
    "l4",
    "l40s",
    "a10g",
    "rtx-4090",
    "tpu-v5e",
    "cpu-avx512-2c",
    "rtx-pro-6000-se",
    "mi250x-gcd",
    "rtx-3090-ti",
    "rtx-3090",
    "m2-ultra-76c",
    "i5-6500",
    "ryzen-7-5700g",
    "i9-13900k",
]
REQUIRED_SERVERS = [
    "hgx-a100-40gb",
    "hgx-a100-80gb",
    "hgx-h100",
    "hgx-h800",
    "hgx-h200",
    "hgx-b200",
]
HOPPER_AND_BLACKWELL = ["h100-sxm", "h100-pcie", "h800", "h20", "h200", "b200", "gb200"]
AS_OF = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")


@pytest.mark.parametrize("gpu_id", REQUIRED_GPUS)
def test_required_accelerator_loads(gpu_id: str) -> None:
    assert accelerator(gpu_id).id == gpu_id


@pytest.mark.parametrize("server_id", REQUIRED_SERVERS)
def test_required_server_loads_with_eight_gpus(server_id: str) -> None:
    assert server(server_id).accelerators_per_server == 8


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("H100 SXM 80GB", "h100-sxm"),
        ("H100", "h100-sxm"),
        ("A100-SXM4-80GB", "a100-80gb"),
        ("A100", "a100-80gb"),
        ("a100_40gb", "a100-40gb"),
        ("nvidia h200", "h200"),
        ("H100 PCIe", "h100-pcie"),
        ("GeForce RTX 4090", "rtx-4090"),
        ("TPU v5e", "tpu-v5e"),
        ("H100 80GB HBM3", "h100-sxm"),
        ("GB200 192GB", "gb200"),
        ("MI300X 192GB", "mi300x"),
        ("RTX 4090 24GB", "rtx-4090"),
        ("RTX PRO 6000 Blackwell Server Edition", "rtx-pro-6000-se"),
        ("AMD MI250X (one GCD)", "mi250x-gcd"),
        ("RTX 3090 Ti", "rtx-3090-ti"),
        ("RTX 3090 24GB", "rtx-3090"),
        ("Apple M2 Ultra 76-core GPU 192GB", "m2-ultra-76c"),
        ("Intel i5-6500", "i5-6500"),
        ("AMD Ryzen 7 5700G", "ryzen-7-5700g"),
        ("i9-13900K", "i9-13900k"),
    ],
)
def test_accelerator_alias_resolves(name: str, expected: str) -> None:
    assert accelerator(name).id == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [("DGX A100", "hgx-a100-80gb"), ("DGX H100", "hgx-h100"), ("dgx b200", "hgx-b200")],
)
def test_server_alias_resolves(name: str, expected: str) -> None:
    assert server(name).id == expected


@pytest.mark.parametrize(("name", "expected"), [("H10", "h100-sxm"), ("MI300", "mi300x")])
def test_unknown_accelerator_suggests_closest(name: str, expected: str) -> None:
    with pytest.raises(UnknownNameError) as err:
        accelerator(name)
    assert expected in err.value.suggestions


def test_unknown_server_suggests_closest() -> None:
    with pytest.raises(UnknownNameError) as err:
        server("DGX H10")
    assert "hgx-h100" in err.value.suggestions


def test_every_row_has_source_and_dated_as_of() -> None:
    for row in [*accelerators(), *servers()]:
        assert row.source, row.id
        assert AS_OF.match(row.as_of), (row.id, row.as_of)


def test_every_server_accelerator_exists() -> None:
    gpus = accelerators()
    for row in servers():
        assert row.accelerator in gpus, row.id
        assert gpus.get(row.accelerator).id == row.accelerator


def test_a100_80gb_bandwidth_in_bytes_per_s() -> None:
    # 2,039 GB/s x 1e9 bytes/GB
    assert accelerator("a100-80gb").memory_bandwidth_bytes_per_s == pytest.approx(2.039e12)


def test_h100_sxm_dense_bf16_in_flops_per_s() -> None:
    # 989 TFLOPS dense (1,979 is the 2:4-sparse figure)
    assert accelerator("h100-sxm").peak_flops_per_s("bf16") == pytest.approx(989e12)


def test_b200_fp4_in_flops_per_s() -> None:
    assert accelerator("b200").peak_flops_per_s("fp4") == pytest.approx(9e15)


def test_memory_in_bytes() -> None:
    assert accelerator("h200").memory_bytes == pytest.approx(141e9)


def test_nvlink_is_per_direction() -> None:
    # A100 NVLink 3: 600 GB/s total, 300 GB/s each way; H800 is cut to 400 total.
    assert accelerator("a100-80gb").interconnect_bandwidth_bytes_per_s == pytest.approx(300e9)
    assert accelerator("h800").interconnect_bandwidth_bytes_per_s == pytest.approx(200e9)


@pytest.mark.parametrize("gpu_id", HOPPER_AND_BLACKWELL)
def test_fp8_is_twice_bf16_on_hopper_and_blackwell(gpu_id: str) -> None:
    acc = accelerator(gpu_id)
    fp8, bf16 = acc.peak_flops_per_s("fp8"), acc.peak_flops_per_s("bf16")
    assert fp8 is not None
    assert bf16 is not None
    assert fp8 == pytest.approx(2 * bf16, rel=1e-3)


@pytest.mark.parametrize("gpu_id", ["b200", "gb200", "mi355x"])
def test_fp4_is_twice_fp8_where_present(gpu_id: str) -> None:
    acc = accelerator(gpu_id)
    fp4, fp8 = acc.peak_flops_per_s("fp4"), acc.peak_flops_per_s("fp8")
    assert fp4 is not None
    assert fp8 is not None
    assert fp4 == pytest.approx(2 * fp8, rel=1e-3)


@pytest.mark.parametrize(
    "gpu_id", ["a100-40gb", "a100-80gb", "a10g", "cpu-avx512-2c", "mi250x-gcd", "rtx-3090-ti"]
)
def test_chips_without_fp8_units_report_none(gpu_id: str) -> None:
    assert accelerator(gpu_id).peak_flops_per_s("fp8") is None


def test_h200_differs_from_h100_only_in_memory() -> None:
    h100, h200 = accelerator("h100-sxm"), accelerator("h200")
    assert h200.dense_flops_per_s == h100.dense_flops_per_s
    assert h200.memory_bytes > h100.memory_bytes
    assert h200.memory_bandwidth_bytes_per_s > h100.memory_bandwidth_bytes_per_s


def test_server_nvlink_matches_its_accelerator() -> None:
    for row in servers():
        acc = accelerator(row.accelerator)
        assert row.intra_node_bandwidth_bytes_per_s == acc.interconnect_bandwidth_bytes_per_s


def test_server_power_covers_its_gpus() -> None:
    for row in servers():
        if row.power_w is None:  # a rented-only host: its power is not published
            continue
        gpu_power_w = accelerator(row.accelerator).power_w * row.accelerators_per_server
        assert row.power_w > gpu_power_w, row.id


def test_a_rented_only_host_is_priced_per_chip_hour_and_refused_owned() -> None:
    """A TPU host states its chips (8 for v6e, 4 for v5p and TPU7x) but no price or
    power: renting works per chip-hour, owning is refused naming the price."""
    from infercost.api import estimate
    from infercost.catalog.hardware import server_for
    from infercost.catalog.prices import owner_profiles
    from infercost.cost.gpu_hour import own
    from infercost.errors import InputError

    assert [server_for(accelerator(g)).accelerators_per_server
            for g in ("tpu-v6e", "tpu-v5p", "tpu7x")] == [8, 4, 4]  # fmt: skip
    host = server_for(accelerator("tpu-v6e"))
    assert (host.price_usd, host.power_w) == (None, None)
    with pytest.raises(InputError, match="no published price"):
        own(host, owner_profiles().get("hyperscaler-2025"))
    doc = estimate(model="llama-3.1-70b", gpu=["tpu-v6e"], tp=8, qps=5, price=2.7).to_dict()
    (row,) = doc["estimates"]
    assert row["fleet"]["servers"] * 8 >= row["fleet"]["gpus"]


def test_plain_mi250x_is_not_one_gcd() -> None:
    # A whole MI250X has two GCDs (128 GB); the catalog row is one of them.
    with pytest.raises(UnknownNameError):
        accelerator("AMD MI250X")
    assert accelerator("MI250X GCD").memory_bytes == pytest.approx(64e9)


@pytest.mark.parametrize(
    ("cpu_id", "bandwidth_gb_per_s"),
    # dual channel x 8 bytes x transfer rate: DDR3L-1600, DDR4-3200, DDR5-5600
    [("i5-6500", 25.6), ("ryzen-7-5700g", 51.2), ("i9-13900k", 89.6)],
)
def test_desktop_cpu_bandwidth_is_two_channels(cpu_id: str, bandwidth_gb_per_s: float) -> None:
    cpu = accelerator(cpu_id)
    assert cpu.kind == "cpu"
    assert cpu.memory_bandwidth_bytes_per_s == pytest.approx(bandwidth_gb_per_s * 1e9)


def test_cpu_row_is_slow_and_narrow() -> None:
    cpu = accelerator("cpu-avx512-2c")
    assert cpu.kind == "cpu"
    assert cpu.memory_bandwidth_bytes_per_s == pytest.approx(33.8e9)  # measured, 2 processes
    assert cpu.price_usd is None
