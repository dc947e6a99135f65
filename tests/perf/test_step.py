"""Roofline step time: decode is memory-bound at batch 1, a big prefill is compute-bound.

Paper values use the catalog rows: A100-80GB 2,039 GB/s, 312 TFLOPS bf16; H100 SXM 3,350
GB/s; default efficiencies 0.6 compute, 0.8 memory, 0.7 link, 1 ms step overhead, 10 µs per
collective.
"""

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infercost.perf.deployment import Efficiency, build
from infercost.perf.memory import memory_plan
from infercost.perf.step import decode_step, prefill_step

A100_7B = build("llama-2-7b", "a100-80gb", efficiency=Efficiency())


# --- decode at batch 1 -----------------------------------------------------------------------


@pytest.mark.parametrize("context", [0, 1, 64])
def test_llama_2_7b_decode_batch_1_on_paper(context: int) -> None:
    # Weights read per step, input embedding (a lookup) excluded:
    #   (6,738,149,376 - 131,072,000) params * 2 bytes = 13,214,154,752 bytes
    # memory time = 13,214,154,752 / (2.039e12 B/s * 0.8) = 13,214,154,752 / 1.6312e12
    #             = 8.1009 ms
    # + 1 ms overhead = 9.1009 ms. (KV traffic at <= 64 tokens: <= 65 * 524,288 B = 34 MB,
    # 21 µs, under 0.3 %; compute 2 * 6.6e9 / 187.2e12 = 71 µs is hidden under memory.)
    step = decode_step(A100_7B, 1, context)
    assert step.total_s == pytest.approx(9.1009e-3, rel=0.01)
    assert step.memory_s == pytest.approx(8.1009e-3, rel=0.01)
    assert step.bound == "memory"


def test_decode_at_batch_1_is_memory_bound() -> None:
    assert decode_step(A100_7B, 1, 1024).bound == "memory"


# --- prefill ---------------------------------------------------------------------------------


def test_large_prefill_is_compute_bound_on_paper() -> None:
    # 8 prompts x 2048 tokens = 16,384 tokens.
    # matmul: 2 FLOP * (16,384 tokens * 6,476,005,376 layer params
    #                   + 8 last tokens * 131,072,000 head params) = 212,207,841,312,768
    # attention: 16,384 tokens * 32 layers * 4 * 32 heads * 128 dims
    #            * mean context (2048 + 1) / 2 = 1024.5      = 8,800,387,989,504
    # (212,207,841,312,768 + 8,800,387,989,504) / (312e12 * 0.6 = 187.2e12) = 1.18060 s
    step = prefill_step(A100_7B, 8, 2048)
    assert step.compute_s == pytest.approx(1.18060, rel=0.01)
    assert step.bound == "compute"
    # memory: 13.2 GB weights + 16,384 * 524,288 B = 8.6 GB of new KV -> ~13 ms, far below
    assert step.memory_s < 0.05 * step.compute_s


# --- communication ---------------------------------------------------------------------------


def test_tp1_has_no_communication() -> None:
    assert decode_step(A100_7B, 8, 512).communication_s == 0.0


def test_tp2_adds_communication_on_paper() -> None:
    # 2 all-reduces per layer * 32 layers = 64, each:
    #   2 * (2 - 1) / 2 * (1 token * 4096 * 2 B = 8,192 B) / (300e9 B/s * 0.7) = 39 ns
    #   + 10 µs latency
    # 64 * 10.039 µs = 0.6425 ms
    dep = build("llama-2-7b", "a100-80gb", tp=2)
    step = decode_step(dep, 1, 0)
    assert step.communication_s > 0
    assert step.communication_s == pytest.approx(0.6425e-3, rel=0.01)


# --- precision -------------------------------------------------------------------------------


def test_fp8_weights_on_h100_halve_weight_read_time() -> None:
    # bf16: 13,214,154,752 B / (3.35e12 * 0.8) = 4.9307 ms
    # fp8:   6,607,077,376 B / 2.68e12          = 2.4653 ms
    bf16 = decode_step(build("llama-2-7b", "h100-sxm"), 1, 0)
    fp8 = decode_step(build("llama-2-7b", "h100-sxm", precision_name="fp8"), 1, 0)
    assert bf16.memory_s == pytest.approx(4.9307e-3, rel=0.01)
    assert fp8.memory_s == pytest.approx(2.4653e-3, rel=0.01)
    assert fp8.memory_s / bf16.memory_s == pytest.approx(0.5, rel=0.01)


# --- invariants ------------------------------------------------------------------------------

_DEPLOYMENTS = [
    A100_7B,
    build("llama-2-70b", "h100-sxm", tp=4),
    build("mixtral-8x7b", "h100-sxm", tp=2),
    build("deepseek-v3", "h200", tp=8, precision_name="fp8"),
    build("gpt-oss-120b", "h100-sxm", precision_name="mxfp4"),
]


@settings(max_examples=50, deadline=None)
@given(
    index=st.integers(0, len(_DEPLOYMENTS) - 1),
    context=st.integers(1, 8192),
    batch_share=st.floats(0.0, 1.0),
    more_share=st.floats(0.0, 1.0),
)
def test_larger_batch_never_lowers_decode_throughput(
    index: int, context: int, batch_share: float, more_share: float
) -> None:
    dep = _DEPLOYMENTS[index]
    fit = memory_plan(dep).max_sequences(context)
    if fit < 1:
        return
    small = 1 + round(batch_share * (fit - 1))
    large = small + round(more_share * (fit - small))
    small_rate = small / decode_step(dep, small, context).total_s
    large_rate = large / decode_step(dep, large, context).total_s
    assert large_rate >= small_rate * (1 - 1e-9)


