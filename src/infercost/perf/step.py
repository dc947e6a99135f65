"""Roofline time of one engine step: a forward pass of a batch of sequences.

A step runs `sequences` sequences, each adding `new_tokens` tokens after `past_tokens` already
in its KV cache (decode: new = 1; prefill: new = prompt length). Per accelerator of one
pipeline pass (all layers; pipeline stages run one after another for a given micro-batch):

    matmuls   = max(matmul FLOPs / (peak[compute precision] · eff.compute),
                    weights read / (bandwidth · eff.memory))
    attention = max(attention FLOPs / (peak[bf16] · eff.attention_compute),
                    (KV read + KV written) / (bandwidth · eff.attention_memory))
    comm      = TP all-reduces + expert all-to-all + pipeline hand-offs, over the link in use
    busy      = matmuls + attention
    step     = busy + comm - min(comm, overlap · busy) + overhead
    overhead = step overhead + token overhead · sequences on this accelerator

`eff.attention_compute` defaults to `eff.compute`. Matmul FLOPs are 2 per parameter per
token (top-k experts for MoE). Attention FLOPs per token and layer are 4 · heads · head_dim ·
context for MHA/GQA (QKᵀ and AV); MLA decode uses the absorbed form over the latent,
2 · heads · context · (2 · kv_lora + rope), and MLA prefill the expanded one,
2 · heads · context · (qk_nope + qk_rope + v). Weights are read once per step
whatever the batch; an MoE step reads the experts its tokens touch (see moe.py). The output
head runs on each sequence's last token only.

The roofline is taken per kind of kernel, not over the whole step: the weight matmuls and
the attention are separate kernels, so at a large decode batch compute-bound matmuls cannot
hide memory-bound attention (one `max` over the step's totals would let them).

A chunked-prefill engine mixes kinds of sequences in one step (decodes and prompt chunks):
`mixed_step` sums the work of each part and reads the weights once for all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from infercost.catalog.models import ModelArch
from infercost.elementwise import branch, maximum, minimum
from infercost.perf.deployment import Deployment
from infercost.perf.memory import kv_bytes_for_context, kv_share_per_gpu
from infercost.perf.moe import expected_distinct_experts, expert_load_factor
from infercost.units import PRECISIONS

BOUNDS = ("compute", "memory", "communication", "overhead")


@dataclass(frozen=True)
class StepTime:
    """One step's time as a breakdown, with the work behind it (per accelerator)."""

    compute_s: float  # matmuls + attention at their compute rates
    memory_s: float  # weights + KV at the memory rate
    busy_s: float  # per-kernel roofline: max of compute and memory for each kind, summed
    communication_s: float  # exposed (not overlapped) communication
    overhead_s: float
    flops_per_gpu: float
    bytes_per_gpu: float
    sequences: float
    new_tokens: float

    @property
    def total_s(self) -> float:
        return self.busy_s + self.communication_s + self.overhead_s

    @property
    def bound(self) -> str:
        parts = (self.compute_s, self.memory_s, self.communication_s, self.overhead_s)
        return BOUNDS[max(range(4), key=lambda i: parts[i])]

    def to_dict(self) -> dict[str, Any]:
        return {
            "total_s": self.total_s,
            "compute_s": self.compute_s,
            "memory_s": self.memory_s,
            "busy_s": self.busy_s,
            "communication_s": self.communication_s,
            "overhead_s": self.overhead_s,
            "bound": self.bound,
            "flops_per_gpu": self.flops_per_gpu,
            "bytes_per_gpu": self.bytes_per_gpu,
            "sequences": self.sequences,
            "new_tokens": self.new_tokens,
        }


def attention_flops_per_token_layer(model: ModelArch, context: float, decode: bool) -> float:
    """Score and value FLOPs of one query token attending over `context` tokens."""
    heads = model.num_attention_heads
    if model.mla is None:
        return 4.0 * heads * model.head_dim * context
    m = model.mla
    if branch(decode):
        return 2.0 * heads * context * (2 * m.kv_lora_rank + m.qk_rope_head_dim)
    return 2.0 * heads * context * (m.qk_nope_head_dim + m.qk_rope_head_dim + m.v_head_dim)


