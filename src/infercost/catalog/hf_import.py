"""Model architectures from Hugging Face `config.json` files.

A checkpoint's `config.json` states its shapes; this module maps the keys of each supported
`model_type` onto one `ModelArch` (one builder per type, registered in `_BUILDERS`), so a model
missing from the catalog can be costed from its config rather than guessed from its name.
`arch_to_row` writes the result back as a `models.yaml` row.

Assumptions, all stated in the row's notes or below:
- `head_dim` is the config's `head_dim` key, else `hidden_size / num_attention_heads`; for MLA
  (DeepSeek) it is `qk_nope_head_dim + qk_rope_head_dim` (transformers writes `head_dim` =
  `qk_rope_head_dim` there, which is not the head width).
- `intermediate_size` in a row is the width of the dense MLP layers: 0 when every layer is MoE
  (Mixtral and gpt-oss use the config's `intermediate_size` as the expert width instead).
- MoE dense layers are counted exactly but recorded as `first_dense_layers` (leading), which is
  exact for parameter counts whatever their real positions (Qwen `mlp_only_layers`).
- DeepSeek's multi-token-prediction layers (`num_nextn_predict_layers`) are not counted.
- Falcon support is best effort (old `n_layer`/`n_head` spellings, MQA by default).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from infercost.catalog.models import ModelArch, model_from_row
from infercost.errors import InputError
from infercost.files import read_text

IMPORTED = "imported"
_FIELD = "config.json"


class _Keys:
    """Typed reads from a config mapping; every failure names the key it was looking for."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._config = config

    def get(self, key: str, default: Any = None) -> Any:
        value = self._config.get(key)
        return default if value is None else value

    def whole(self, *keys: str, default: int | None = None) -> int:
        """The first of `keys` present (alternative spellings), as a whole number ≥ 0."""
        for key in keys:
            if self._config.get(key) is not None:
                return _whole(key, self._config[key])
        if default is not None:
            return default
        also = f" (also looked for {', '.join(keys[1:])})" if len(keys) > 1 else ""
        raise InputError(f"{_FIELD}.{keys[0]}", f"missing{also}")

    def flag(self, key: str, default: bool) -> bool:
        value = self.get(key, default)
        if not isinstance(value, bool):
            raise InputError(f"{_FIELD}.{key}", f"must be true or false, got {value!r}")
        return value


