"""Importing Hugging Face config.json files: same architecture as the catalog, clear errors.

Fixtures under tests/fixtures/hf/<catalog id>/config.json hold the architecture keys of the
public config.json of each model.
"""

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from infercost.catalog.hf_import import (
    SUPPORTED_MODEL_TYPES,
    arch_from_hf_config,
    arch_to_row,
    load_hf_config,
)
from infercost.catalog.models import ModelArch, model, model_from_row, models
from infercost.errors import InputError

FIXTURES = Path(__file__).parent.parent / "fixtures" / "hf"
FIXTURE_IDS = sorted(p.name for p in FIXTURES.iterdir() if (p / "config.json").is_file())


def _config(name: str) -> dict[str, Any]:
    config: dict[str, Any] = json.loads((FIXTURES / name / "config.json").read_text())
    return config


def _shape(arch: ModelArch) -> ModelArch:
    """The architecture alone: provenance, names and card figures blanked."""
    return dataclasses.replace(
        arch,
        id="",
        name="",
        source="",
        as_of="",
        aliases=(),
        published_total_params=None,
        published_active_params=None,
        notes="",
    )


def _import(config: dict[str, Any]) -> ModelArch:
    return arch_from_hf_config(config, "test-model", "test", "2026-01-01")


def test_required_fixtures_present() -> None:
    assert {"llama-3.1-8b", "mixtral-8x7b", "qwen3-30b-a3b", "deepseek-v3"} <= set(FIXTURE_IDS)


@pytest.mark.parametrize("name", FIXTURE_IDS)
def test_import_matches_catalog_row(name: str) -> None:
    imported = load_hf_config(FIXTURES / name / "config.json")
    row = model(name)
    assert imported.total_params() == row.total_params()
    assert imported.active_params() == row.active_params()
    assert _shape(imported) == _shape(row)


def test_id_source_and_as_of_defaults() -> None:
    path = FIXTURES / "llama-3.1-8b" / "config.json"
    arch = load_hf_config(path)
    assert arch.id == "llama-3.1-8b"  # slug of the folder name
    assert arch.source == f"file:{path}"
    assert arch.as_of == "imported"
    assert "model_type llama" in arch.notes
    dated = load_hf_config(path, model_id="my-llama", as_of="2026-01-01")
    assert (dated.id, dated.as_of) == ("my-llama", "2026-01-01")


def test_folder_path_reads_its_config_json() -> None:
    arch = load_hf_config(FIXTURES / "mixtral-8x7b")
    assert arch.id == "mixtral-8x7b"


def test_id_falls_back_to_name_or_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = _config("llama-3.1-8b") | {"_name_or_path": "meta-llama/Llama-3.1-8B"}
    (tmp_path / "config.json").write_text(json.dumps(config))
    monkeypatch.chdir(tmp_path)
    assert load_hf_config(Path("config.json")).id == "llama-3.1-8b"  # no folder name to use


# --- round trip ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", FIXTURE_IDS)
def test_row_round_trip_of_imported(name: str) -> None:
    arch = load_hf_config(FIXTURES / name / "config.json")
    assert model_from_row(arch_to_row(arch)) == arch


@pytest.mark.parametrize("arch", list(models()), ids=lambda a: a.id)
def test_row_round_trip_of_catalog_through_yaml(arch: ModelArch) -> None:
    row = yaml.safe_load(yaml.safe_dump(arch_to_row(arch), sort_keys=False))
    assert model_from_row(row) == arch


# --- model_type specifics ------------------------------------------------------------------


def test_deepseek_mla_head_dim_ignores_transformers_head_dim_key() -> None:
    # transformers writes head_dim = qk_rope_head_dim (64) for DeepSeek; the head is 128 + 64.
    arch = _import(_config("deepseek-v3") | {"head_dim": 64})
    assert arch.head_dim == 192
    assert arch.attention_kind == "mla"
    assert "multi-token-prediction" in arch.notes


def test_deepseek_null_q_lora_rank_means_full_rank_q() -> None:
    arch = _import(_config("deepseek-v3") | {"q_lora_rank": None})
    assert arch.mla is not None
    assert arch.mla.q_lora_rank == 0
    # full-rank Q: 7168 * 128 * 192 = 176,160,768 instead of 48,758,784 (low rank)
    # per layer: 176,160,768 + 20,905,984 (kv) + 117,440,512 (o) = 314,507,264
    assert arch.attention_params_per_layer() == 314_507_264


def test_qwen_mlp_only_layers_become_dense_layers() -> None:
    arch = _import(_config("qwen3-30b-a3b") | {"mlp_only_layers": [0, 47]})
    assert arch.moe is not None
    assert arch.num_dense_layers == 2
    assert arch.intermediate_size == 6144
    assert "recorded as leading" in arch.notes


