"""One serving replica: a model on N accelerators with a parallel layout and precisions.

A replica holds one full copy of the model on `tp × pp × dp_attention` accelerators:
tensor parallelism splits each layer's matrices `tp` ways, pipeline parallelism splits the
layers into `pp` stages, and attention data parallelism (DeepSeek's "DP" for MLA) keeps
`dp_attention` copies of the attention weights, each serving its own share of the sequences.
Routed experts are spread over all the replica's accelerators; `ep > 1` means they are
placed whole (expert parallelism, all-to-all dispatch) rather than sliced by TP.

Efficiency factors turn peaks into achievable rates. Defaults are typical of tuned engines
(MFU-like 0.6 for matmuls, MBU-like 0.8 for HBM reads, 70 % of link bandwidth, 1 ms of
per-step overhead for scheduling, sampling and launches); `infercost validate` measures how
far they are off and can calibrate them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from infercost.catalog.hardware import Accelerator, Server, accelerator, server_for
from infercost.catalog.models import ModelArch, model
from infercost.errors import InputError
from infercost.limits import MAX_BATCHED_TOKENS, MAX_REPLICA_GPUS
from infercost.perf.moe import BALANCES
from infercost.perf.speculative import NONE, Speculation
from infercost.units import PRECISIONS, Precision, precision, weight_and_compute


@dataclass(frozen=True)
class Parallelism:
    tp: int = 1
    pp: int = 1
    dp_attention: int = 1
    ep: int = 1

    @property
    def gpus(self) -> int:
        return self.tp * self.pp * self.dp_attention

    def check(self, model: ModelArch) -> None:
        for name in ("tp", "pp", "dp_attention", "ep"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InputError(name, f"must be a whole number ≥ 1, got {value!r}")
            if value > MAX_REPLICA_GPUS:
                raise InputError(name, f"must be ≤ {MAX_REPLICA_GPUS:,}, got {value:,}")
        if self.gpus > MAX_REPLICA_GPUS:
            raise InputError(
                "tp", f"tp × pp × dp_attention must be ≤ {MAX_REPLICA_GPUS:,}, got {self.gpus:,}"
            )
        if self.tp not in tensor_parallel_sizes(model):
            allowed = ", ".join(str(t) for t in tensor_parallel_sizes(model) if t <= 64)
            raise InputError(
                "tp",
                f"{self.tp} does not split {model.id}'s {model.num_attention_heads} attention "
                f"heads and {model.num_kv_heads} KV heads evenly; allowed: {allowed}",
            )
        if self.pp > model.num_layers:
            raise InputError("pp", f"must be ≤ the model's {model.num_layers} layers")
        if self.ep > self.gpus:
            raise InputError("ep", f"must be ≤ the replica's {self.gpus} accelerators")
        if self.ep > 1 and model.moe is None:
            raise InputError("ep", f"{model.id} has no experts; use ep=1")

    def to_dict(self) -> dict[str, int]:
        return {"tp": self.tp, "pp": self.pp, "dp_attention": self.dp_attention, "ep": self.ep}


def tensor_parallel_sizes(model: ModelArch) -> list[int]:
    """TP degrees that split the model's heads evenly, as engines require (vLLM): the
    attention heads divide by tp, and the KV heads divide by tp or are replicated to it."""
    heads, kv = model.num_attention_heads, model.num_kv_heads
    if model.mla is not None:  # one latent, no KV heads to split
        kv = heads
    return [
        tp
        for tp in range(1, min(heads, MAX_REPLICA_GPUS) + 1)
        if heads % tp == 0 and (kv % tp == 0 or tp % kv == 0)
    ]


@dataclass(frozen=True)
class Efficiency:
    """Fractions of peak that real kernels reach, and the fixed cost of one engine step."""

    compute: float = 0.6
    memory: float = 0.8
    attention_memory: float = 0.8  # KV reads by attention kernels (paged, scattered)
    # Attention kernels' share of the bf16 peak when a source states it (FlashMLA's
    # measured TFLOPS); None: the matmuls' `compute`.
    attention_compute: float | None = None
    link: float = 0.7
    step_overhead_s: float = 1e-3
    token_overhead_s: float = 0.0  # per sequence per step: sampling, small kernels (CPUs)
    collective_latency_s: float = 10e-6
    comm_overlap: float = 0.0  # share of communication hidden behind compute
    memory_reserve_fraction: float = 0.10  # kept back by the engine (vLLM: 1 - 0.9)
    max_batched_tokens: int = 8192  # engine token budget per step (chunked prefill)

    def check(self) -> None:
        for name in ("compute", "memory", "attention_memory", "link"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                raise InputError(f"efficiency.{name}", f"must be in (0, 1], got {value}")
        for name in ("step_overhead_s", "token_overhead_s", "collective_latency_s"):
            value = getattr(self, name)
            if not 0 <= value <= 60:
                raise InputError(f"efficiency.{name}", f"must be in [0, 60] seconds, got {value}")
        if self.attention_compute is not None and not 0 < self.attention_compute <= 1:
            raise InputError(
                "efficiency.attention_compute", f"must be in (0, 1], got {self.attention_compute}"
            )
        if not 0 <= self.comm_overlap <= 1:
            raise InputError("efficiency.comm_overlap", "must be in [0, 1]")
        if not 0 <= self.memory_reserve_fraction < 1:
            raise InputError("efficiency.memory_reserve_fraction", "must be in [0, 1)")
        if not 1 <= self.max_batched_tokens <= MAX_BATCHED_TOKENS:
            raise InputError(
                "efficiency.max_batched_tokens", f"must be in [1, {MAX_BATCHED_TOKENS:,}]"
            )


@dataclass(frozen=True)
class Deployment:
    model: ModelArch
    gpu: Accelerator
    parallelism: Parallelism
    weights: Precision
    kv: Precision
    compute: Precision
    activations: Precision
    gpus_per_node: int
    intra_node_bandwidth_bytes_per_s: float
    inter_node_bandwidth_bytes_per_s: float
    efficiency: Efficiency = field(default_factory=Efficiency)
    speculation: Speculation = NONE  # perf/speculative.py; NONE: one token per step
    expert_balance: str | None = None  # perf/moe.py; None: routing assumed even
    # Steps' work before efficiency factors, shared by this replica's copies over other
    # factors (perf/step.py; validation's fit sets it). None: computed every step.
    step_memo: dict[Any, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def gpus(self) -> int:
        return self.parallelism.gpus

    def peak_flops_per_s(self, p: Precision) -> float:
        """Dense peak of the accelerator in precision `p`, falling back to wider formats."""
        for key in _FALLBACK[p.flops_key]:
            peak = self.gpu.peak_flops_per_s(key)
            if peak:
                return peak
        raise InputError("precision", f"{self.gpu.id} has no matmul rate for {p.name}")

    def with_efficiency(self, **changes: Any) -> Deployment:
        eff = replace(self.efficiency, **changes)
        eff.check()
        return replace(self, efficiency=eff)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.id,
            "gpu": self.gpu.id,
            **({"gpu_what_if": self.gpu.what_if} if self.gpu.what_if else {}),
            "parallelism": self.parallelism.to_dict(),
            "gpus": self.gpus,
            "weight_precision": self.weights.name,
            "kv_precision": self.kv.name,
            "compute_precision": self.compute.name,
            "speculation": self.speculation.to_dict() if self.speculation.draft_tokens else None,
            "expert_balance": self.expert_balance,
        }


_FALLBACK = {
    "fp4": ("fp4", "fp8", "bf16", "fp32"),
    "int4": ("int4", "int8", "bf16", "fp32"),
    "fp8": ("fp8", "bf16", "fp32"),
    "int8": ("int8", "bf16", "fp32"),
    "bf16": ("bf16", "fp32"),
    "fp32": ("fp32",),
}

# Which matmul a weight format runs in when nobody says: low-precision weights use the
# matching tensor-core format if the chip has one; 4-bit integer weights are dequantised to
# 16 bit (w4a16), as GPTQ/AWQ kernels do.
_DEFAULT_COMPUTE = {
    "fp32": "fp32",
    "bf16": "bf16",
    "fp16": "fp16",
    "fp8": "fp8",
    "int8": "int8",
    "int4": "bf16",
    "q8_0": "bf16",
    "q4_0": "bf16",
    "q4_1": "bf16",
    "q4_k_m": "bf16",
    "mxfp4": "fp4",
    "nvfp4": "fp4",
    "fp4": "fp4",
}


def default_compute(gpu: Accelerator, weights: Precision) -> Precision:
    """The matmul precision for `weights` on `gpu` when none is given."""
    wanted = PRECISIONS[_DEFAULT_COMPUTE[weights.name]]
    if gpu.peak_flops_per_s(wanted.flops_key):
        return wanted
    for key in _FALLBACK[wanted.flops_key][1:]:
        if gpu.peak_flops_per_s(key):
            return PRECISIONS[key]
    raise InputError("gpu", f"{gpu.id} lists no matmul rate at all")


def build(
    model_name: str | ModelArch,
    gpu_name: str | Accelerator,
    *,
    tp: int = 1,
    pp: int = 1,
    dp_attention: int = 1,
    ep: int = 1,
    precision_name: str = "bf16",
    kv_precision_name: str | None = None,
    compute_precision_name: str | None = None,
    efficiency: Efficiency | None = None,
    server: Server | None = None,
    speculation: Speculation = NONE,
    expert_balance: str | None = None,
) -> Deployment:
    """Resolve names into a checked `Deployment`.

    Link bandwidths and the node size come from `server` (default: the catalog's server
    built around the accelerator), which must hold that accelerator.
    """
    arch = model_name if isinstance(model_name, ModelArch) else model(model_name)
    gpu = gpu_name if isinstance(gpu_name, Accelerator) else accelerator(gpu_name)
    par = Parallelism(tp=tp, pp=pp, dp_attention=dp_attention, ep=ep)
    par.check(arch)
    weights, compute = weight_and_compute(precision_name, "weight_precision")
    if compute_precision_name:
        compute = precision(compute_precision_name, "compute_precision")
    compute = compute or default_compute(gpu, weights)
    kv = precision(kv_precision_name, "kv_precision") if kv_precision_name else _default_kv(weights)
    eff = efficiency or Efficiency()
    eff.check()
    speculation.check()
    if expert_balance is not None and expert_balance not in BALANCES:
        raise InputError("expert_balance", f"must be one of {', '.join(BALANCES)} or unset")
    if server is not None and server.accelerator != gpu.id:
        raise InputError(
            "server", f"{server.id} holds {server.accelerator}, not {gpu.id}; drop it or match them"
        )
    node = server or server_for(gpu)
    linked = node is not None or gpu.interconnect_bandwidth_bytes_per_s > 0
    if par.gpus > 1 and not linked:
        raise InputError(
            "tp",
            f"{gpu.id} has no interconnect in the catalog: a replica is one device "
            f"(tp × pp × dp_attention = 1, not {par.gpus})",
        )
    if node is not None and node.pod_accelerators and par.gpus > node.pod_accelerators:
        raise InputError(
            "tp",
            f"a replica of {par.gpus} chips is wider than a {node.id} pod "
            f"({node.pod_accelerators} chips joined by ICI)",
        )
    if (
        node is not None
        and par.gpus > node.accelerators_per_server
        and not (node.scale_out_bandwidth_bytes_per_s > 0)
    ):
        raise InputError(
            "tp",
            f"{node.id} has no scale-out bandwidth in the catalog: a replica fits one server "
            f"(tp × pp × dp_attention ≤ {node.accelerators_per_server}, not {par.gpus})",
        )
    return Deployment(
        model=arch,
        gpu=gpu,
        parallelism=par,
        weights=weights,
        kv=kv,
        compute=compute,
        activations=PRECISIONS["bf16"],
        gpus_per_node=node.accelerators_per_server if node else 8,
        intra_node_bandwidth_bytes_per_s=(
            node.intra_node_bandwidth_bytes_per_s
            if node
            else gpu.interconnect_bandwidth_bytes_per_s
        ),
        inter_node_bandwidth_bytes_per_s=(
            node.scale_out_bandwidth_bytes_per_s if node else gpu.interconnect_bandwidth_bytes_per_s
        ),
        efficiency=eff,
        speculation=speculation,
        expert_balance=expert_balance,
    )


def _default_kv(weights: Precision) -> Precision:
    """KV cache stays 16-bit unless asked otherwise (engines' default)."""
    return PRECISIONS["fp32"] if weights.name == "fp32" else PRECISIONS["bf16"]