def _attention_flops(model: ModelArch, past: float, new: float, verify: bool = False) -> float:
    """Attention FLOPs of one sequence adding `new` tokens after `past` (causal, all layers).

    A speculative verify step (`verify`) runs its few query tokens through the decode form.
    """
    decode = verify or new <= 1
    window = model.sliding_window_tokens
    windowed = model.sliding_window_layers if window else 0
    mean_context = past + (new + 1) / 2
    full = (model.num_layers - windowed) * attention_flops_per_token_layer(
        model, mean_context, decode
    )
    capped = minimum(mean_context, float(window)) if windowed else 0.0
    local = windowed * attention_flops_per_token_layer(model, capped, decode)
    return new * (full + local)


def _dense_params(model: ModelArch) -> int:
    """Non-expert parameters a token multiplies by, output head excluded."""
    return model.active_params() - model.head_params() - _active_expert_params(model)


def _active_expert_params(model: ModelArch) -> int:
    return model.active_expert_params()


@dataclass(frozen=True)
class Part:
    """`sequences` sequences of one step, each adding `new_tokens` after `past_tokens`."""

    sequences: float
    past_tokens: float
    new_tokens: float
    verify: bool = False  # a speculative verify pass: few query tokens, decode kernels


def step_time(dep: Deployment, sequences: float, past_tokens: float, new_tokens: float) -> StepTime:
    """Roofline time of one step of like sequences (see the module docstring)."""
    return mixed_step(dep, (Part(sequences, past_tokens, new_tokens),))


def mixed_step(dep: Deployment, parts: Sequence[Part]) -> StepTime:
    """Roofline time of one step carrying several kinds of sequences at once.

    A chunked-prefill engine runs decoding sequences and prompt chunks in one forward pass:
    FLOPs, KV traffic, communication and per-sequence overhead add up over the parts, while
    the weights are read once for all of them (the experts touched by all their tokens).
    """
    eff = dep.efficiency
    memo = dep.step_memo
    work = _work(dep, parts) if memo is None else _remembered(dep, parts, memo)
    matmul_s = work.matmul / (dep.peak_flops_per_s(dep.compute) * eff.compute)
    attention_eff = eff.compute if eff.attention_compute is None else eff.attention_compute
    attention_s = work.attention / (dep.peak_flops_per_s(PRECISIONS["bf16"]) * attention_eff)

    bandwidth = dep.gpu.memory_bandwidth_bytes_per_s
    weights_s = work.weights / (bandwidth * eff.memory)
    kv_s = work.kv_moved / (bandwidth * eff.attention_memory)
    busy = maximum(matmul_s, weights_s) + maximum(attention_s, kv_s)

    hidden = minimum(work.comm, eff.comm_overlap * busy)
    sequences = work.sequences
    return StepTime(
        compute_s=matmul_s + attention_s,
        memory_s=weights_s + kv_s,
        busy_s=busy,
        communication_s=work.comm - hidden,
        overhead_s=eff.step_overhead_s + eff.token_overhead_s * work.local_seqs,
        flops_per_gpu=work.matmul + work.attention,
        bytes_per_gpu=work.weights + work.kv_moved,
        sequences=sequences,
        new_tokens=work.all_tokens / sequences if branch(sequences != 0) else 0.0,
    )


class _Work(NamedTuple):
    """A step's work on one accelerator, before the efficiency factors make it time."""

    matmul: float  # FLOPs, the busiest expert-parallel GPU's routed share included
    attention: float  # FLOPs
    weights: float  # bytes read
    kv_moved: float  # bytes read and written
    comm: float  # seconds on the links, before any overlap
    local_seqs: float
    all_tokens: float
    sequences: float


MEMO_STEPS = 4096  # steps one replica's memo keeps (a search over rates asks for new ones)


def _remembered(dep: Deployment, parts: Sequence[Part], memo: dict[Any, Any]) -> _Work:
    """`_work`, remembered in `dep.step_memo`: the replica's copies that share a memo differ
    only in efficiency factors, and the work depends on none but the link's (in the key)."""
    key = (*parts, dep.efficiency.link, dep.efficiency.collective_latency_s)
    work = memo.get(key)
    if work is None:
        work = _work(dep, parts)
        if len(memo) < MEMO_STEPS:
            memo[key] = work
    return work


