"""Experts a batch touches, and how unevenly their tokens land on the expert-parallel GPUs.

Each of `tokens` tokens picks `k` of `experts` experts. Treating each pick of a token as an
independent draw with probability k/E of landing on a given expert, the chance that one expert
is picked by nobody is (1 - k/E)^tokens, so

    E[distinct experts] = E · (1 - (1 - k/E)^tokens)

One token touches exactly k; a large batch touches all E, which is why MoE decode at scale
reads every expert's weights and approaches the cost of a dense model of the same total size
in bytes, but not in FLOPs.

**Load imbalance.** Under expert parallelism every GPU waits for the busiest one at each
MoE layer (the combine all-to-all is a barrier), so the routed-expert work and the dispatch
of a step are set by the largest per-GPU load, not the mean. `expert_load_factor` gives
max ÷ mean per-GPU routed tokens:

    none (no balancer)    the experts' uneven popularity: SGLang measured DeepSeek-V3 prefill
                          on 4 × 8 H100 (EP32, 4 K prompts, 16 K tokens per GPU) at 50,302
                          tokens/s per node with the default expert placement and 59,337
                          with a simulated perfect balance (LMSYS blog, 5 May 2025,
                          https://lmsys.org/blog/2025-05-05-large-scale-ep/): the busiest
                          GPU's routed work is at least 59,337 / 50,302 = 1.18 × the mean
                          (the whole step slowed 1.18 ×, so its MoE part at least as much:
                          a lower bound). The blog says imbalance grows with the EP size;
                          one published point is all we use.
    balanced (EPLB etc.)  a balancer (DeepSeek's EPLB, https://github.com/deepseek-ai/EPLB,
                          redundant copies of hot experts) equalises the expected loads;
                          what is left is the step's sampling noise, derived: with
                          μ = tokens · k / G routed tokens per GPU on average and each GPU's
                          count ≈ Poisson(μ), the expected maximum over G GPUs is about
                          μ + √(2 · μ · ln G) (Gaussian tail), so the factor is
                          1 + √(2 · ln G / μ). Small at prefill (μ ~ 10⁵), ~10 % for a
                          DeepSeek decode step (μ ~ 10³ over 144 GPUs).
    None (not stated)     routing taken as perfectly even: factor 1 (the profile DeepSeek
                          published simulates exactly that).

Without a balancer the sampling noise applies on top of the skew.
"""

from __future__ import annotations

import math

from infercost.elementwise import choose, maximum

BALANCES = ("balanced", "none")
# SGLang's DeepSeek-V3 prefill, 4 × 8 H100: simulated perfect balance ÷ default placement.
UNBALANCED_SKEW = 59_337 / 50_302


def expected_distinct_experts(experts: int, top_k: int, tokens: float) -> float:
    """Expected distinct experts among `experts` touched by `tokens` tokens picking `top_k`."""
    if experts <= 0 or top_k <= 0:
        return 0.0
    untouched: float = (1.0 - top_k / experts) ** tokens
    one = top_k * tokens  # at most one token: exactly k experts each
    return choose(tokens <= 0, 0.0, choose(tokens <= 1, one, experts * (1.0 - untouched)))


def expert_load_factor(balance: str | None, top_k: int, gpus: int, tokens: float) -> float:
    """Busiest GPU's routed tokens ÷ the mean, for `tokens` tokens over `gpus` EP ranks."""
    if balance is None or gpus <= 1:
        return 1.0
    mean = maximum(tokens * top_k / gpus, 1.0)  # routed tokens per GPU (at least one)
    noise: float = 1.0 + (2.0 * math.log(gpus) / mean) ** 0.5
    return noise * UNBALANCED_SKEW if balance == "none" else noise
