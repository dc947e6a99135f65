"""Where an accelerator's memory goes: weights, KV cache, activations, reserve.

KV cache per token and layer:
    MHA/GQA/MQA: 2 (K and V) · kv_heads · head_dim · bytes
    MLA:         (kv_lora_rank + qk_rope_head_dim) · bytes      (one compressed latent)
Layers with a sliding window keep at most `window` tokens. Tensor parallelism splits KV heads
(never below one head per accelerator); an MLA latent has no heads to split, so every TP rank
keeps all of it. Attention data parallelism gives each copy its own sequences.

Free memory per accelerator = capacity · (1 - reserve) - weights - activations; the replica's
KV capacity in tokens follows, and from it the most sequences that fit at a context length.
An engine admits a request only while 1 % of the cache stays free (vLLM's watermark), so the
longest request a replica can ever serve holds its prompt, its output and that 1 % at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infercost.catalog.models import ModelArch
from infercost.elementwise import branch, minimum, whole
from infercost.perf.deployment import Deployment
from infercost.units import GB, Precision

WATERMARK_DIVISOR = 100  # vLLM admits a request only while 1 % of KV blocks stay free


def kv_elements_per_token_layer(model: ModelArch) -> int:
    if model.mla is not None:
        return model.mla.kv_lora_rank + model.mla.qk_rope_head_dim
    return 2 * model.num_kv_heads * model.head_dim


def kv_bytes_per_token(model: ModelArch, kv: Precision) -> float:
    """KV bytes one token adds across all layers (full attention on every layer)."""
    return model.num_layers * kv_elements_per_token_layer(model) * kv.bytes_per_element


def kv_bytes_for_context(model: ModelArch, kv: Precision, context_tokens: float) -> float:
    """KV bytes of one sequence holding `context_tokens` (windowed layers capped)."""
    per_layer = kv_elements_per_token_layer(model) * kv.bytes_per_element
    windowed = model.sliding_window_layers if model.sliding_window_tokens else 0
    full_layers = model.num_layers - windowed
    capped = minimum(context_tokens, float(model.sliding_window_tokens)) if windowed else 0.0
    return per_layer * (full_layers * context_tokens + windowed * capped)


def kv_shards(dep: Deployment) -> int:
    """How many ways one sequence's KV is split across a TP group."""
    if dep.model.mla is not None:
        return 1
    return min(dep.parallelism.tp, dep.model.num_kv_heads)


def kv_share_per_gpu(dep: Deployment) -> float:
    """Fraction of a sequence's KV bytes that one accelerator holding it stores."""
    return 1.0 / (kv_shards(dep) * dep.parallelism.pp)


def routed_expert_params(model: ModelArch) -> int:
    if model.moe is None:
        return 0
    return model.num_moe_layers * model.moe.num_experts * model.expert_params()


def weight_bytes(model: ModelArch, weights: Precision) -> float:
    return model.total_params() * weights.bytes_per_element


def weight_bytes_per_gpu(dep: Deployment) -> float:
    """Weights one accelerator stores: its slice of the dense part and of the experts."""
    par = dep.parallelism
    bpe = dep.weights.bytes_per_element
    experts = routed_expert_params(dep.model)
    dense = dep.model.total_params() - experts
    return dense * bpe / (par.tp * par.pp) + experts * bpe / par.gpus


def activation_bytes_per_gpu(dep: Deployment) -> float:
    """Peak activations of one full token-budget step (hidden states, MLP, last-token logits)."""
    m, par = dep.model, dep.parallelism
    ffn = max(m.intermediate_size, m.moe.expert_intermediate_size if m.moe else 0)
    tokens = dep.efficiency.max_batched_tokens / par.dp_attention
    per_token = 4 * m.hidden_size + 2 * ffn / par.tp
    logits = 256 * m.vocab_size / par.tp * 4  # fp32 logits for up to 256 sequences
    return tokens * per_token * dep.activations.bytes_per_element + logits


@dataclass(frozen=True)
class MemoryPlan:
    capacity_bytes: float
    reserve_bytes: float
    weights_bytes: float
    activations_bytes: float
    kv_free_bytes: float
    kv_bytes_per_token: float  # whole sequence-token, all layers, before sharding
    kv_budget_bytes: float  # unsharded sequence bytes the whole replica can hold
    gpus: int
    model: ModelArch
    kv: Precision

    @property
    def kv_capacity_tokens(self) -> float:
        """Tokens the replica holds when every layer keeps every token."""
        return self.kv_budget_bytes / self.kv_bytes_per_token

    @property
    def fits(self) -> bool:
        return self.kv_free_bytes > 0

    @property
    def watermark_tokens(self) -> int:
        """KV tokens an engine keeps free when it admits a request."""
        return int(self.kv_capacity_tokens) // WATERMARK_DIVISOR

    @property
    def longest_request_tokens(self) -> int:
        """The most tokens (prompt + output) one request may hold: the cache less the
        watermark and the token the next step writes."""
        if not self.fits:
            return 0
        return max(int(self.kv_capacity_tokens) - 1 - self.watermark_tokens, 0)

    def holds_request(self, tokens: float) -> bool:
        """Whether one request of `tokens` (prompt + output) can ever be served."""
        return tokens <= self.longest_request_tokens

    def max_sequences(self, context_tokens: float) -> int:
        """Sequences that fit at `context_tokens` each (0 when the weights do not fit)."""
        if not self.fits or branch(context_tokens <= 0):
            return 0
        per_sequence = kv_bytes_for_context(self.model, self.kv, context_tokens)
        return whole(self.kv_budget_bytes // per_sequence)

    def to_dict(self) -> dict[str, Any]:
        return {
            "gpus": self.gpus,
            "capacity_gb_per_gpu": self.capacity_bytes / GB,
            "weights_gb_per_gpu": self.weights_bytes / GB,
            "activations_gb_per_gpu": self.activations_bytes / GB,
            "reserve_gb_per_gpu": self.reserve_bytes / GB,
            "kv_free_gb_per_gpu": self.kv_free_bytes / GB,
            "kv_bytes_per_token": self.kv_bytes_per_token,
            "kv_capacity_tokens": self.kv_capacity_tokens,
            "fits": self.fits,
        }


def memory_plan(dep: Deployment) -> MemoryPlan:
    capacity = dep.gpu.memory_bytes
    reserve = capacity * dep.efficiency.memory_reserve_fraction
    weights = weight_bytes_per_gpu(dep)
    activations = activation_bytes_per_gpu(dep)
    free = capacity - reserve - weights - activations
    per_token = kv_bytes_per_token(dep.model, dep.kv)
    # A token costs per_token · share on each of the tp·pp accelerators of one attention copy.
    budget = max(free, 0.0) / kv_share_per_gpu(dep) * dep.parallelism.dp_attention
    return MemoryPlan(
        capacity_bytes=capacity,
        reserve_bytes=reserve,
        weights_bytes=weights,
        activations_bytes=activations,
        kv_free_bytes=free,
        kv_bytes_per_token=per_token,
        kv_budget_bytes=budget,
        gpus=dep.gpus,
        model=dep.model,
        kv=dep.kv,
    )