def _work(dep: Deployment, parts: Sequence[Part]) -> _Work:
    """FLOPs, bytes and link time of one step (see `mixed_step`)."""
    m, par = dep.model, dep.parallelism
    stage_gpus = par.tp * par.dp_attention  # accelerators sharing one pipeline stage
    share = kv_share_per_gpu(dep) * par.pp  # all layers of a pass, this GPU's KV slice
    dense, head, experts = _dense_params(m), m.head_params(), _active_expert_params(m)
    matmul = routed = attention = kv_moved = 0.0
    local_seqs = local_tokens = all_tokens = sequences = 0.0
    for part in parts:
        seqs = part.sequences / par.dp_attention  # each attention copy runs its share
        tokens = seqs * part.new_tokens
        matmul += 2.0 * (tokens * dense + seqs * head) / par.tp
        routed += 2.0 * part.sequences * part.new_tokens * experts / stage_gpus
        attention += (
            seqs * _attention_flops(m, part.past_tokens, part.new_tokens, part.verify) / par.tp
        )
        kv_read = kv_bytes_for_context(m, dep.kv, part.past_tokens)
        kv_write = kv_bytes_for_context(m, dep.kv, part.new_tokens)
        kv_moved += seqs * (kv_read + kv_write) * share
        local_seqs += seqs
        local_tokens += tokens
        all_tokens += part.sequences * part.new_tokens
        sequences += part.sequences
    skew = _expert_skew(dep, all_tokens)  # the busiest expert-parallel GPU sets the step
    matmul += routed * skew

    bpe = dep.weights.bytes_per_element
    dense_bytes = (dense + head) * bpe
    weights = dense_bytes / par.tp + _expert_bytes_read(m, all_tokens) * bpe / stage_gpus

    decoding = all(part.verify or branch(part.new_tokens <= 1) for part in parts)
    comm = (
        _tp_time(dep, local_tokens)
        + _expert_time(dep, local_tokens, decoding) * skew
        + _pp_time(dep, local_tokens)
    )
    return _Work(matmul, attention, weights, kv_moved, comm, local_seqs, all_tokens, sequences)


def _expert_skew(dep: Deployment, tokens: float) -> float:
    """Busiest expert-parallel GPU's routed tokens ÷ the mean (moe.py; 1 when even)."""
    moe = dep.model.moe
    if moe is None or dep.parallelism.ep == 1:
        return 1.0
    return expert_load_factor(dep.expert_balance, moe.experts_per_token, dep.parallelism.ep, tokens)


def _expert_bytes_read(model: ModelArch, tokens: float) -> float:
    """Routed-expert parameters a step reads: the experts its tokens touch, every MoE layer."""
    if model.moe is None:
        return 0.0
    touched = expected_distinct_experts(model.moe.num_experts, model.moe.experts_per_token, tokens)
    return model.num_moe_layers * touched * model.expert_params()


def _link(dep: Deployment, group: int) -> float:
    """Per-direction bandwidth a collective over `group` accelerators can use."""
    within = group <= dep.gpus_per_node
    bandwidth = (
        dep.intra_node_bandwidth_bytes_per_s if within else dep.inter_node_bandwidth_bytes_per_s
    )
    return bandwidth * dep.efficiency.link


def _tp_time(dep: Deployment, tokens: float) -> float:
    """Two ring all-reduces of the hidden state per layer across the TP group."""
    tp = dep.parallelism.tp
    if tp == 1:
        return 0.0
    message = tokens * dep.model.hidden_size * dep.activations.bytes_per_element
    one = 2 * (tp - 1) / tp * message / _link(dep, tp) + dep.efficiency.collective_latency_s
    return 2 * dep.model.num_layers * one


