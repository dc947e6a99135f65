"""Predict the measured.csv rows with llm-analysis (cli99/llm-analysis, a roofline calculator).

Run with the tool's own virtualenv (see setup.sh):

    HF_HUB_OFFLINE=1 /tmp/peers/llm-analysis/bin/python benchmarks/peers/run_llm_analysis.py [CSV]

Writes benchmarks/results/peers/llm-analysis.json (the tool's default efficiencies, 1.0) and
llm-analysis-tuned.json (flops_efficiency 0.6, hbm_memory_efficiency 0.8).

Per row: `LLMAnalysis(model, gpu, dtype, TP).inference(batch, seq_len=input, generate=output)`.
The tool's latency is max(compute, memory) per layer, summed; decode reads the KV cache of the
final length at every step. Static rows use the row's batch; max-load rows use the largest batch
the tool says fits (min of its prefill and decode max batch), capped per engine.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import time
from importlib.metadata import version
from pathlib import Path

from llm_analysis.analysis import LLMAnalysis
from llm_analysis.config import (
    GPUConfig,
    ModelConfig,
    ParallelismConfig,
    dtype_configs,
    gpu_configs,
    model_configs,
)
from llm_analysis.logger import logger
from measured_rows import (
    CONFIGS_DIR,
    ENGINE_BATCH_CAP,
    SHAREGPT_LENGTHS,
    Unexpressible,
    Workload,
    default_csv_path,
    evaluate_rows,
    is_cpu,
    kv_cache_fp8,
    load_rows,
    metric_value,
    tensor_parallel,
    workload,
    write_result,
)

ADDED_DIR = CONFIGS_DIR / "llm-analysis"
EFFICIENCIES = {
    "llm-analysis": {"flops_efficiency": None, "hbm_memory_efficiency": None},
    "llm-analysis-tuned": {"flops_efficiency": 0.6, "hbm_memory_efficiency": 0.8},
}
# (pattern on the lower-cased CSV model, config name or None, reason when None). First match wins.
MODEL_TABLE = (
    (r"deepseek", None, "MLA attention, shared experts and dense first layers: no ModelConfig"),
    (r"llama-4-maverick", None, "interleaved dense/MoE layers, shared expert: no ModelConfig"),
    (r"gpt-j-6b", "EleutherAI_gpt-j-6b", ""),
    (r"llama-3(\.\d)?-405b", "meta-llama_Llama-3.1-405B", ""),
    (r"llama-3(\.\d)?-70b", "meta-llama_Llama-3.1-70B", ""),
    (r"llama-3(\.\d)?-8b", "meta-llama_Llama-3.1-8B", ""),
    (r"llama-2-70b|llama-70b", "upstage_Llama-2-70b-instruct-v2", ""),
    (r"llama-2-7b", "NousResearch_Llama-2-7b-hf", ""),
    (r"^llama-7b", "decapoda-research_llama-7b-hf", ""),
    (r"mixtral-8x7b", "mistralai_Mixtral-8x7B-v0.1", ""),
    (r"qwen3-235b-a22b", "Qwen_Qwen3-235B-A22B", ""),
    (r"qwen3-30b-a3b", "Qwen_Qwen3-30B-A3B", ""),
)
GPU_TABLE = (
    (r"h100 pcie", "h100-pcie-80gb"),
    (r"h100", "h100-sxm-80gb"),
    (r"h200", "h200-sxm-141gb"),
    (r"^gb200", "gb200-186gb"),
    (r"^b200", "b200-sxm-180gb"),
    (r"a100", "a100-sxm-80gb"),
    (r"l40s", "l40s-48gb"),
    (r"^h20$", "h20-96gb"),
    (r"mi300x", "mi300x-192gb"),
    (r"mi250x \(one gcd\)", "mi250x-gcd-64gb"),
    (r"rtx pro 6000", "rtx-pro-6000-server-96gb"),
    (r"rtx 4090", "rtx-4090-24gb"),
    (r"rtx 3090 ti", "rtx-3090ti-24gb"),
    (r"rtx 3090", "rtx-3090-24gb"),
    (r"apple m2 ultra", "apple-m2-ultra-76c-192gb"),
)


def load_added_configs() -> tuple[dict[str, ModelConfig], dict[str, GPUConfig]]:
    """Model and GPU configs written for this comparison, in the tool's own JSON format."""
    models = {p.stem: ModelConfig(**_read(p)) for p in sorted(ADDED_DIR.glob("models/*.json"))}
    gpus = {p.stem: GPUConfig(**_read(p)) for p in sorted(ADDED_DIR.glob("gpus/*.json"))}
    return models, gpus


