"""Replica throughput and interactivity from the decode step, with prefill riding along."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infercost.errors import InputError
from infercost.perf.deployment import build
from infercost.perf.memory import memory_plan
from infercost.perf.replica import replica_performance
from infercost.perf.step import decode_step, prefill_step

A100_7B = build("llama-2-7b", "a100-80gb")
H100_8B = build("llama-3.1-8b", "h100-sxm")


def max_concurrency(dep: object, input_tokens: float, output_tokens: float) -> int:
    return memory_plan(dep).max_sequences(input_tokens + output_tokens / 2)  # type: ignore[arg-type]


def test_throughput_counts_every_prefill() -> None:
    perf = replica_performance(A100_7B, 16, 1024, 256)
    per_token = perf.decode.total_s + 16 * perf.prefill_s_per_request / 256
    assert perf.replica_s_per_token == pytest.approx(per_token)
    assert perf.output_tokens_per_s == pytest.approx(16 / per_token)
    assert perf.requests_per_s == pytest.approx(16 / per_token / 256)


def test_a_users_own_prefill_is_in_its_ttft_not_its_tpot() -> None:
    # The case: one request at a time, a 32,000-token prompt, 100 output tokens.
    # Alone, a user decodes at the bare decode step; its prefill is its time to first token.
    perf = replica_performance(H100_8B, 1, 32_000, 100)
    assert perf.tpot_s == pytest.approx(perf.decode.total_s)
    assert perf.ttft_s == pytest.approx(prefill_step(H100_8B, 1, 32_000).total_s, rel=0.02)
    assert perf.e2e_s == pytest.approx(perf.ttft_s + 99 * perf.tpot_s)
    # The replica's throughput still pays for the prefill: far below one token per step.
    assert perf.output_tokens_per_s < 0.5 / perf.decode.total_s


def test_other_users_prefills_stall_a_user_who_decodes() -> None:
    alone = replica_performance(H100_8B, 1, 4000, 400)
    crowded = replica_performance(H100_8B, 8, 4000, 400)
    assert crowded.tpot_s > crowded.decode.total_s > alone.decode.total_s
    # Seven other prompts of 4,000 tokens land in each user's 399 decode steps.
    assert (crowded.tpot_s - crowded.decode.total_s) * 399 == pytest.approx(
        7 * crowded.stall_s_per_prefill
    )


def test_interactivity_is_one_over_tpot() -> None:
    perf = replica_performance(A100_7B, 16, 1024, 256)
    assert perf.interactivity_tokens_per_s == pytest.approx(1 / perf.tpot_s)


def test_without_prefill_tpot_is_the_decode_step() -> None:
    # mean context over a request's life: 1024 + 256 / 2 = 1152
    perf = replica_performance(A100_7B, 16, 1024, 256, include_prefill=False)
    assert perf.prefill_s_per_request == 0.0
    assert perf.tpot_s == pytest.approx(decode_step(A100_7B, 16, 1152).total_s)


def test_decode_only_tpot_on_paper() -> None:
    # One sequence, no prompt, 2 output tokens: a batch-1 decode step at context 1.
    # 13,214,154,752 weight bytes / (2.039e12 * 0.8) = 8.1009 ms, + 1 ms overhead = 9.1009 ms
    perf = replica_performance(A100_7B, 1, 0, 2, include_prefill=False)
    assert perf.tpot_s == pytest.approx(9.1009e-3, rel=0.01)
    assert perf.interactivity_tokens_per_s == pytest.approx(1 / 9.1009e-3, rel=0.01)


def test_prefill_slows_tpot() -> None:
    with_prefill = replica_performance(A100_7B, 16, 1024, 256)
    without = replica_performance(A100_7B, 16, 1024, 256, include_prefill=False)
    assert with_prefill.prefill_s_per_request > 0
    assert with_prefill.tpot_s > without.tpot_s
    assert 0 < with_prefill.prefill_time_share < 1


def test_a_prompt_riding_with_decodes_stalls_less_than_one_run_apart() -> None:
    # Short prompts on a memory-bound decode: chunked prefill hides most of the work.
    mixed = replica_performance(H100_8B, 32, 200, 200, mixed_prefill=True)
    apart = replica_performance(H100_8B, 32, 200, 200, mixed_prefill=False)
    assert mixed.stall_s_per_prefill < 0.5 * apart.stall_s_per_prefill
    assert mixed.tpot_s < apart.tpot_s
    assert mixed.output_tokens_per_s == pytest.approx(apart.output_tokens_per_s)


def test_a_multi_step_group_makes_a_new_prompt_wait_longer() -> None:
    one = replica_performance(H100_8B, 16, 500, 200, scheduler_steps=1)
    ten = replica_performance(H100_8B, 16, 500, 200, scheduler_steps=10)
    assert ten.wait_s == pytest.approx(10 * one.wait_s)
    assert one.wait_s == pytest.approx(one.decode.total_s / 2)


def test_prefix_cache_lowers_prefill_time() -> None:
    fresh = replica_performance(A100_7B, 16, 2048, 256)
    cached = replica_performance(A100_7B, 16, 2048, 256, cached_fraction=0.5)
    assert cached.prefill_s_per_request < fresh.prefill_s_per_request
    assert cached.ttft_s < fresh.ttft_s
    assert cached.output_tokens_per_s > fresh.output_tokens_per_s


def test_max_concurrency_on_paper() -> None:
    # mean context 2048 + 4096 / 2 = 4096 tokens -> 4096 * 524,288 B = 2.147 GB a sequence;
    # 57.86 GB of free KV space per A100-80GB (see test_memory) holds 26.
    assert max_concurrency(A100_7B, 2048, 4096) == 26


@pytest.mark.parametrize(
    ("field", "args"),
    [
        ("concurrency", (0, 128, 128)),
        ("output_tokens", (1, 128, 0)),
        ("input_tokens", (1, -1, 128)),
    ],
)
def test_bad_request_names_the_field(field: str, args: tuple[float, float, float]) -> None:
    with pytest.raises(InputError) as err:
        replica_performance(A100_7B, *args)
    assert err.value.field == field


_DEPLOYMENTS = [
    A100_7B,
    build("llama-2-70b", "h100-sxm", tp=4),
    build("mixtral-8x7b", "h100-sxm", tp=2),
    build("gpt-oss-120b", "h100-sxm", precision_name="mxfp4"),
]


@settings(max_examples=50, deadline=None)
@given(
    index=st.integers(0, len(_DEPLOYMENTS) - 1),
    input_tokens=st.integers(0, 8192),
    output_tokens=st.integers(1, 4096),
    low_share=st.floats(0.0, 1.0),
    high_share=st.floats(0.0, 1.0),
    prefill=st.booleans(),
)
def test_higher_concurrency_never_lowers_throughput(
    index: int,
    input_tokens: int,
    output_tokens: int,
    low_share: float,
    high_share: float,
    prefill: bool,
) -> None:
    dep = _DEPLOYMENTS[index]
    top = max_concurrency(dep, input_tokens, output_tokens)
    if top < 1:
        return
    low = 1 + round(low_share * (top - 1))
    high = low + round(high_share * (top - low))
    kw = {"include_prefill": prefill}
    slow = replica_performance(dep, low, input_tokens, output_tokens, **kw)
    fast = replica_performance(dep, high, input_tokens, output_tokens, **kw)
    assert fast.output_tokens_per_s >= slow.output_tokens_per_s * (1 - 1e-9)


def test_a_closed_loop_in_lockstep_prefills_everyone_together() -> None:
    # N requests that all come back at once: a user's first token waits for all N prompts,
    # nobody's prefill lands in anyone's decoding, and nothing runs when they arrive.
    spread = replica_performance(H100_8B, 8, 2000, 200)
    lockstep = replica_performance(H100_8B, 8, 2000, 200, arrival_group=8)
    assert lockstep.ttft_s == pytest.approx(prefill_step(H100_8B, 8, 2000).total_s)
    assert lockstep.tpot_s == pytest.approx(lockstep.decode.total_s)
    assert lockstep.ttft_s > spread.ttft_s
    assert lockstep.tpot_s < spread.tpot_s
    # The same work either way: every prompt is prefilled once.
    assert lockstep.output_tokens_per_s == pytest.approx(spread.output_tokens_per_s)


def test_groups_between_one_and_everyone() -> None:
    one = replica_performance(H100_8B, 8, 2000, 200, arrival_group=1)
    pairs = replica_performance(H100_8B, 8, 2000, 200, arrival_group=2)
    assert one.ttft_s == pytest.approx(replica_performance(H100_8B, 8, 2000, 200).ttft_s)
    assert pairs.others == pytest.approx(3)  # the three other pairs stall a user
    assert one.ttft_s < pairs.ttft_s
    assert pairs.tpot_s < one.tpot_s
    # A group is never larger than the requests in flight.
    assert replica_performance(H100_8B, 4, 2000, 200, arrival_group=9).group == 4