def _expert_time(dep: Deployment, tokens: float, decoding: bool = False) -> float:
    """All-to-all dispatch and combine of each token's hidden state to its top-k experts.

    Dispatch sends activations in the matmul precision when that is narrower (DeepSeek sends
    FP8); combine returns them in the activation precision. Within a node each of a token's
    expert copies crosses NVLink; between nodes a token crosses the network once per remote
    node holding any of its experts and is fanned out inside that node (DeepEP's normal
    kernels), and group-limited routing caps how many nodes that is (DeepSeek-V3: 4).

    A decode step over nodes uses DeepEP's low-latency kernels instead: "pure RDMA", each
    of a token's k expert copies goes straight to its GPU over the network, with no
    forwarding inside the node (README, 27 Feb 2025: 128 tokens, top-8, FP8 dispatch and
    BF16 combine move 39-46 GB/s per H800 at EP8-256, i.e. k copies per token).
    """
    m, par = dep.model, dep.parallelism
    if m.moe is None or par.ep == 1:
        return 0.0
    group = par.ep
    act = dep.activations.bytes_per_element
    per_copy = min(dep.compute.bytes_per_element, act) + act
    k = m.moe.experts_per_token
    node = min(dep.gpus_per_node, group)
    if decoding and group > node:  # low-latency kernels: k direct copies over the network
        direct = tokens * k * (group - 1) / group * m.hidden_size * per_copy / _link(dep, group)
        return m.num_moe_layers * (direct + 2 * dep.efficiency.collective_latency_s)
    intra = tokens * k * m.hidden_size * per_copy * (node - 1) / group / _link(dep, node)
    inter = 0.0
    if group > node:
        nodes = group / node
        reached = nodes * (1 - (1 - 1 / nodes) ** k)  # distinct nodes holding its experts
        if m.moe.max_groups_per_token:
            reached = min(reached, float(m.moe.max_groups_per_token))
        remote = reached * (nodes - 1) / nodes
        inter = tokens * remote * m.hidden_size * per_copy / _link(dep, group)
    one = maximum(intra, inter) + 2 * dep.efficiency.collective_latency_s
    return m.num_moe_layers * one


def _pp_time(dep: Deployment, tokens: float) -> float:
    """Hand-offs of the hidden state between consecutive pipeline stages."""
    pp = dep.parallelism.pp
    if pp == 1:
        return 0.0
    message = tokens * dep.model.hidden_size * dep.activations.bytes_per_element
    link = _link(dep, dep.parallelism.tp * pp)
    return (pp - 1) * (message / link + dep.efficiency.collective_latency_s)


def decode_step(dep: Deployment, batch: float, context_tokens: float) -> StepTime:
    """One decode step: `batch` sequences each add one token after `context_tokens`."""
    return step_time(dep, batch, context_tokens, 1.0)


def verify_step(dep: Deployment, batch: float, context_tokens: float) -> StepTime:
    """One step of a speculating replica: the target verifies k + 1 query tokens of each of
    `batch` sequences, after the drafter proposed k (perf/speculative.py). Without
    speculation (k = 0) it is `decode_step`. It emits τ tokens per sequence on average."""
    spec = dep.speculation
    if spec.draft_tokens == 0:
        return decode_step(dep, batch, context_tokens)
    verify = mixed_step(dep, (Part(batch, context_tokens, spec.query_tokens, verify=True),))
    draft = spec.draft_tokens * spec.draft_step_fraction
    if draft == 0:
        return verify
    one = decode_step(dep, batch, context_tokens)
    return StepTime(
        compute_s=verify.compute_s + draft * one.compute_s,
        memory_s=verify.memory_s + draft * one.memory_s,
        busy_s=verify.busy_s + draft * one.busy_s,
        communication_s=verify.communication_s + draft * one.communication_s,
        overhead_s=verify.overhead_s + draft * one.overhead_s,
        flops_per_gpu=verify.flops_per_gpu + draft * one.flops_per_gpu,
        bytes_per_gpu=verify.bytes_per_gpu + draft * one.bytes_per_gpu,
        sequences=verify.sequences,
        new_tokens=verify.new_tokens,
    )


def prefill_step(
    dep: Deployment, prompts: float, prompt_tokens: float, cached_tokens: float = 0.0
) -> StepTime:
    """Prefill of `prompts` prompts of `prompt_tokens` each, after `cached_tokens` reused."""
    return step_time(dep, prompts, cached_tokens, prompt_tokens)