def _read(path: Path) -> dict[str, object]:
    return dict(json.loads(path.read_text()))


def lookup_model(row: dict[str, str], added: dict[str, ModelConfig]) -> tuple[ModelConfig, str]:
    for pattern, name, reason in MODEL_TABLE:
        if re.search(pattern, row["model"].lower()):
            if name is None:
                raise Unexpressible(f"model {row['model']}: {reason}")
            if name in model_configs:
                return model_configs[name], "shipped"
            return added[name], "added"
    raise Unexpressible(f"model {row['model']}: no config shipped or written")


def lookup_gpu(row: dict[str, str], added: dict[str, GPUConfig]) -> tuple[GPUConfig, str]:
    for pattern, name in GPU_TABLE:
        if re.search(pattern, row["gpu"].lower()):
            if name in gpu_configs:
                return gpu_configs[name], "shipped"
            return added[name], "added"
    raise Unexpressible(f"GPU {row['gpu']}: no config shipped or written")


def dtype_name(row: dict[str, str]) -> str:
    """Weight/activation/embedding bits. FP8 and NVFP4 use the tool's int8/int4 peak FLOPS."""
    weights = row["precision_weights"].lower()
    if weights.startswith("nvfp4"):
        return "w4a4e16"
    if weights.startswith("fp8"):
        return "w8a8e16"
    if weights.startswith("int8"):
        return "w8a16e16"
    if weights.startswith(("int4", "q4")):
        return "w4a16e16"
    return "w16a16e16"


def run_inference(analysis: LLMAnalysis, batch: int, wl: Workload, kv_bytes: int) -> dict:
    return analysis.inference(
        batch_size_per_gpu=batch,
        seq_len=max(wl.isl, 1),
        num_tokens_to_generate=max(wl.osl, 1),
        kv_cache_dtype_bytes=kv_bytes,
    )


def max_fitting_batch(analysis: LLMAnalysis, wl: Workload, kv_bytes: int) -> int:
    """The tool's own max batch (prefill and decode memory), capped at the engine's maximum."""
    one = run_inference(analysis, 1, wl, kv_bytes)
    cap = wl.cap or max(ENGINE_BATCH_CAP.values())
    return max(
        1, min(one["prefill_max_batch_size_per_gpu"], one["decode_max_batch_size_per_gpu"], cap)
    )


def predict(analysis: LLMAnalysis, wl: Workload, kv_bytes: int) -> tuple[dict, int]:
    """What the tool predicts for one model replica (TP group), and the batch it ran."""
    if wl.kind == "prefill_only":
        raise Unexpressible("prefill-only (disaggregated) rows: batch per instance unknown")
    if wl.kind == "poisson":
        batch = 1  # no queueing model: TTFT = prefill of one request
    elif wl.kind == "max_load":
        batch = max_fitting_batch(analysis, wl, kv_bytes)
    else:
        batch = wl.batch or 1
    s = run_inference(analysis, batch, wl, kv_bytes)
    if wl.kind == "decode_only":
        output_tok_s = batch / s["decode_latency"]
    else:
        output_tok_s = batch * max(wl.osl, 1) / s["total_latency"]
    return {
        "output_tok_s": output_tok_s,
        "prefill_tok_s": s["prefill_tokens_per_sec"],
        "decode_tok_s": 1 / s["decode_latency"] if batch == 1 else float("nan"),
        "ttft_ms": s["prefill_latency"] * 1000,
    }, batch


