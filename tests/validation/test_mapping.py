"""Reading benchmark rows: names as sources spell them, batching, units, and unmapped rows."""

from __future__ import annotations

import math

import pytest
from measured_rows import row

from infercost.errors import InputError
from infercost.validation.dataset import load_rows, source_of
from infercost.validation.mapping import (
    Case,
    Unmapped,
    find_accelerator,
    find_model,
    find_precision,
    map_row,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("H100 SXM 80GB", "h100-sxm"),
        ("H100 80GB HBM3", "h100-sxm"),
        ("H100 80GB", "h100-sxm"),
        ("H100 PCIe 80GB", "h100-pcie"),
        ("A100 SXM4 80GB", "a100-80gb"),
        ("A100 SXM 80GB (330W cap)", "a100-80gb"),
        ("A100 (40/80GB not stated)", "a100-80gb"),
        ("H200 SXM 141GB", "h200"),
        ("H800 8 per node (prefill units of 4 nodes)", "h800"),
        ("GB200 192GB (NVL72)", "gb200"),
        ("MI300X 192GB", "mi300x"),
        ("AMD MI250X (one GCD)", "mi250x-gcd"),
        ("RTX PRO 6000 Blackwell Server Edition", "rtx-pro-6000-se"),
        ("Apple M2 Ultra 76-core GPU 192GB", "m2-ultra-76c"),
        ("CPU: Intel i5-6500 (4C/4T), 16GB DDR3", "i5-6500"),
        ("CPU: AMD Ryzen 7 5700G, 32GB RAM", "ryzen-7-5700g"),
    ],
)
def test_accelerator_spellings(text: str, expected: str) -> None:
    assert find_accelerator(text).id == expected


def test_unnamed_cpu_is_not_guessed() -> None:
    with pytest.raises(InputError, match="no catalog accelerator"):
        find_accelerator("CPU (model not stated; likely the i9-13900K host)")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("LLaMA-2-70B", "llama-2-70b"),
        ("Llama-2-70B", "llama-2-70b"),
        ("LLaMA-70B (Llama-2-70B)", "llama-2-70b"),
        ("LLaMA-7B (Llama-2-7B arch)", "llama-2-7b"),
        ("LLaMA-7B", "llama-7b"),
        ("Llama-3.1-70B-Instruct-FP8-KV", "llama-3.1-70b"),
        ("Llama-3.1-8B-Instruct", "llama-3.1-8b"),
        ("Llama-3-70B (Instruct)", "llama-3-70b"),
        ("Mixtral-8x7B-v0.1", "mixtral-8x7b"),
        ("Mixtral-8x7B-Instruct", "mixtral-8x7b"),
        ("DeepSeek-V3/R1", "deepseek-v3"),
        ("Llama-4-Maverick-17B-128E-Instruct", "llama-4-maverick"),
        ("Qwen3-235B-A22B", "qwen3-235b-a22b"),
    ],
)
def test_model_spellings(text: str, expected: str) -> None:
    assert find_model(text).id == expected


def test_unknown_model_names_the_text() -> None:
    with pytest.raises(InputError, match="Falcon-40B-Chat"):
        find_model("Falcon-40B-Chat")


@pytest.mark.parametrize(
    ("text", "expected", "guessed"),
    [
        ("fp8", "fp8", False),
        ("nvfp4", "nvfp4", False),
        ("w4a16", "w4a16", False),
        ("int8 weight-only", "w8a16", False),
        ("int4 weight-only (g32)", "w4a16", False),
        ("Q4_K_M", "q4_k_m", False),
        ("Q4_0 (3.56 GiB)", "q4_0", False),
        ("f16", "fp16", False),
        ("fp8 (GEMMs); bf16 MLA core", "fp8", False),
        ("bf16 (default; not stated)", "bf16", True),
        ("(not stated)", "bf16", True),
        ("", "bf16", True),
    ],
)
def test_precision_spellings(text: str, expected: str, guessed: bool) -> None:
    name, note = find_precision(text)
    assert name == expected
    assert (note is not None) == guessed


def test_unstated_precision_falls_back_to_the_released_format() -> None:
    assert find_precision("(not stated)", "fp8")[0] == "fp8"


def test_unknown_precision_is_an_error() -> None:
    with pytest.raises(InputError, match="precision_weights"):
        find_precision("bogus12")


def test_source_is_the_id_without_its_number() -> None:
    assert source_of("TRT10-005") == "TRT10"
    assert source_of("TRTBLOG-H100A100-01") == "TRTBLOG-H100A100"
    assert source_of("VLLM-I12315-01a") == "VLLM-I12315"


def _case(**fields: str) -> Case:
    mapped = map_row(row(**fields))
    assert isinstance(mapped, Case), mapped
    return mapped