def _whole(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(f"{_FIELD}.{key}", f"must be a whole number ≥ 0, got {value!r}")
    return value


# --- pieces shared by the builders ---------------------------------------------------------


def _attention(keys: _Keys) -> dict[str, Any]:
    """Layers, widths and (GQA) attention heads as Llama-style configs spell them."""
    hidden = keys.whole("hidden_size")
    heads = keys.whole("num_attention_heads")
    if heads == 0:
        raise InputError(f"{_FIELD}.num_attention_heads", "must be > 0")
    if keys.get("head_dim") is None and hidden % heads:
        raise InputError(
            f"{_FIELD}.head_dim", "missing, and hidden_size is not a multiple of heads"
        )
    return {
        "num_layers": keys.whole("num_hidden_layers"),
        "hidden_size": hidden,
        "num_attention_heads": heads,
        "num_kv_heads": keys.whole("num_key_value_heads", default=heads),
        "head_dim": keys.whole("head_dim", default=hidden // heads),
    }


def _vocab_and_context(keys: _Keys, tied_default: bool = False) -> dict[str, Any]:
    return {
        "vocab_size": keys.whole("vocab_size"),
        "tied_embeddings": keys.flag("tie_word_embeddings", tied_default),
        "max_context_tokens": keys.whole("max_position_embeddings"),
    }


def _sliding_window(keys: _Keys, unlisted_layers: int) -> dict[str, Any]:
    """Window size and how many layers use it; `unlisted_layers` when `layer_types` is absent."""
    window = keys.whole("sliding_window", default=0)
    if not window or not keys.flag("use_sliding_window", True):
        return {}
    types = keys.get("layer_types")
    count = types.count("sliding_attention") if isinstance(types, list) else unlisted_layers
    return {"sliding_window_tokens": window, "sliding_window_layers": count} if count else {}


def _moe(
    experts: int, top_k: int, width: int, dense_layers: int, shared: int = 0
) -> dict[str, Any]:
    return {
        "num_experts": experts,
        "experts_per_token": top_k,
        "expert_intermediate_size": width,
        "num_shared_experts": 1 if shared else 0,
        "shared_intermediate_size": shared,
        "first_dense_layers": dense_layers,
    }


# --- one builder per model_type ------------------------------------------------------------


def _llama(keys: _Keys) -> dict[str, Any]:
    """Llama, Mistral, Qwen2/3 dense: GQA attention and a SwiGLU MLP in every layer."""
    row = _attention(keys) | _vocab_and_context(keys)
    row["intermediate_size"] = keys.whole("intermediate_size")
    row["gated_mlp"] = True
    layers = row["num_layers"]
    return row | _sliding_window(keys, layers - keys.whole("max_window_layers", default=0))


def _mixtral(keys: _Keys) -> dict[str, Any]:
    row = _llama(keys)
    width = row["intermediate_size"]
    experts = keys.whole("num_local_experts")
    row["moe"] = _moe(experts, keys.whole("num_experts_per_tok"), width, dense_layers=0)
    row["intermediate_size"] = 0  # every layer is MoE; the config's width is the expert's
    return row


def _qwen_moe(keys: _Keys) -> dict[str, Any]:
    """Qwen2-MoE / Qwen3-MoE: layer i is MoE when (i + 1) % step == 0 and not MLP-only."""
    row = _llama(keys)
    step = max(keys.whole("decoder_sparse_step", default=1), 1)
    mlp_only = keys.get("mlp_only_layers", [])
    if not isinstance(mlp_only, list):
        raise InputError(f"{_FIELD}.mlp_only_layers", "must be a list of layer indices")
    layers = row["num_layers"]
    dense = {i for i in range(layers) if i in mlp_only or (i + 1) % step}
    shared = keys.whole("shared_expert_intermediate_size", default=0)
    width = keys.whole("moe_intermediate_size")
    top_k = keys.whole("num_experts_per_tok")
    row["moe"] = _moe(keys.whole("num_experts"), top_k, width, len(dense), shared)
    row["intermediate_size"] = row["intermediate_size"] if dense else 0
    if dense != set(range(len(dense))):
        row["notes"] = f"{len(dense)} dense layers recorded as leading (exact for counts)."
    return row


def _deepseek(keys: _Keys) -> dict[str, Any]:
    """DeepSeek-V2/V3: MLA attention, `first_k_dense_replace` dense layers, then MoE."""
    row = _attention(keys) | _vocab_and_context(keys) | {"gated_mlp": True}
    row["mla"] = {
        "q_lora_rank": keys.whole("q_lora_rank", default=0),  # null: full-rank Q
        "kv_lora_rank": keys.whole("kv_lora_rank"),
        "qk_nope_head_dim": keys.whole("qk_nope_head_dim"),
        "qk_rope_head_dim": keys.whole("qk_rope_head_dim"),
        "v_head_dim": keys.whole("v_head_dim"),
    }
    row["head_dim"] = row["mla"]["qk_nope_head_dim"] + row["mla"]["qk_rope_head_dim"]
    row["moe"], row["intermediate_size"] = _deepseek_moe(keys, row["num_layers"])
    mtp = keys.whole("num_nextn_predict_layers", default=0)
    if mtp:
        row["notes"] = f"{mtp} multi-token-prediction layer(s) not counted."
    return row


def _deepseek_moe(keys: _Keys, layers: int) -> tuple[dict[str, Any], int]:
    first = keys.whole("first_k_dense_replace", default=0)
    freq = max(keys.whole("moe_layer_freq", default=1), 1)
    dense = sum(1 for i in range(layers) if i < first or i % freq)
    width = keys.whole("moe_intermediate_size")
    shared = keys.whole("n_shared_experts", default=0) * width
    experts, top_k = keys.whole("n_routed_experts"), keys.whole("num_experts_per_tok")
    dense_width = keys.whole("intermediate_size") if dense else 0
    moe = _moe(experts, top_k, width, dense, shared)
    groups = keys.whole("topk_group", default=0)
    if groups and groups < keys.whole("n_group", default=1):
        moe["max_groups_per_token"] = groups
    return moe, dense_width


def _gpt_oss(keys: _Keys) -> dict[str, Any]:
    """gpt-oss: every layer MoE (SwiGLU experts); banded attention on alternate layers."""
    row = _attention(keys) | _vocab_and_context(keys) | {"gated_mlp": True}
    experts = keys.whole("num_local_experts")
    top_k = keys.whole("experts_per_token", "num_experts_per_tok")
    row["moe"] = _moe(experts, top_k, keys.whole("intermediate_size"), dense_layers=0)
    row["intermediate_size"] = 0
    return row | _sliding_window(keys, row["num_layers"] // 2)


def _falcon(keys: _Keys) -> dict[str, Any]:
    """Falcon (best effort): GELU MLP 4 x hidden, MQA unless `new_decoder_architecture`."""
    hidden = keys.whole("hidden_size")
    heads = keys.whole("num_attention_heads", "n_head")
    if keys.flag("new_decoder_architecture", False):
        kv_heads = keys.whole("num_kv_heads", "n_head_kv")
    else:
        kv_heads = 1 if keys.flag("multi_query", True) else heads
    return {
        "num_layers": keys.whole("num_hidden_layers", "n_layer"),
        "hidden_size": hidden,
        "num_attention_heads": heads,
        "num_kv_heads": kv_heads,
        "head_dim": hidden // heads if heads else 0,
        "intermediate_size": keys.whole("ffn_hidden_size", default=4 * hidden),
        "gated_mlp": False,
        "vocab_size": keys.whole("vocab_size"),
        "tied_embeddings": keys.flag("tie_word_embeddings", True),
        "max_context_tokens": keys.whole("max_position_embeddings", default=2048),
    }


_BUILDERS: dict[str, Callable[[_Keys], dict[str, Any]]] = {
    "deepseek_v2": _deepseek,
    "deepseek_v3": _deepseek,
    "falcon": _falcon,
    "gpt_oss": _gpt_oss,
    "llama": _llama,
    "mistral": _llama,
    "mixtral": _mixtral,
    "qwen2": _llama,
    "qwen2_moe": _qwen_moe,
    "qwen3": _llama,
    "qwen3_moe": _qwen_moe,
}
SUPPORTED_MODEL_TYPES = tuple(sorted(_BUILDERS))


# --- public functions ----------------------------------------------------------------------


def arch_from_hf_config(
    config: Mapping[str, Any], model_id: str, source: str, as_of: str = IMPORTED
) -> ModelArch:
    """The `ModelArch` a Hugging Face config describes; `InputError` names a bad or missing key."""
    model_type = config.get("model_type")
    if model_type not in _BUILDERS:
        what = "missing" if model_type is None else f"unsupported {model_type!r}"
        supported = ", ".join(SUPPORTED_MODEL_TYPES)
        raise InputError(f"{_FIELD}.model_type", f"{what}; supported: {supported}")
    row = _BUILDERS[model_type](_Keys(config))
    extra = row.pop("notes", "")
    notes = f"Imported from config.json (model_type {model_type}). {extra}".strip()
    row |= {"id": model_id, "name": model_id, "family": model_type.replace("_", "-")}
    row |= {"source": source, "as_of": as_of, "notes": notes}
    released = _released_precision(config)
    if released:
        row["released_precision"] = released
    return model_from_row(row)


# quantization_config.quant_method values whose weight format we know.
_QUANT_METHODS = {"fp8": "fp8", "mxfp4": "mxfp4", "nvfp4": "nvfp4", "modelopt_fp4": "nvfp4"}


def _released_precision(config: Mapping[str, Any]) -> str | None:
    quant = config.get("quantization_config")
    if isinstance(quant, Mapping):
        return _QUANT_METHODS.get(str(quant.get("quant_method", "")).lower())
    return None


def load_hf_config(path: Path, model_id: str | None = None, as_of: str = IMPORTED) -> ModelArch:
    """Read a `config.json` (or a folder holding one) into a `ModelArch`.

    The id defaults to a slug of the folder's name, else of the config's `_name_or_path`.
    """
    file = path / "config.json" if path.is_dir() else path
    config = _read_json(file)
    model_id = model_id or _default_id(file, config)
    return arch_from_hf_config(config, model_id, f"file:{file}", as_of)


def arch_to_row(arch: ModelArch) -> dict[str, Any]:
    """A `models.yaml` row for `arch`; `model_from_row(arch_to_row(a)) == a`."""
    row: dict[str, Any] = {"id": arch.id, "name": arch.name, "aliases": list(arch.aliases)}
    for key in _ROW_FIELDS:
        row[key] = getattr(arch, key)
    if arch.mla is not None:
        row["mla"] = asdict(arch.mla)
    if arch.moe is not None:
        row["moe"] = asdict(arch.moe)
    if arch.sliding_window_tokens or arch.sliding_window_layers:
        row["sliding_window_tokens"] = arch.sliding_window_tokens
        row["sliding_window_layers"] = arch.sliding_window_layers
    for key in ("published_total_params", "published_active_params"):
        if getattr(arch, key) is not None:
            row[key] = getattr(arch, key)
    row |= {"source": arch.source, "as_of": arch.as_of}
    if arch.released_precision != "bf16":
        row["released_precision"] = arch.released_precision
    if arch.notes:
        row["notes"] = arch.notes
    return row


_ROW_FIELDS = (
    "family",
    "num_layers",
    "hidden_size",
    "num_attention_heads",
    "num_kv_heads",
    "head_dim",
    "intermediate_size",
    "gated_mlp",
    "vocab_size",
    "tied_embeddings",
    "max_context_tokens",
)


def _read_json(file: Path) -> dict[str, Any]:
    text = read_text(file, str(file))
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise InputError(str(file), f"malformed JSON at {where}: {exc.msg}") from None
    if not isinstance(doc, dict):
        raise InputError(str(file), "expected a JSON object at the top level")
    return doc


def _default_id(file: Path, config: Mapping[str, Any]) -> str:
    name_or_path = str(config.get("_name_or_path") or "")
    for candidate in (file.parent.name, Path(name_or_path).name):
        slug = re.sub(r"[^a-z0-9.]+", "-", candidate.lower()).strip("-.")
        if slug:
            return slug
    raise InputError(str(file), "cannot derive a model id from the path; pass model_id")
