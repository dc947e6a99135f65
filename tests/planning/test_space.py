"""The configurations a plan searches, and the bounds and filters on them."""

from __future__ import annotations

import pytest

from infercost.errors import InputError
from infercost.planning.space import Constraints, Pricing, build_space


def _shapes(space: object, gpu: str) -> set[tuple[int, int, int, int, str, str]]:
    return {
        (c.tp, c.pp, c.ep, c.dp_attention, c.weight_precision, c.kv_precision or "")
        for c in space.configs  # type: ignore[attr-defined]
        if c.gpu == gpu
    }


def test_the_whole_catalog_is_searched_for_one_model() -> None:
    space = build_space(Constraints(models=("llama-3.1-70b",)))
    assert space.candidates >= 1000
    h100 = _shapes(space, "h100-sxm")
    # bf16 and fp8 weights and KV; tensor parallel 1…8 within the HGX node; pipelines on tp 8.
    assert (4, 1, 1, 1, "fp8", "fp8") in h100
    assert (8, 2, 1, 1, "bf16", "bf16") in h100
    assert not any(w in ("fp4", "nvfp4", "int4") for *_, w, _ in h100)  # 4-bit: only if asked
    # The A100 has int8 units and no fp8: its 8-bit format is int8.
    assert {w for *_, w, _ in _shapes(space, "a100-80gb")} == {"bf16", "int8"}
    # Accelerators with no price are left out, each with its reason.
    assert any(s.startswith("l40s:") for s in space.skipped)
    # Every configuration's batch caps run from 8 up to the engine's.
    assert all(caps[0] == 8 and caps[-1] == 256 for caps in space.caps.values())


def test_a_moe_model_adds_expert_and_attention_data_parallel_layouts() -> None:
    space = build_space(Constraints(models=("deepseek-v3",), gpus=("h200",)))
    shapes = _shapes(space, "h200")
    assert (8, 1, 8, 1, "fp8", "fp8") in shapes  # experts over every GPU of the node
    assert (1, 1, 8, 8, "fp8", "fp8") in shapes  # 8 attention copies, experts over 8
    assert {w for *_, w, _ in shapes} == {"fp8"}  # published in fp8: served in fp8


def test_filters_and_price_overrides() -> None:
    space = build_space(
        Constraints(
            models=("llama-3.1-8b",),
            gpus=("l40s", "h100"),
            gpus_per_replica=2,
            precisions=("fp4",),
            kv_precisions=("fp8",),
            pricing=Pricing(per_gpu=(("l40s", 0.9),)),
        )
    )
    assert {c.gpu for c in space.configs} == {"l40s", "h100-sxm"}
    assert {(c.gpus, c.weight_precision, c.kv_precision) for c in space.configs} == {
        (2, "fp4", "fp8")
    }


@pytest.mark.parametrize(
    ("constraints", "field", "needle"),
    [
        (Constraints(models=("llama-3.1-8b",), gpus=("l40s",)), "gpu", "cannot be priced"),
        (Constraints(models=("llama-3.1-8b",), gpus=("h1000",)), "gpu", "h100"),
        (Constraints(models=()), "model", "at least one"),
        (
            Constraints(models=("llama-3.1-8b",), gpus=("h100",), gpus_per_replica=3),
            "gpus_per_replica",
            "exactly 3 GPUs",
        ),
        (Constraints(models=("llama-3.1-8b",), precisions=("fp7",)), "precision", "fp8"),
        (Constraints(models=("llama-3.1-8b",), kv_precisions=("fp7",)), "kv_precision", "fp8"),
        (
            Constraints(models=("llama-3.1-70b", "deepseek-v3"), max_candidates=1000),
            "max_candidates",
            "over the bound",
        ),
        (
            Constraints(models=("llama-3.1-8b",), pricing=Pricing(per_gpu=(("h100", -1.0),))),
            "price",
            "> 0",
        ),
    ],
)
def test_an_empty_or_oversized_search_is_refused_before_any_work(
    constraints: Constraints, field: str, needle: str
) -> None:
    with pytest.raises(InputError) as err:
        build_space(constraints)
    assert err.value.field == field
    assert needle in err.value.message


def test_owning_needs_a_catalog_server() -> None:
    space = build_space(Constraints(models=("llama-3.1-8b",), pricing=Pricing(mode="own")))
    assert {c.gpu for c in space.configs} <= {
        "a100-40gb", "a100-80gb", "h100-sxm", "h800", "h200", "b200"
    }  # fmt: skip
    assert any("no catalog server" in s for s in space.skipped)


def test_no_replica_is_wider_than_the_fleet_may_be() -> None:
    space = build_space(Constraints(models=("llama-3.1-405b",), gpus=("h100",), max_gpus=4))
    assert max(c.gpus for c in space.configs) == 4