def test_batching_modes() -> None:
    assert _case(batch_or_concurrency="static batch 64").mode == "static"
    assert _case(batch_or_concurrency="static batch 64").batch == 64
    assert _case(batch_or_concurrency="1").mode == "single"
    maxed = _case(batch_or_concurrency="max load; 3000 requests queued at once")
    assert (maxed.mode, maxed.batch, maxed.max_requests) == ("offline", None, 3000)
    rated = _case(
        batch_or_concurrency="1200 prompts", request_rate="4", metric="ttft_ms_p50", unit="ms"
    )
    assert (rated.mode, rated.request_rate) == ("rate", 4.0)
    capped = _case(batch_or_concurrency="3200 prompts, max_num_seqs 256")
    assert capped.max_requests == 256
    per_gpu = _case(batch_or_concurrency="128 requests per GPU", num_gpus="2", tp="2")
    assert (per_gpu.batch, per_gpu.max_requests) == (256, math.inf)


def test_units_scale_to_therow() -> None:
    assert _case(num_gpus="8", tp="8").scale == 1
    per_gpu = _case(num_gpus="8", tp="8", metric="throughput_per_gpu_output_tok_s")
    assert per_gpu.scale == pytest.approx(1 / 8)
    replicas = _case(num_gpus="8", tp="2")
    assert replicas.scale == 4
    assert any("4 replicas" in a for a in replicas.assumptions)
    node = _case(num_gpus="8", tp="1", ep="", unit="output tok/s per 8-GPU node")
    assert node.scale == 8


def test_sharegpt_rows_get_dataset_lengths_and_say_so() -> None:
    c = _case(input_len="ShareGPT (variable)", output_len="ShareGPT (variable)")
    assert (c.input_tokens, c.output_tokens) == (213.0, 218.0)
    assert c.output_distribution == "exponential"
    assert any("ShareGPT" in a for a in c.assumptions)


def test_fp8_tensorrt_rows_assume_fp8_kv_and_say_so() -> None:
    c = _case(engine="TensorRT-LLM", precision_weights="fp8")
    assert c.kv == "fp8"
    assert any("KV cache fp8" in a for a in c.assumptions)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"gpu": "Quantum Abacus 9000"}, "gpu"),
        ({"model": "Nonexistent-13B"}, "model"),
        ({"metric": "joules_per_token"}, "metric"),
        ({"value": "n/a"}, "value"),
        ({"value": "-5"}, "value"),
        ({"input_len": "", "output_len": ""}, "input_len"),
        ({"num_gpus": "3", "tp": "2"}, "num_gpus"),
    ],
)
def test_rows_that_cannot_be_read_are_unmapped_with_a_reason(
    fields: dict[str, str], reason: str
) -> None:
    mapped = map_row(row(**fields))
    assert isinstance(mapped, Unmapped)
    assert mapped.reason.startswith(reason)


def test_builtin_rows_all_map_or_say_why() -> None:
    rows = load_rows()
    assert len(rows) >= 130
    results = [map_row(r) for r in rows]
    unmapped = [r for r in results if isinstance(r, Unmapped)]
    assert all(u.reason for u in unmapped)
    assert len(unmapped) <= len(rows) // 10


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("INT4-AWQ", "w4a16"),  # AWQ and GPTQ kernels dequantise to 16 bit
        ("GPTQ-int4", "w4a16"),
        ("w4a16 AWQ", "w4a16"),
        ("AWQ", "w4a16"),
        ("W8A8-FP8", "fp8"),  # the format names the type of a W8A8 shorthand
        ("W8A8-INT8", "w8a8"),
        ("NVFP4", "nvfp4"),
        ("MXFP4", "mxfp4"),
        ("bfloat16", "bf16"),
        ("float16", "fp16"),
    ],
)
def test_weight_formats_as_sources_spell_them(text: str, name: str) -> None:
    assert find_precision(text)[0] == name


@pytest.mark.parametrize("text", ["W8A8", "fp8-int4"])
def test_a_weight_format_that_names_two_types_is_refused(text: str) -> None:
    with pytest.raises(InputError, match="precision_weights"):
        find_precision(text)


@pytest.mark.parametrize(
    ("engine", "gpus", "notes", "layout"),
    [
        # SGLang's --tp names the whole attention-DP group: 8 GPUs, attention TP1 x DP8
        ("SGLang", "8", "--tp 8 --enable-dp-attention --dp 8", (1, 8)),
        ("SGLang", "", "--tp 8 --enable-dp-attention --dp 8", (1, 8)),
        ("TensorRT-LLM", "", "tp_size 8, enable_attention_dp, DP attention 8", (1, 8)),
        # the GPU count settles it whatever the engine
        ("vLLM", "8", "DP attention, data parallel size 8", (1, 8)),
        # vLLM's --tensor-parallel-size is per DP rank: 64 GPUs
        ("vLLM", "", "DP attention, data parallel size 8", (8, 8)),
    ],
)
def test_attention_dp_with_tp_counts_gpus_as_the_engine_does(engine, gpus, notes, layout):
    case = map_row(
        row(engine=engine, model="DeepSeek-V3", precision_weights="fp8", gpu="H200 SXM 141GB",
            num_gpus=gpus, tp="8", ep="8", notes=notes, batch_or_concurrency="concurrency 64",
            input_len="1000", output_len="1000")
    )  # fmt: skip
    assert isinstance(case, Case), case
    assert (case.tp, case.dp_attention) == layout