def test_qwen_decoder_sparse_step_two_makes_every_other_layer_dense() -> None:
    arch = _import(_config("qwen3-30b-a3b") | {"decoder_sparse_step": 2})
    assert (arch.num_dense_layers, arch.num_moe_layers) == (24, 24)


def test_qwen2_moe_shared_expert() -> None:
    config = _config("qwen3-30b-a3b") | {
        "model_type": "qwen2_moe",
        "shared_expert_intermediate_size": 5632,
    }
    arch = _import(config)
    assert arch.moe is not None
    assert (arch.moe.num_shared_experts, arch.moe.shared_intermediate_size) == (1, 5632)


def test_gpt_oss_alternating_sliding_window() -> None:
    arch = load_hf_config(FIXTURES / "gpt-oss-120b")
    assert (arch.sliding_window_tokens, arch.sliding_window_layers) == (128, 18)
    without_list = _config("gpt-oss-120b")
    del without_list["layer_types"]
    assert _import(without_list).sliding_window_layers == 18


def test_mistral_window_applies_to_every_layer() -> None:
    config = _config("llama-3.1-8b") | {"model_type": "mistral", "sliding_window": 4096}
    arch = _import(config)
    assert (arch.sliding_window_tokens, arch.sliding_window_layers) == (4096, 32)


def test_qwen_window_off_unless_enabled() -> None:
    config = _config("qwen3-30b-a3b") | {"sliding_window": 4096}
    assert _import(config).sliding_window_layers == 0


def test_head_dim_defaults_and_kv_heads_default_to_heads() -> None:
    config = _config("llama-3.1-8b")
    del config["num_key_value_heads"]
    arch = _import(config)
    assert arch.head_dim == 4096 // 32
    assert arch.attention_kind == "mha"


def test_old_falcon_spelling_is_multi_query() -> None:
    # Falcon-7B: 32 layers, hidden 4544, 71 heads of 64, one KV head, GELU MLP 4 x hidden.
    config = {
        "model_type": "falcon",
        "hidden_size": 4544,
        "n_layer": 32,
        "n_head": 71,
        "multi_query": True,
        "vocab_size": 65024,
    }
    arch = _import(config)
    assert arch.attention_kind == "mqa"
    # per layer: q 4544^2 (20,647,936) + k,v 2 * 4544 * 64 (581,632) + o 20,647,936
    #   + MLP 2 * 4544 * 18176 (165,183,488) = 207,060,992; * 32 = 6,625,951,744
    # + tied embedding 65024 * 4544 = 295,469,056
    assert arch.total_params() == 6_921_420_800
    assert arch.max_context_tokens == 2048


# --- errors --------------------------------------------------------------------------------


def test_unknown_model_type_lists_supported() -> None:
    with pytest.raises(InputError) as info:
        _import(_config("llama-3.1-8b") | {"model_type": "gpt2"})
    assert info.value.field == "config.json.model_type"
    assert "'gpt2'" in info.value.message
    for model_type in SUPPORTED_MODEL_TYPES:
        assert model_type in info.value.message


def test_missing_model_type() -> None:
    config = _config("llama-3.1-8b")
    del config["model_type"]
    with pytest.raises(InputError, match="missing") as info:
        _import(config)
    assert info.value.field == "config.json.model_type"


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("llama-3.1-8b", "num_hidden_layers"),
        ("llama-3.1-8b", "max_position_embeddings"),
        ("mixtral-8x7b", "num_local_experts"),
        ("qwen3-30b-a3b", "moe_intermediate_size"),
        ("deepseek-v3", "kv_lora_rank"),
        ("deepseek-v3", "n_routed_experts"),
        ("gpt-oss-120b", "num_local_experts"),
    ],
)
def test_missing_key_is_named(name: str, key: str) -> None:
    config = copy.deepcopy(_config(name))
    del config[key]
    with pytest.raises(InputError) as info:
        _import(config)
    assert info.value.field == f"config.json.{key}"
    assert str(info.value).startswith(f"config.json.{key}: missing")


def test_wrong_type_is_named() -> None:
    with pytest.raises(InputError) as info:
        _import(_config("llama-3.1-8b") | {"hidden_size": "4096"})
    assert info.value.field == "config.json.hidden_size"


def test_malformed_json_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"model_type": "llama",')
    with pytest.raises(InputError, match="malformed JSON") as info:
        load_hf_config(path)
    assert info.value.field == str(path)


def test_json_that_is_not_an_object(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("[1, 2]")
    with pytest.raises(InputError, match="JSON object"):
        load_hf_config(path)


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "config.json"
    with pytest.raises(InputError) as info:
        load_hf_config(path)
    assert info.value.field == str(path)