@settings(max_examples=50, deadline=None)
@given(
    index=st.integers(0, len(_DEPLOYMENTS) - 1),
    batch=st.integers(1, 256),
    context=st.integers(0, 100_000),
    more=st.integers(0, 100_000),
)
def test_step_time_never_falls_as_context_grows(
    index: int, batch: int, context: int, more: int
) -> None:
    dep = _DEPLOYMENTS[index]
    shorter = decode_step(dep, batch, context).total_s
    assert decode_step(dep, batch, context + more).total_s >= shorter * (1 - 1e-12)


def test_step_to_dict_keys() -> None:
    d = decode_step(A100_7B, 4, 128).to_dict()
    assert {"compute_s", "memory_s", "communication_s", "overhead_s", "bound"} <= set(d)
    assert d["bound"] in ("compute", "memory", "communication", "overhead")
    assert d["overhead_s"] == pytest.approx(1e-3)


# --- kernels and experts ---------------------------------------------------------------------


def test_compute_bound_matmuls_do_not_hide_memory_bound_attention() -> None:
    # At batch 512 the 7B matmuls are compute-bound; longer contexts add KV reads that a
    # separate attention kernel pays for, so the step grows with context.
    short, long = decode_step(A100_7B, 512, 256), decode_step(A100_7B, 512, 2048)
    assert long.total_s > short.total_s * 1.5
    # One max over the step's totals would give max(compute, memory); per kernel it is more.
    assert long.busy_s > 1.05 * max(long.compute_s, long.memory_s)


def test_cross_node_dispatch_is_capped_by_group_limited_routing() -> None:
    from dataclasses import replace

    dep = build("deepseek-v3", "h800", dp_attention=32, ep=32, precision_name="fp8")
    moe = dep.model.moe
    assert moe is not None
    assert moe.max_groups_per_token == 4
    free = replace(dep, model=replace(dep.model, moe=replace(moe, max_groups_per_token=0)))
    capped_step = prefill_step(dep, 32, 2048)
    free_step = prefill_step(free, 32, 2048)
    # Four nodes: unconstrained, a token with 8 experts reaches 4 * (1 - 0.75**8) = 3.6 nodes;
    # the cap of 4 does not bind, so both agree; both send far less than 8 copies per token.
    assert capped_step.communication_s == pytest.approx(free_step.communication_s)
    wide = build("deepseek-v3", "h800", dp_attention=144, ep=144, precision_name="fp8")
    wide_free = replace(wide, model=replace(wide.model, moe=replace(moe, max_groups_per_token=0)))
    assert (
        prefill_step(wide, 144, 2048).communication_s
        < prefill_step(wide_free, 144, 2048).communication_s
    )


def test_decode_dispatch_over_nodes_sends_every_expert_copy_over_rdma() -> None:
    # DeepEP's low-latency kernels (decode): 64 tokens per GPU, each to its 8 experts'
    # GPUs directly, 143/144 of them remote, FP8 out (1 byte) and BF16 back (2 bytes):
    # 64 * 8 * 143/144 * 7168 * 3 = 10.93 MB per layer over 50 GB/s * 0.7 = 312.4 us,
    # plus two 10 us latencies, in each of 58 MoE layers = 19.28 ms.
    wide = build("deepseek-v3", "h800", dp_attention=144, ep=144, precision_name="fp8")
    assert wide.inter_node_bandwidth_bytes_per_s == pytest.approx(50e9)
    step = decode_step(wide, 144 * 64, 4096)
    assert step.communication_s == pytest.approx(58 * (10.93e6 / 35e9 + 20e-6), rel=1e-3)
    # Inside one node the same decode step forwards nothing over the network.
    node = build("deepseek-v3", "h800", dp_attention=8, ep=8, precision_name="fp8")
    assert decode_step(node, 8 * 64, 4096).communication_s < step.communication_s / 2


def test_attention_compute_sets_the_attention_kernels_rate_only() -> None:
    from dataclasses import replace

    dep = build("deepseek-v3", "h800", dp_attention=8, ep=8, precision_name="fp8")
    base = decode_step(dep, 8 * 128, 4096)
    same = replace(dep, efficiency=replace(dep.efficiency, attention_compute=0.6))
    assert decode_step(same, 8 * 128, 4096).total_s == pytest.approx(base.total_s)
    faster = replace(dep, efficiency=replace(dep.efficiency, attention_compute=0.9))
    assert decode_step(faster, 8 * 128, 4096).compute_s < base.compute_s


def test_a_step_memo_shared_over_other_factors_changes_no_step() -> None:
    # validation's fit: one replica's copies over trial factors share the steps' work
    moe = build("mixtral-8x7b", "h100-sxm", tp=2, ep=2)
    shared = replace(moe, step_memo={})
    trials = [Efficiency(), replace(Efficiency(), compute=0.3, memory=0.5, link=0.4)]
    for eff in trials * 2:  # the second round reads the memo
        plain, memoised = replace(moe, efficiency=eff), replace(shared, efficiency=eff)
        for step in (decode_step, prefill_step):
            assert step(memoised, 16, 512) == step(plain, 16, 512)
    assert len(shared.step_memo or {}) == 2 * 2  # one entry per step kind and link factor
