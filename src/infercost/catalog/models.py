"""Model architectures and their parameter counts.

Parameters are *computed* from the architecture, never copied from a model card; the card's
figure (`published_total_params`) is kept only to test against. Per decoder layer:

    attention (MHA/GQA/MQA) = hidden·heads·head_dim (Q) + 2·hidden·kv_heads·head_dim (K, V)
                              + heads·head_dim·hidden (O)
    attention (MLA)         = hidden·q_lora + q_lora·heads·(nope + rope)      (Q, low rank)
                              + hidden·(kv_lora + rope) + kv_lora·heads·(nope + v) (KV latent)
                              + heads·v·hidden (O)
    MLP                     = 3·hidden·ffn when gated (SwiGLU: gate, up, down), else 2·hidden·ffn
    MoE layer               = experts·MLP(moe_ffn) + shared MLP + router (hidden·experts)

plus the token embedding and the output head (`vocab·hidden` each unless tied). Norms and
biases are under 0.1 % and left out. *Active* parameters are those a token multiplies by:
everything but the embedding lookup, with top-k routed experts instead of all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from infercost.catalog.lookup import Table, build, catalog_dir, require_provenance
from infercost.errors import InputError

ATTENTION_KINDS = ("mha", "gqa", "mqa", "mla")


@dataclass(frozen=True)
class MLA:
    """DeepSeek multi-head latent attention: a compressed KV latent plus a decoupled RoPE key."""

    q_lora_rank: int  # 0 means Q is a full-rank projection
    kv_lora_rank: int
    qk_nope_head_dim: int
    qk_rope_head_dim: int
    v_head_dim: int


@dataclass(frozen=True)
class MoE:
    """Routed experts: `experts_per_token` of `num_experts` per token, plus shared experts."""

    num_experts: int
    experts_per_token: int
    expert_intermediate_size: int
    num_shared_experts: int = 0
    shared_intermediate_size: int = 0  # total width of the shared experts
    first_dense_layers: int = 0  # leading layers with a dense MLP instead of experts
    max_groups_per_token: int = 0  # group-limited routing (DeepSeek topk_group); 0: none


@dataclass(frozen=True)
class ModelArch:
    id: str
    name: str
    family: str
    num_layers: int
    hidden_size: int
    num_attention_heads: int
    num_kv_heads: int
    head_dim: int
    intermediate_size: int
    gated_mlp: bool
    vocab_size: int
    tied_embeddings: bool
    max_context_tokens: int
    source: str
    as_of: str
    aliases: tuple[str, ...] = ()
    mla: MLA | None = None
    moe: MoE | None = None
    sliding_window_tokens: int = 0  # window of the layers that use one
    sliding_window_layers: int = 0  # how many layers use it
    published_total_params: float | None = None
    published_active_params: float | None = None
    released_precision: str = "bf16"  # the weights' format as published
    notes: str = ""

    @property
    def attention_kind(self) -> str:
        if self.mla is not None:
            return "mla"
        if self.num_kv_heads == 1:
            return "mqa"
        return "mha" if self.num_kv_heads == self.num_attention_heads else "gqa"

    @property
    def num_moe_layers(self) -> int:
        return 0 if self.moe is None else self.num_layers - self.moe.first_dense_layers

    @property
    def num_dense_layers(self) -> int:
        return self.num_layers - self.num_moe_layers

    def attention_params_per_layer(self) -> int:
        h, n = self.hidden_size, self.num_attention_heads
        if self.mla is None:
            q = h * n * self.head_dim
            kv = 2 * h * self.num_kv_heads * self.head_dim
            o = n * self.head_dim * h
            return q + kv + o
        m = self.mla
        qk = m.qk_nope_head_dim + m.qk_rope_head_dim
        q = h * m.q_lora_rank + m.q_lora_rank * n * qk if m.q_lora_rank else h * n * qk
        kv = h * (m.kv_lora_rank + m.qk_rope_head_dim) + m.kv_lora_rank * n * (
            m.qk_nope_head_dim + m.v_head_dim
        )
        o = n * m.v_head_dim * h
        return q + kv + o

    def mlp_params(self, ffn: int) -> int:
        matrices = 3 if self.gated_mlp else 2
        return matrices * self.hidden_size * ffn

    def expert_params(self) -> int:
        """One routed expert."""
        return 0 if self.moe is None else self.mlp_params(self.moe.expert_intermediate_size)

    def shared_expert_params(self) -> int:
        return 0 if self.moe is None else self.mlp_params(self.moe.shared_intermediate_size)

    def router_params(self) -> int:
        return 0 if self.moe is None else self.hidden_size * self.moe.num_experts

    def embedding_params(self) -> int:
        return self.vocab_size * self.hidden_size

    def head_params(self) -> int:
        """The output projection; counted in the total only when untied."""
        return self.vocab_size * self.hidden_size

    def _moe_layer_params(self, experts: int) -> int:
        return experts * self.expert_params() + self.shared_expert_params() + self.router_params()

    def total_params(self) -> int:
        return self._counts[0]

    def active_expert_params(self) -> int:
        """Routed-expert parameters one token multiplies by (top-k experts, every MoE layer)."""
        return self._counts[2]

    def active_params(self) -> int:
        """Parameters one token multiplies by (no embedding lookup; top-k experts)."""
        return self._counts[1]

    @cached_property
    def _counts(self) -> tuple[int, int, int]:
        """(total, active, active routed experts), computed once: the performance model asks
        for them every step."""
        experts = 0
        if self.moe is not None:
            experts = self.num_moe_layers * self.moe.experts_per_token * self.expert_params()
        return self._total_params(), self._active_params(), experts

    def _total_params(self) -> int:
        layers = self.num_layers * self.attention_params_per_layer()
        layers += self.num_dense_layers * self.mlp_params(self.intermediate_size)
        if self.moe is not None:
            layers += self.num_moe_layers * self._moe_layer_params(self.moe.num_experts)
        head = 0 if self.tied_embeddings else self.head_params()
        return layers + self.embedding_params() + head

    def _active_params(self) -> int:
        layers = self.num_layers * self.attention_params_per_layer()
        layers += self.num_dense_layers * self.mlp_params(self.intermediate_size)
        if self.moe is not None:
            layers += self.num_moe_layers * self._moe_layer_params(self.moe.experts_per_token)
        return layers + self.head_params()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "family": self.family,
            "attention": self.attention_kind,
            "layers": self.num_layers,
            "hidden_size": self.hidden_size,
            "heads": self.num_attention_heads,
            "kv_heads": self.num_kv_heads,
            "experts": self.moe.num_experts if self.moe else 0,
            "total_params": self.total_params(),
            "active_params": self.active_params(),
            "published_total_params": self.published_total_params,
            "max_context_tokens": self.max_context_tokens,
            "source": self.source,
            "as_of": self.as_of,
        }


def _int(row: dict[str, Any], key: str, default: int | None = None) -> int:
    value = row.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InputError(
            f"model.{row.get('id', '?')}.{key}", f"must be a whole number ≥ 0, got {value!r}"
        )
    return value


def model_from_row(row: dict[str, Any]) -> ModelArch:
    """Build a `ModelArch` from one catalog row (plain mapping, SI counts)."""
    require_provenance("model", row)
    rid = row.get("id", "?")
    mla = row.get("mla")
    moe = row.get("moe")
    try:
        mla_obj = MLA(**mla) if mla else None
        moe_obj = MoE(**moe) if moe else None
    except TypeError as exc:
        raise InputError(f"model.{rid}", f"bad mla/moe block: {exc}") from None
    heads = _int(row, "num_attention_heads")
    hidden = _int(row, "hidden_size")
    arch = ModelArch(
        id=rid,
        name=row.get("name", rid),
        family=row.get("family", ""),
        num_layers=_int(row, "num_layers"),
        hidden_size=hidden,
        num_attention_heads=heads,
        num_kv_heads=_int(row, "num_kv_heads", heads),
        head_dim=_int(row, "head_dim", hidden // heads if heads else 0),
        intermediate_size=_int(row, "intermediate_size", 0),
        gated_mlp=bool(row.get("gated_mlp", True)),
        vocab_size=_int(row, "vocab_size"),
        tied_embeddings=bool(row.get("tied_embeddings", False)),
        max_context_tokens=_int(row, "max_context_tokens"),
        source=row["source"],
        as_of=str(row["as_of"]),
        aliases=tuple(row.get("aliases", ())),
        mla=mla_obj,
        moe=moe_obj,
        sliding_window_tokens=_int(row, "sliding_window_tokens", 0),
        sliding_window_layers=_int(row, "sliding_window_layers", 0),
        published_total_params=row.get("published_total_params"),
        published_active_params=row.get("published_active_params"),
        released_precision=str(row.get("released_precision", "bf16")),
        notes=row.get("notes", ""),
    )
    _check(arch)
    return arch


def _check(arch: ModelArch) -> None:
    field = f"model.{arch.id}"
    if arch.num_layers == 0 or arch.hidden_size == 0 or arch.num_attention_heads == 0:
        raise InputError(field, "num_layers, hidden_size and num_attention_heads must be > 0")
    if arch.num_kv_heads == 0 or arch.num_attention_heads % arch.num_kv_heads:
        raise InputError(f"{field}.num_kv_heads", "must divide num_attention_heads")
    if arch.moe is not None and not 0 < arch.moe.experts_per_token <= arch.moe.num_experts:
        raise InputError(f"{field}.moe.experts_per_token", "must be between 1 and num_experts")
    if arch.num_dense_layers and arch.intermediate_size == 0:
        raise InputError(f"{field}.intermediate_size", "dense MLP layers need a width > 0")


def models() -> Table[ModelArch]:
    """The model table: built-in rows and the user's catalog folder."""
    return _models(catalog_dir())


@cache
def _models(user: Path | None) -> Table[ModelArch]:
    return Table("model", build("model", "models.yaml", user, model_from_row))


def model(name: str) -> ModelArch:
    return models().get(name)
