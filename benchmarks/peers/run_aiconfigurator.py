"""Predict the measured.csv rows with NVIDIA aiconfigurator (measured-kernel database).

Run with the tool's own virtualenv (see setup.sh):

    HF_HUB_OFFLINE=1 nice -n 10 /tmp/peers/aiconfigurator/bin/python \\
        benchmarks/peers/run_aiconfigurator.py [CSV]

Writes benchmarks/results/peers/aiconfigurator.json. Every point is the tool's SILICON
database mode (its default) at the backend's current database version for the system.

- static rows: `cli_estimate(mode="static")`, the Python twin of `aiconfigurator cli estimate
  --estimate-mode static` (one prefill of the batch, then decode; no in-flight batching);
- max-load rows: the tool's own agg sweep (`InferenceSession.
  find_best_agg_result_under_constraints`, the per-parallelism sweep behind `cli default`) over
  batch and context-token budget, TTFT/TPOT limits off, batch capped per engine; the best seq/s;
- online (Poisson) TTFT rows: `cli_estimate(mode="agg")` at the concurrency that Little's law
  gives with the tool's own request latency (fixed point of b = rate x latency(b));
- decode-only / prefill-only rows: `static_gen` / `static_ctx`.
"""

from __future__ import annotations

import argparse
import logging
import math
import re
import time
import warnings
from importlib.metadata import version
from pathlib import Path

from aiconfigurator.cli import api
from aiconfigurator.sdk.backends.factory import get_backend
from aiconfigurator.sdk.config import RuntimeConfig
from aiconfigurator.sdk.inference_session import InferenceSession
from aiconfigurator.sdk.models import get_model
from aiconfigurator.sdk.perf_database import get_database_view, get_latest_database_version
from measured_rows import (
    CONFIGS_DIR,
    SHAREGPT_LENGTHS,
    Unexpressible,
    Workload,
    default_csv_path,
    engine_family,
    evaluate_rows,
    first_int,
    is_cpu,
    kv_cache_fp8,
    load_rows,
    metric_value,
    tensor_parallel,
    workload,
    write_result,
)

LOCAL_CONFIGS = CONFIGS_DIR / "aiconfigurator"
NO_LIMIT_MS = 1e12
PREFILL_TOKENS_PER_RANK = 8192  # vLLM/SGLang/TRT-LLM default max_num_batched_tokens
# (pattern on the lower-cased CSV model, model path or None, is MoE, reason when None).
MODEL_TABLE = (
    (r"deepseek", "deepseek-ai/DeepSeek-V3", True, ""),
    (r"llama-4-maverick", "meta-llama/Llama-4-Maverick-17B-128E-Instruct", True, ""),
    (r"gpt-j-6b", None, False, "GPTJForCausalLM is not a supported architecture"),
    (r"llama-3(\.\d)?-405b", "meta-llama/Meta-Llama-3.1-405B", False, ""),
    (r"llama-3(\.\d)?-70b", "meta-llama/Meta-Llama-3.1-70B", False, ""),
    (r"llama-3(\.\d)?-8b", "meta-llama/Meta-Llama-3.1-8B", False, ""),
    (r"llama-2-70b|llama-70b", str(LOCAL_CONFIGS / "Llama-2-70b-hf"), False, ""),
    (r"llama-2-7b|^llama-7b", str(LOCAL_CONFIGS / "Llama-2-7b-hf"), False, ""),
    (r"mixtral-8x7b", str(LOCAL_CONFIGS / "Mixtral-8x7B-v0.1"), True, ""),
    (r"qwen3-235b-a22b", "Qwen/Qwen3-235B-A22B", True, ""),
    (r"qwen3-30b-a3b", "Qwen/Qwen3-30B-A3B", True, ""),
)
# (pattern on the lower-cased CSV GPU, system or None). Systems with kernel data in the wheel.
SYSTEM_TABLE = (
    (r"h100 pcie", None),  # h100_pcie.yaml exists, but without kernel data
    (r"h100", "h100_sxm"),
    (r"h200", "h200_sxm"),
    (r"^gb200", "gb200"),
    (r"^b200", "b200_sxm"),
    (r"a100", "a100_sxm"),
    (r"l40s", "l40s"),
    (r"rtx pro 6000", "rtx_pro_6000_server"),
)
GEMM_MODES = (("nvfp4", "nvfp4"), ("fp8", "fp8"), ("bf16", "bfloat16"), ("fp16", "bfloat16"))
QUANT_KEYS = ("gemm_quant_mode", "kvcache_quant_mode", "moe_quant_mode")
QUIET_LOGS = ("Loading low-fidelity", "resolve_attention_lane_order", "deprecated")


