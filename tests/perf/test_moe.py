"""Expected distinct experts a batch touches: k for one token, E for a huge batch."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infercost.perf.moe import expected_distinct_experts


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
