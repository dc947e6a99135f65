"""TPU, Trainium, Inferentia, Gaudi and Maia rows: they load, their names resolve, the
bidirectional interconnect figures are stored per direction, and a 70 B model's weights and
KV fit a TPU v6e host by hand arithmetic."""

import pytest

from infercost.catalog.hardware import accelerator
from infercost.perf.deployment import build
from infercost.perf.memory import memory_plan

NEW_IDS = [
    "tpu-v4",
    "tpu-v5p",
    "tpu-v6e",
    "tpu7x",
    "trainium2",
    "inferentia2",
    "gaudi2",
    "gaudi3",
    "maia-100",
]


@pytest.mark.parametrize("gpu_id", NEW_IDS)
def test_row_loads_with_source(gpu_id: str) -> None:
    acc = accelerator(gpu_id)
    assert acc.id == gpu_id
    assert acc.source.startswith("https://")
    assert acc.notes


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("v6e", "tpu-v6e"),
        ("Trillium", "tpu-v6e"),
        ("TPU v5p", "tpu-v5p"),
        ("TPU v4", "tpu-v4"),
        ("Ironwood", "tpu7x"),
        ("trn2", "trainium2"),
        ("inf2", "inferentia2"),
        ("gaudi3", "gaudi3"),
        ("Gaudi 2", "gaudi2"),
        ("maia", "maia-100"),
    ],
)
def test_alias_resolves(name: str, expected: str) -> None:
    assert accelerator(name).id == expected


@pytest.mark.parametrize(
    ("gpu_id", "per_direction_gb_s"),
    [
        # Google states bidirectional ICI per chip: v5p 1,200, v6e 800, TPU7x 1,200 GB/s.
        ("tpu-v5p", 600),
        ("tpu-v6e", 400),
        ("tpu7x", 600),
        # Gaudi 3: 21 of its 24 x 200 GbE ports join the node's chips: 21 x 25 = 525 GB/s
        # each way (Intel: "525 GB/s unidirectional"); the other 3 are scale-out.
        ("gaudi3", 525),
        ("gaudi2", 262.5),  # 21 x 100 GbE = 21 x 12.5 GB/s
        # Maia 100: 12 x 400 GbE = 4,800 Gb/s = 600 GB/s each way.
        ("maia-100", 600),
    ],
)
def test_interconnect_is_per_direction(gpu_id: str, per_direction_gb_s: float) -> None:
    acc = accelerator(gpu_id)
    assert acc.interconnect_bandwidth_bytes_per_s == pytest.approx(per_direction_gb_s * 1e9)


def test_tpu_v4_memory_is_32_gib() -> None:
    # 32 GiB = 32 x 1.073741824 GB = 34.36 GB, entered as 34.4.
    assert accelerator("tpu-v4").memory_bytes == pytest.approx(34.36e9, rel=0.01)


def test_llama_70b_bf16_does_not_fit_one_v6e_chip() -> None:
    # Llama 3.1 70B has ~70.55 B parameters; bf16 is 2 bytes each: 141.1 GB of weights,
    # against 32 GB of HBM on one v6e chip.
    plan = memory_plan(build("llama-3.1-70b", "tpu-v6e", tp=1))
    assert plan.weights_bytes == pytest.approx(141.1e9, rel=0.01)
    assert not plan.fits


def test_llama_70b_bf16_fits_an_8_chip_v6e_host_with_room_for_kv() -> None:
    # tp = 8 over one 8-chip host (256 GB): 141.1 / 8 = 17.64 GB of weights per chip.
    # Per chip: 32 GB - 3.2 GB engine reserve (10 %) - 17.64 GB = 11.16 GB, less a little
    # for activations (< 1 GB), so between 10.16 and 11.16 GB left for KV.
    # KV per token: 80 layers x 8 KV heads x 128 dims x 2 (K and V) x 2 bytes
    # = 327,680 bytes, sharded over 8 chips.
    # Tokens: 8 x 10.16e9 / 327,680 = 248,000 to 8 x 11.16e9 / 327,680 = 272,500.
    plan = memory_plan(build("llama-3.1-70b", "tpu-v6e", tp=8))
    assert plan.fits
    assert plan.weights_bytes == pytest.approx(17.64e9, rel=0.01)
    assert plan.kv_bytes_per_token == 327_680
    assert 10.16e9 < plan.kv_free_bytes < 11.16e9
    assert 248_000 < plan.kv_capacity_tokens < 272_500