class DoesNotFit(Unexpressible):
    """The tool warns that the row's batch does not fit memory; it still gave a number."""

    def __init__(self, warning: str, predicted: float) -> None:
        super().__init__(f"tool: does not fit memory: {warning[:200]}")
        self.details = {"predicted_despite_warning": predicted}


class WarningLog(logging.Handler):
    """Collects the tool's warnings for the row being run."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if not any(q in message for q in QUIET_LOGS) and message not in self.messages:
            self.messages.append(message[:300])


def lookup_model(row: dict[str, str]) -> tuple[str, bool]:
    for pattern, path, is_moe, reason in MODEL_TABLE:
        if re.search(pattern, row["model"].lower()):
            if path is None:
                raise Unexpressible(f"model {row['model']}: {reason}")
            return path, is_moe
    raise Unexpressible(f"model {row['model']}: no shipped config")


def lookup_system(row: dict[str, str]) -> str:
    for pattern, system in SYSTEM_TABLE:
        if re.search(pattern, row["gpu"].lower()) and system:
            return system
    raise Unexpressible(f"GPU {row['gpu']}: no system with kernel data in the wheel")


def quant_modes(row: dict[str, str], is_moe: bool) -> dict[str, str]:
    """Quantization flags; empty when the row does not state them (the tool then infers)."""
    weights = row["precision_weights"].lower()
    if "not stated" in weights and not weights.startswith("bf16"):
        return {}
    gemm = next((mode for prefix, mode in GEMM_MODES if weights.startswith(prefix)), None)
    if gemm is None:
        raise Unexpressible(f"weight precision {row['precision_weights']}: no such quant mode")
    modes = {
        "gemm_quant_mode": gemm,
        "kvcache_quant_mode": "fp8" if kv_cache_fp8(row) else "bfloat16",
    }
    if is_moe:
        modes["moe_quant_mode"] = gemm
    return modes


def parallelism(row: dict[str, str], is_moe: bool) -> dict[str, int]:
    """TP, attention-DP and MoE TP/EP for the GPUs of one row."""
    tp = tensor_parallel(row)
    if is_moe and "dp" in row["ep"].lower():  # wide-EP rows: "8 (DP+EP)"
        width = first_int(row["ep"]) or 1
        return {"tp_size": 1, "attention_dp_size": width, "moe_tp_size": 1, "moe_ep_size": width}
    if is_moe and "enable_attention_dp" in row["notes"]:  # TRT-LLM 1.0 MoE tables
        return {"tp_size": 1, "attention_dp_size": tp, "moe_tp_size": 1, "moe_ep_size": tp}
    if is_moe:
        return {"tp_size": tp, "moe_tp_size": tp, "moe_ep_size": 1}
    return {"tp_size": tp}


def estimate(point: dict[str, object], mode: str, batch: int) -> dict[str, float]:
    result = api.cli_estimate(**point, mode=mode, batch_size=batch)
    raw = dict(result.get())
    raw["oom_warning"] = result.kv_cache_warning
    return raw


def agg_session(point: dict[str, object]) -> InferenceSession:
    """An agg InferenceSession built the way `cli_estimate` builds one (`_run_agg_estimate`)."""
    system, backend, model_path = (
        str(point[k]) for k in ("system_name", "backend_name", "model_path")
    )
    db_version = get_latest_database_version(system=system, backend=backend)
    db = get_database_view(system, backend, db_version, database_mode="SILICON")
    tp, dp = int(point["tp_size"]), int(point.get("attention_dp_size", 1))
    moe_tp, moe_ep = api._resolve_moe_parallelism(
        tp, dp, point.get("moe_tp_size"), point.get("moe_ep_size"), model_path=model_path
    )
    config = api._build_model_config(
        tp_size=tp,
        pp_size=1,
        attention_dp_size=dp,
        moe_tp_size=moe_tp,
        moe_ep_size=moe_ep,
        **{k: point[k] for k in QUANT_KEYS if k in point},
    )
    api.resolve_context_fmha_by_data(config, model_path, db, backend, is_context_role=True)
    api.resolve_dsv4_moe_arch(config, model_path, system_name=system, backend_name=backend)
    api.resolve_nvfp4_for_system(config, system, model_path, backend_name=backend)
    return InferenceSession(get_model(model_path, config, backend), db, get_backend(backend))


def tool_sweep(point: dict[str, object], cap: int) -> dict[str, float]:
    """The tool's own batch x ctx-token sweep at fixed parallelism; its best seq/s point."""
    runtime = RuntimeConfig(
        isl=point["isl"], osl=point["osl"], batch_size=1, ttft=NO_LIMIT_MS, tpot=NO_LIMIT_MS
    )
    summary = agg_session(point).find_best_agg_result_under_constraints(
        runtime, top_k=1, max_batch_size=cap
    )
    df = summary.get_summary_df()
    if df is None or df.empty:
        raise Unexpressible("tool: no batch fits memory")
    return dict(df.iloc[0].drop(labels=["_per_ops_source"], errors="ignore"))