def evaluate_row(row: dict[str, str], efficiencies: dict, added: tuple) -> dict[str, object]:
    if is_cpu(row):
        raise Unexpressible("CPU inference: llm-analysis models GPUs only")
    model, model_source = lookup_model(row, added[0])
    gpu, gpu_source = lookup_gpu(row, added[1])
    wl = workload(row)
    tp = tensor_parallel(row)
    dtype = dtype_name(row)
    kv_bytes = 1 if kv_cache_fp8(row) else 2
    analysis = LLMAnalysis(
        model, gpu, dtype_configs[dtype], ParallelismConfig(tp_size=tp), **efficiencies
    )
    predicted, batch = predict(analysis, wl, kv_bytes)
    predicted["gpus"] = tp
    inputs = {
        "model_config": f"{model.name} ({model_source})",
        "gpu_config": f"{gpu.name} ({gpu_source})",
        "dtype": dtype,
        "kv_cache_dtype_bytes": kv_bytes,
        "tp_size": tp,
        "batch_size_per_gpu": batch,
        "seq_len": max(wl.isl, 1),
        "num_tokens_to_generate": max(wl.osl, 1),
        "workload": wl.to_dict(),
    }
    return {"predicted": metric_value(row, wl, predicted), "inputs": inputs}


def run(rows: list[dict[str, str]], name: str, added: tuple) -> dict[str, object]:
    started = time.perf_counter()
    predicted, unexpressible = evaluate_rows(
        rows, lambda row: evaluate_row(row, EFFICIENCIES[name], added)
    )
    return {
        "tool": "llm-analysis",
        "version": version("llm-analysis"),
        "settings": settings(name, added),
        "rows": predicted,
        "unexpressible": unexpressible,
        "elapsed_s": round(time.perf_counter() - started, 2),
    }


def settings(name: str, added: tuple) -> dict[str, object]:
    eff = {k: (v if v is not None else 1.0) for k, v in EFFICIENCIES[name].items()}
    return {
        **eff,
        "efficiency_source": "tool defaults" if name == "llm-analysis" else "typical values",
        "api": "LLMAnalysis(model, gpu, dtype, ParallelismConfig(tp_size=TP)).inference(...)",
        "batch": {
            "static": "the row's batch; throughput = batch x output / (prefill + output x decode)",
            "max_load": "min(prefill_max_batch, decode_max_batch) from the tool's memory "
            "accounting, capped at the row's max_num_seqs, else vLLM/SGLang 256, TRT-LLM 2048",
            "poisson": "TTFT = prefill latency of one request (the tool has no queueing)",
            "decode_only": "decode rate at the row's batch per GPU, TP 1 per GPU",
            "single_stream": "1 / decode step latency at batch 1",
        },
        "dtype": "fp8 -> w8a8e16 (int8 peak FLOPS), nvfp4 -> w4a4e16 (int4 peak), int8/int4 "
        "weight-only and llama.cpp Q4 -> w8a16e16/w4a16e16, everything else w16a16e16",
        "kv_cache": "1 byte when the row states fp8 KV or uses a ModelOpt checkpoint, else 2",
        "moe_parallelism": "TP only (the tool has no attention-DP); TRT-LLM's attention-DP+EP "
        "rows are run as TP=N",
        "sharegpt_mean_lengths": SHAREGPT_LENGTHS,
        "added_model_configs": sorted(added[0]),
        "added_gpu_configs": sorted(added[1]),
        "notes": "Added configs are in benchmarks/peers/configs/llm-analysis; see README.md.",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="?", type=Path, default=default_csv_path())
    args = parser.parse_args()
    logger.setLevel(logging.ERROR)
    rows = load_rows(args.csv)
    added = load_added_configs()
    for name in EFFICIENCIES:
        result = run(rows, name, added)
        path = write_result(name, result)
        print(
            f"{name}: {len(result['rows'])} rows predicted, "
            f"{len(result['unexpressible'])} unexpressible -> {path}"
        )


if __name__ == "__main__":
    main()
