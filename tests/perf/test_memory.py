"""Memory plan: weight bytes, KV bytes per token, TP sharding of the KV cache, what fits.

Every expected number is worked by hand from the architecture in the catalog row and written
as a literal; the arithmetic is in the comment beside it.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infercost.catalog.models import model
from infercost.perf.deployment import build
from infercost.perf.memory import (
    kv_bytes_for_context,
    kv_bytes_per_token,
    memory_plan,
    weight_bytes,
)
from infercost.units import PRECISIONS

BF16 = PRECISIONS["bf16"]
FP8 = PRECISIONS["fp8"]


# --- weights ---------------------------------------------------------------------------------


def test_llama_2_7b_bf16_weights() -> None:
    # 6,738,149,376 params (32 * (4 * 4096^2 + 3 * 4096 * 11008) + 2 * 32000 * 4096)
    # * 2 bytes = 13,476,298,752 bytes ≈ 13.48 GB
    assert weight_bytes(model("llama-2-7b"), BF16) == 13_476_298_752


def test_llama_2_7b_fp8_weights_are_half() -> None:
    # 6,738,149,376 params * 1 byte
    assert weight_bytes(model("llama-2-7b"), FP8) == 6_738_149_376


def test_plan_weights_per_gpu_split_by_tp() -> None:
    # Llama-2-70B: 68,975,329,280 params * 2 bytes = 137,950,658,560; / 4 = 34,487,664,640
    dep = build("llama-2-70b", "h100-sxm", tp=4)
    assert memory_plan(dep).weights_bytes == pytest.approx(34_487_664_640)


# --- KV bytes per token ----------------------------------------------------------------------


def test_kv_per_token_llama_2_7b_mha() -> None:
    # 2 (K, V) * 32 layers * 32 kv heads * 128 head_dim * 2 bytes = 524,288
    assert kv_bytes_per_token(model("llama-2-7b"), BF16) == 524_288


def test_kv_per_token_llama_2_7b_fp8_kv() -> None:
    # 2 * 32 * 32 * 128 * 1 byte = 262,144
    assert kv_bytes_per_token(model("llama-2-7b"), FP8) == 262_144


def test_kv_per_token_llama_2_70b_gqa() -> None:
    # 2 * 80 layers * 8 kv heads * 128 * 2 bytes = 327,680 (MHA would be 8x that)
    assert kv_bytes_per_token(model("llama-2-70b"), BF16) == 327_680


def test_kv_per_token_deepseek_v3_mla() -> None:
    # 61 layers * (512 kv_lora_rank + 64 rope dims) * 2 bytes = 70,272
    assert kv_bytes_per_token(model("deepseek-v3"), BF16) == 70_272


def test_plan_reports_kv_bytes_per_token_in_kv_precision() -> None:
    dep = build("llama-2-7b", "a100-80gb", kv_precision_name="fp8")
    assert memory_plan(dep).kv_bytes_per_token == 262_144  # 2 * 32 * 32 * 128 * 1


# --- sliding windows -------------------------------------------------------------------------


def test_gpt_oss_per_token_counts_every_layer() -> None:
    # 36 layers * 2 * 8 kv heads * 64 head_dim * 2 bytes = 36 * 2,048 = 73,728
    assert kv_bytes_per_token(model("gpt-oss-120b"), BF16) == 73_728


def test_gpt_oss_windowed_layers_cap_at_128_tokens() -> None:
    # per layer and token: 2 * 8 * 64 * 2 = 2,048 bytes
    # 18 full layers * 10,000 tokens * 2,048 = 368,640,000
    # 18 windowed layers * 128 tokens * 2,048 = 4,718,592
    # total 373,358,592, about half of 10,000 * 73,728 = 737,280,000
    kv = kv_bytes_for_context(model("gpt-oss-120b"), BF16, 10_000)
    assert kv == pytest.approx(373_358_592)
    assert kv < 0.51 * 10_000 * 73_728


def test_gpt_oss_inside_the_window_every_layer_keeps_every_token() -> None:
    # 100 tokens < 128 window: 100 * 73,728 = 7,372,800
    assert kv_bytes_for_context(model("gpt-oss-120b"), BF16, 100) == pytest.approx(7_372_800)


def test_dense_model_context_kv_is_linear() -> None:
    # no window: 10,000 * 524,288 = 5,242,880,000
    kv = kv_bytes_for_context(model("llama-2-7b"), BF16, 10_000)
    assert kv == pytest.approx(5_242_880_000)


# --- TP sharding of the KV cache -------------------------------------------------------------


@pytest.mark.parametrize(("tp", "shards"), [(1, 1), (2, 2), (4, 4), (8, 8), (16, 8)])
def test_tp_splits_gqa_kv_heads_but_not_below_one_head(tp: int, shards: int) -> None:
    # Llama-2-70B has 8 KV heads: TP up to 8 splits each token's KV tp ways, so the replica
    # holds tp times the KV one accelerator has room for; past 8 ranks duplicate heads.
    # (fp8 weights, 69 GB, so that tp=1 fits on one 141 GB H200 too.)
    plan = memory_plan(build("llama-2-70b", "h200", tp=tp, precision_name="fp8"))
    assert plan.fits
    assert plan.kv_budget_bytes / plan.kv_free_bytes == pytest.approx(shards)


def test_mla_latent_is_not_split_by_tp() -> None:
    # One latent per token and layer, no heads: every one of the 8 ranks keeps all of it.
    plan = memory_plan(build("deepseek-v3", "h200", tp=8, precision_name="fp8"))
    assert plan.fits
    assert plan.kv_budget_bytes == pytest.approx(plan.kv_free_bytes)


def test_attention_dp_gives_each_copy_its_own_sequences() -> None:
    # dp_attention=8, tp=1: eight attention copies each hold a full latent per sequence
    plan = memory_plan(build("deepseek-v3", "h200", dp_attention=8, precision_name="fp8"))
    assert plan.fits
    assert plan.kv_budget_bytes == pytest.approx(8 * plan.kv_free_bytes)


# --- what fits -------------------------------------------------------------------------------


def test_70b_bf16_does_not_fit_one_a100_80gb() -> None:
    # 137.95 GB of weights on an 80 GB card
    plan = memory_plan(build("llama-2-70b", "a100-80gb"))
    assert not plan.fits
    assert plan.max_sequences(1024) == 0


@pytest.mark.parametrize("tp", [2, 4, 8])
def test_70b_bf16_fits_with_tp_2_or_more(tp: int) -> None:
    # tp=2: 80 * 0.9 - 68.98 GB weights - ~1.02 GB activations ≈ 2.0 GB free per GPU
    plan = memory_plan(build("llama-2-70b", "a100-80gb", tp=tp))
    assert plan.fits
    assert plan.max_sequences(1024) > 0


def test_llama_2_7b_a100_max_sequences_by_hand() -> None:
    # free = 80e9 * (1 - 0.10 reserve)                           = 72,000,000,000
    #      - weights 13,476,298,752
    #      - activations 8192 tok * (4 * 4096 + 2 * 11008) * 2 B = 629,145,600
    #                    + logits 256 * 32000 * 4 B             = 32,768,000
    #      = 57,861,787,648 bytes
    # at 4096 tokens a sequence is 4096 * 524,288 = 2,147,483,648 B -> 26 fit (27 need 57.98 GB)
    # at 2048 tokens: 1,073,741,824 B -> 53 fit (54 need 57.98 GB)
    plan = memory_plan(build("llama-2-7b", "a100-80gb"))
    assert plan.kv_free_bytes == pytest.approx(57_861_787_648, rel=1e-3)
    assert plan.max_sequences(4096) == 26
    assert plan.max_sequences(2048) == 53


def test_max_sequences_is_zero_at_zero_context() -> None:
    assert memory_plan(build("llama-2-7b", "a100-80gb")).max_sequences(0) == 0


_PLANS = [
    memory_plan(build("llama-2-7b", "a100-80gb")),
    memory_plan(build("llama-2-70b", "h100-sxm", tp=4)),
    memory_plan(build("gpt-oss-120b", "h100-sxm", precision_name="mxfp4")),
    memory_plan(build("deepseek-v3", "h200", tp=8, precision_name="fp8")),
]


@settings(max_examples=50, deadline=None)
@given(
    plan_index=st.integers(0, len(_PLANS) - 1),
    short=st.integers(1, 100_000),
    extra=st.integers(0, 100_000),
)
def test_max_sequences_never_grows_with_context(plan_index: int, short: int, extra: int) -> None:
    plan = _PLANS[plan_index]
    assert plan.max_sequences(short + extra) <= plan.max_sequences(short)


def test_max_sequences_drops_as_context_doubles() -> None:
    plan = memory_plan(build("llama-2-7b", "a100-80gb"))
    counts = [plan.max_sequences(c) for c in (512, 1024, 2048, 4096)]
    assert counts == sorted(counts, reverse=True)
    assert counts[0] > counts[-1]
