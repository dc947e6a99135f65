"""Speculative decoding: several tokens per target-model step, at the cost of a verify pass.

A drafter (a draft model, EAGLE's head, DeepSeek's MTP module, or n-gram lookup) proposes k
tokens per sequence; the target model then runs one step over k + 1 query tokens per
sequence (the last accepted token and the k drafts) and keeps the longest prefix it agrees
with, plus one token of its own. Per sequence and verify step:

    τ (acceptance length) = mean tokens emitted per verify step, 1 ≤ τ ≤ k + 1
        stated, or from a per-token acceptance rate a (i.i.d. acceptances,
        Leviathan et al. 2023, https://arxiv.org/abs/2211.17192, eq. 1):
        τ = (1 − a^(k+1)) / (1 − a)
    verify step   = a decode step of k + 1 query tokens per sequence (same KV read once;
                    attention and matmul FLOPs × (k + 1); MLA keeps its absorbed form, as
                    FlashMLA's decode kernel does for several query tokens)
    draft cost    = k × f × (a one-token decode step), f = the drafter's step as a share of
                    the target's:
                      mtp, eagle: one decoder layer of the target's shape → f = 1 / layers
                        (derived; DeepSeek-V3's MTP module is one transformer block sharing
                        embedding and head, arXiv 2412.19437 §2.2)
                      ngram: f = 0 (a table lookup on the CPU)
                      draft: stated by the user (a draft model's step over the target's)
    time per emitted token = (verify step + draft cost) / τ

With k = 0 there is nothing to verify: τ = 1 and the step is the plain decode step. The
prefill of a sequence is unchanged (the drafter's own prefill, one layer, is neglected).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infercost.errors import InputError

METHODS = ("mtp", "eagle", "draft", "ngram")
MAX_DRAFT_TOKENS = 16


@dataclass(frozen=True)
class Speculation:
    """How a replica speculates: k drafted tokens, τ emitted per verify step, draft cost f."""

    method: str
    draft_tokens: int
    acceptance_length: float
    draft_step_fraction: float  # the drafter's one-token step over the target's

    def check(self) -> None:
        if self.method not in METHODS and not (self.method == "none" and not self.draft_tokens):
            raise InputError("spec_method", f"must be one of {', '.join(METHODS)}")
        if not 0 <= self.draft_tokens <= MAX_DRAFT_TOKENS:
            raise InputError("spec_draft_tokens", f"must be in [0, {MAX_DRAFT_TOKENS}]")
        if not 1 <= self.acceptance_length <= self.draft_tokens + 1:
            raise InputError(
                "spec_acceptance_length",
                f"must be in [1, draft tokens + 1 = {self.draft_tokens + 1}], "
                f"got {self.acceptance_length}",
            )
        if not 0 <= self.draft_step_fraction <= 1:
            raise InputError("spec_draft_cost", "the drafter's step share must be in [0, 1]")

    @property
    def query_tokens(self) -> int:
        """Query tokens per sequence in one verify step."""
        return self.draft_tokens + 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "draft_tokens": self.draft_tokens,
            "acceptance_length": self.acceptance_length,
            "draft_step_fraction": self.draft_step_fraction,
        }


NONE = Speculation("none", 0, 1.0, 0.0)  # no speculation: one token per plain step


def acceptance_length(draft_tokens: int, rate: float) -> float:
    """τ from a per-token acceptance rate a (i.i.d. acceptances; see the module docstring)."""
    if not 0 <= rate <= 1:
        raise InputError("spec_acceptance_rate", f"must be in [0, 1], got {rate}")
    if rate == 1:
        return float(draft_tokens + 1)
    return (1 - rate ** (draft_tokens + 1)) / (1 - rate)


def speculation(
    method: str,
    draft_tokens: int,
    num_layers: int,
    *,
    length: float | None = None,
    rate: float | None = None,
    draft_step_fraction: float | None = None,
) -> Speculation:
    """A checked `Speculation`: τ stated, or from a; the draft cost stated, or the method's."""
    if length is None and rate is None:
        raise InputError("spec_acceptance_length", "speculative decoding needs τ or a")
    tau = float(length) if length is not None else acceptance_length(draft_tokens, rate or 0.0)
    if draft_step_fraction is None:
        if method == "draft":
            raise InputError(
                "spec_draft_cost", "a draft model's step cost must be stated (share of target's)"
            )
        draft_step_fraction = 0.0 if method == "ngram" else 1.0 / num_layers
    spec = Speculation(method, draft_tokens, tau, draft_step_fraction)
    spec.check()
    return spec
