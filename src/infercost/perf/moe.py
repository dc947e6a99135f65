"""Expected number of distinct experts a batch touches.

Each of `tokens` tokens picks `k` of `experts` experts. Treating each pick of a token as an
independent draw with probability k/E of landing on a given expert, the chance that one expert
is picked by nobody is (1 - k/E)^tokens, so

    E[distinct experts] = E · (1 - (1 - k/E)^tokens)

One token touches exactly k; a large batch touches all E, which is why MoE decode at scale
reads every expert's weights and approaches the cost of a dense model of the same total size
in bytes, but not in FLOPs. Routing is assumed balanced (no hot experts).
"""

from __future__ import annotations

from infercost.elementwise import choose


def expected_distinct_experts(experts: int, top_k: int, tokens: float) -> float:
    """Expected distinct experts among `experts` touched by `tokens` tokens picking `top_k`."""
    if experts <= 0 or top_k <= 0:
        return 0.0
    untouched: float = (1.0 - top_k / experts) ** tokens
    one = top_k * tokens  # at most one token: exactly k experts each
    return choose(tokens <= 0, 0.0, choose(tokens <= 1, one, experts * (1.0 - untouched)))