def littles_law_agg(point: dict[str, object], rate: float) -> dict[str, float]:
    """Agg estimate at the concurrency b = rate x request latency(b) (fixed point)."""
    batch, raw = 1, {}
    for _ in range(20):
        raw = estimate(point, "agg", batch)
        nxt = max(1, math.ceil(rate * raw["request_latency"] / 1000))
        if nxt == batch:
            break
        batch = nxt
    return raw


def largest_fitting_batch(point: dict[str, object], mode: str, cap: int) -> int:
    """Largest batch per rank (<= cap) the tool says fits, by bisection on its OOM warning."""
    low, high = 1, cap
    if estimate(point, mode, cap)["oom_warning"] is None:
        return cap
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if estimate(point, mode, mid)["oom_warning"] is None else (low, mid)
    return low


def predict(point: dict[str, object], wl: Workload) -> tuple[dict[str, float], dict]:
    """What the tool predicts for the GPUs it modelled, and the raw tool result."""
    if wl.kind == "max_load":
        raw = tool_sweep(point, wl.cap or 2048)
    elif wl.kind == "poisson":
        raw = littles_law_agg(point, wl.request_rate or 1.0)
    elif wl.kind == "decode_only":
        batch = wl.batch or largest_fitting_batch(point, "static_gen", wl.cap or 256)
        raw = estimate(point, "static_gen", batch)
    elif wl.kind == "prefill_only":
        raw = estimate(point, "static_ctx", max(1, PREFILL_TOKENS_PER_RANK // wl.isl))
    else:
        raw = estimate(point, "static", wl.batch or 1)
    ttft_ms, tpot_ms = float(raw["ttft"]), float(raw["tpot"])
    return {
        "gpus": float(raw["num_total_gpus"]),
        "output_tok_s": float(raw["tokens/s"]),
        "prefill_tok_s": float(raw["global_bs"]) * wl.isl / ttft_ms * 1000 if ttft_ms else math.nan,
        "decode_tok_s": 1000 / tpot_ms if tpot_ms else math.nan,
        "ttft_ms": ttft_ms,
        "tpot_ms": tpot_ms,
    }, raw


def build_point(row: dict[str, str]) -> tuple[dict[str, object], Workload]:
    """The tool's inputs for one row; raises Unexpressible with the first reason that applies."""
    if is_cpu(row):
        raise Unexpressible("CPU inference: aiconfigurator models GPU systems only")
    backend = engine_family(row)
    if backend is None:
        raise Unexpressible(f"engine {row['engine']}: not modelled (trtllm, vllm, sglang only)")
    model_path, is_moe = lookup_model(row)
    system = lookup_system(row)
    wl = workload(row)
    point = {
        "model_path": model_path,
        "system_name": system,
        "backend_name": backend,
        "isl": max(wl.isl, 1),
        "osl": max(wl.osl, 1),
        **parallelism(row, is_moe),
        **quant_modes(row, is_moe),
    }
    return point, wl


def evaluate_row(row: dict[str, str], log: WarningLog) -> dict[str, object]:
    point, wl = build_point(row)
    log.messages.clear()
    predicted, raw = predict(point, wl)
    picked = ("bs", "global_bs", "ctx_tokens", "concurrency", "ttft", "tpot", "tokens/s", "memory")
    inputs = {
        **point,
        "estimate": wl.kind,
        "workload": wl.to_dict(),
        "tool_result": {k: _plain(raw[k]) for k in picked if k in raw},
        "backend_version": _plain(raw.get("version")),
        "modelled_gpus": predicted["gpus"],
    }
    if log.messages:
        inputs["tool_warnings"] = list(log.messages[:5])
    value = metric_value(row, wl, predicted)
    if raw.get("oom_warning"):
        raise DoesNotFit(raw["oom_warning"], value)
    return {"predicted": value, "inputs": inputs}


def _plain(value: object) -> object:
    if hasattr(value, "item"):
        value = value.item()
    return round(value, 3) if isinstance(value, float) else value


def settings() -> dict[str, object]:
    return {
        "database_mode": "SILICON (default)",
        "backend_version": "the tool's 'current' database version per system and backend",
        "api": "aiconfigurator.cli.api.cli_estimate (Python twin of `aiconfigurator cli "
        "estimate`) and InferenceSession.find_best_agg_result_under_constraints",
        "batch": {
            "static": "the row's batch, estimate mode static (prefill of the batch, then decode)",
            "max_load": "the tool's own agg sweep over batch (its schedule, up to 1024) and ctx "
            "tokens, TTFT/TPOT limits off, batch capped at the row's max_num_seqs, else "
            "vLLM/SGLang 256, TRT-LLM 2048; best seq/s",
            "poisson": "agg estimate at the Little's-law concurrency b = rate x latency(b)",
            "decode_only": "static_gen at the largest batch per rank that fits (cap as above)",
            "prefill_only": f"static_ctx at {PREFILL_TOKENS_PER_RANK} // ISL requests per rank",
        },
        "quantization": "fp8 -> gemm/moe fp8, nvfp4 -> gemm/moe nvfp4, bf16/fp16 -> bfloat16; "
        "KV fp8 when the row states it or uses a ModelOpt checkpoint; '(not stated)' -> "
        "the tool infers from the checkpoint",
        "moe_parallelism": "TRT-LLM 1.0 MoE rows (enable_attention_dp): TP 1, attention-DP = EP "
        "= row TP; wide-EP rows: DP = EP = row EP; other MoE rows: TP with MoE-TP",
        "free_gpu_memory_fraction": "tool default per backend",
        "sharegpt_mean_lengths": SHAREGPT_LENGTHS,
        "local_model_configs": sorted(p.name for p in LOCAL_CONFIGS.iterdir() if p.is_dir()),
        "does_not_fit": "rows whose batch the tool says does not fit memory are unexpressible; "
        "the number it gave anyway is kept as predicted_despite_warning",
    }


def run(rows: list[dict[str, str]], log: WarningLog) -> dict[str, object]:
    started = time.perf_counter()

    def evaluate(row: dict[str, str]) -> dict[str, object]:
        result = evaluate_row(row, log)
        print(f"{row['id']}: {result['predicted']:.4g} (measured {row['value']})", flush=True)
        return result

    predicted, unexpressible = evaluate_rows(rows, evaluate)
    return {
        "tool": "aiconfigurator",
        "version": version("aiconfigurator"),
        "settings": settings(),
        "rows": predicted,
        "unexpressible": unexpressible,
        "elapsed_s": round(time.perf_counter() - started, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="?", type=Path, default=default_csv_path())
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    log = WarningLog()
    for name in ("aiconfigurator", "aiconfigurator_core"):
        tool_logger = logging.getLogger(name)
        tool_logger.setLevel(logging.WARNING)
        tool_logger.handlers = [log]
        tool_logger.propagate = False
    result = run(load_rows(args.csv), log)
    path = write_result("aiconfigurator", result)
    print(
        f"aiconfigurator: {len(result['rows'])} rows predicted, "
        f"{len(result['unexpressible'])} unexpressible, {result['elapsed_s']} s -> {path}"
    )


if __name__ == "__main__":
    main()
