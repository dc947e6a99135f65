"""Speculative decoding: τ tokens per verify step of k + 1 query tokens, plus the draft."""

import pytest

from infercost.errors import InputError
from infercost.perf.deployment import Efficiency, build
from infercost.perf.replica import replica_performance
from infercost.perf.speculative import acceptance_length, speculation
from infercost.perf.step import decode_step, verify_step

H100_8B = build("llama-3.1-8b", "h100-sxm", efficiency=Efficiency())


def _with(k: int, tau: float, draft: float) -> object:
    spec = speculation("eagle", k, 32, length=tau, draft_step_fraction=draft)
    return build("llama-3.1-8b", "h100-sxm", efficiency=Efficiency(), speculation=spec)


def test_no_draft_tokens_is_plain_decoding() -> None:
    plain = replica_performance(H100_8B, 32, 1000, 200)
    none = replica_performance(_with(0, 1.0, 0.0), 32, 1000, 200)  # type: ignore[arg-type]
    assert none.output_tokens_per_s == plain.output_tokens_per_s
    assert none.tpot_s == plain.tpot_s


def test_nothing_accepted_and_free_draft_is_never_faster() -> None:
    # τ = 1: every verify step emits one token, but it verified k + 1: never faster.
    plain = replica_performance(H100_8B, 32, 1000, 200)
    spec = replica_performance(_with(3, 1.0, 0.0), 32, 1000, 200)  # type: ignore[arg-type]
    assert spec.output_tokens_per_s <= plain.output_tokens_per_s
    assert spec.tpot_s >= plain.tpot_s


def test_memory_bound_verify_costs_about_one_step_so_tau_divides_time() -> None:
    # Batch 1, 8B: the step reads 16 GB of weights whether it checks 1 or 4 tokens, so a
    # verify step of 4 tokens costs about one decode step, and time per token ≈ step / τ.
    dep = _with(3, 2.5, 0.0)
    step = decode_step(H100_8B, 1, 1000).total_s
    verify = verify_step(dep, 1, 1000).total_s  # type: ignore[arg-type]
    assert verify == pytest.approx(step, rel=0.02)
    perf = replica_performance(dep, 1, 1000, 200)  # type: ignore[arg-type]
    mean_context = 1000 + 200 / 2
    assert perf.tpot_s == pytest.approx(verify_step(dep, 1, mean_context).total_s / 2.5)  # type: ignore[arg-type]


def test_draft_cost_adds_k_fractions_of_a_step() -> None:
    free, paid = _with(2, 2.0, 0.0), _with(2, 2.0, 0.1)
    one = decode_step(H100_8B, 8, 1000).total_s
    gap = verify_step(paid, 8, 1000).total_s - verify_step(free, 8, 1000).total_s  # type: ignore[arg-type]
    assert gap == pytest.approx(2 * 0.1 * one)


def test_acceptance_length_from_rate() -> None:
    # DeepSeek-V3 MTP, one draft token accepted 85 %: τ = 1 + 0.85 = 1.85.
    assert acceptance_length(1, 0.85) == pytest.approx(1.85)
    assert acceptance_length(3, 0.0) == 1.0
    assert acceptance_length(3, 1.0) == 4.0
    # (1 - 0.5^4) / (1 - 0.5) = 1.875
    assert acceptance_length(3, 0.5) == pytest.approx(1.875)


def test_mtp_draft_is_one_layer_of_the_target() -> None:
    assert speculation("mtp", 1, 61, rate=0.85).draft_step_fraction == pytest.approx(1 / 61)
    assert speculation("ngram", 4, 61, length=1.5).draft_step_fraction == 0.0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"length": 3.0}, "spec_acceptance_length"),  # τ > k + 1
        ({"length": 0.5}, "spec_acceptance_length"),
        ({}, "spec_acceptance_length"),
    ],
)
def test_bad_speculation_is_refused(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(InputError, match=field):
        speculation("mtp", 1, 61, **kwargs)  # type: ignore[arg-type]


def test_a_draft_model_must_state_its_cost() -> None:
    with pytest.raises(InputError, match="spec_draft_cost"):
        speculation("draft", 4, 32, length=2.0)


def test_mla_verify_keeps_the_absorbed_form() -> None:
    # DeepSeek-V3 decode: two query tokens cost about twice one token's attention FLOPs
    # (FlashMLA's decode kernel), not the cheaper expanded prefill form.
    spec = speculation("mtp", 1, 61, length=1.85, draft_step_fraction=0.0)
    dsv3 = build("deepseek-v3", "h800", dp_attention=8, ep=8, precision_name="fp8")
    mtp = build("deepseek-v3", "h800", dp_attention=8, ep=8, precision_name="fp8", speculation=spec)
    one, two = decode_step(dsv3, 64, 4000), verify_step(mtp, 64, 4000)
    assert two.flops_per_gpu == pytest.approx(2 * one.flops_per_gpu, rel=0.01)
