"""Expected distinct experts a batch touches: k for one token, E for a huge batch."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infercost.perf.moe import expected_distinct_experts, expert_load_factor


@pytest.mark.parametrize(("experts", "top_k"), [(8, 2), (128, 4), (256, 8), (16, 16)])
def test_one_token_touches_k(experts: int, top_k: int) -> None:
    assert expected_distinct_experts(experts, top_k, 1) == pytest.approx(top_k)


@pytest.mark.parametrize(("experts", "top_k"), [(8, 2), (128, 4), (256, 8)])
def test_huge_batch_touches_every_expert(experts: int, top_k: int) -> None:
    assert expected_distinct_experts(experts, top_k, 1_000_000) == pytest.approx(experts)


def test_mixtral_two_tokens_by_hand() -> None:
    # E = 8, k = 2, 2 tokens: 8 * (1 - (6/8)^2) = 8 * (1 - 0.5625) = 3.5
    assert expected_distinct_experts(8, 2, 2) == pytest.approx(3.5)


def test_deepseek_64_tokens_by_hand() -> None:
    # E = 256, k = 8, 64 tokens: (248/256)^64 = 0.96875^64 = exp(64 * -0.031749) = 0.131084
    #   256 * (1 - 0.131084) = 222.442
    assert expected_distinct_experts(256, 8, 64) == pytest.approx(222.442, rel=1e-5)


def test_no_tokens_touch_nothing() -> None:
    assert expected_distinct_experts(8, 2, 0) == 0.0


def test_a_dense_model_has_no_experts() -> None:
    assert expected_distinct_experts(0, 0, 100) == 0.0


@settings(max_examples=50, deadline=None)
@given(
    experts=st.integers(1, 512),
    k_share=st.floats(0.0, 1.0),
    tokens=st.floats(0.0, 5_000.0),
    more=st.floats(0.0, 5_000.0),
)
def test_monotone_in_tokens(experts: int, k_share: float, tokens: float, more: float) -> None:
    top_k = max(1, round(k_share * experts))
    fewer = expected_distinct_experts(experts, top_k, tokens)
    assert expected_distinct_experts(experts, top_k, tokens + more) >= fewer - 1e-9


@settings(max_examples=50, deadline=None)
@given(experts=st.integers(1, 512), k_share=st.floats(0.0, 1.0), tokens=st.floats(0.0, 1e5))
def test_bounded_by_k_per_token_and_by_e(experts: int, k_share: float, tokens: float) -> None:
    # Never more experts than exist, nor than the picks made (k per token).
    top_k = max(1, round(k_share * experts))
    touched = expected_distinct_experts(experts, top_k, tokens)
    assert 0.0 <= touched <= experts + 1e-9
    assert touched <= top_k * tokens + 1e-9


# --- expert load imbalance -------------------------------------------------------------------


@pytest.mark.parametrize("tokens", [1.0, 1e3, 1e7])
def test_unstated_balance_is_even_routing(tokens: float) -> None:
    assert expert_load_factor(None, 8, 144, tokens) == 1.0
    assert expert_load_factor("none", 8, 1, tokens) == 1.0  # one GPU: nothing to wait for


def test_perfectly_balanced_routing_is_todays_step() -> None:
    # A balancer's only residue is sampling noise; with 10^7 routed tokens per GPU it is
    # 0.1 %, and the step is the even-routing step.
    from infercost.perf.deployment import build
    from infercost.perf.step import prefill_step

    kw = {"dp_attention": 32, "ep": 32, "precision_name": "fp8"}
    even = build("deepseek-v3", "h800", **kw)  # type: ignore[arg-type]
    eplb = build("deepseek-v3", "h800", expert_balance="balanced", **kw)  # type: ignore[arg-type]
    a, b = prefill_step(even, 32 * 4000, 8192), prefill_step(eplb, 32 * 4000, 8192)
    assert b.total_s == pytest.approx(a.total_s, rel=2e-3)
    assert b.total_s >= a.total_s


def test_balancer_leaves_poisson_noise() -> None:
    # 144 GPUs, 1,024 routed tokens each on average: 1 + sqrt(2 ln 144 / 1024) = 1.0985.
    assert expert_load_factor("balanced", 8, 144, 1024 * 144 / 8) == pytest.approx(1.0985, rel=1e-3)
    # 16 K-token prefill per GPU: the noise nearly vanishes.
    assert expert_load_factor("balanced", 8, 32, 16384 * 32) < 1.01


def test_no_balancer_is_slower_than_a_balancer() -> None:
    for tokens in (10.0, 1e3, 1e6):
        assert expert_load_factor("none", 8, 32, tokens) > expert_load_factor(
            "balanced", 8, 32, tokens
        )
    assert expert_load_factor("none", 8, 32, 1e9) == pytest.approx(59_337 / 50_302, rel=1e-3)


def test_the_busiest_gpu_sets_the_step() -> None:
    from infercost.perf.deployment import build
    from infercost.perf.step import prefill_step

    kw = {"dp_attention": 32, "ep": 32, "precision_name": "fp8"}
    even = build("deepseek-v3", "h800", **kw)  # type: ignore[arg-type]
    skewed = build("deepseek-v3", "h800", expert_balance="none", **kw)  # type: ignore[arg-type]
    a, b = prefill_step(even, 128, 4096), prefill_step(skewed, 128, 4096)
    assert a.total_s < b.total_s < a.total_s * 59_337 / 50_302
