"""Rows of measured.csv as workloads a peer tool can be asked to predict.

Shared by the peer runners (each runs in its own virtualenv, so this module uses the standard
library only). A row names a model, GPUs, an engine, lengths and a batching regime. `workload()`
turns the regime text into one of a few kinds, and `metric_value()` turns what a tool predicts
for the GPUs it modelled into the row's own metric and unit:

- ``static``: a fixed batch runs prefill, then decode (TRT-LLM 0.5-0.7 gptSessionBenchmark,
  NeMo, every batch-1 row). Throughput = batch x output / (prefill time + decode time).
- ``max_load``: every request queued at once; the batch is the tool's own pick, capped at the
  engine's maximum (vLLM/SGLang 256 = vLLM's default max_num_seqs, TRT-LLM 2048, or the row's
  stated max_num_seqs).
- ``poisson``: online arrivals at ``request_rate`` (only TTFT rows).
- ``decode_only`` / ``prefill_only``: one phase of a disaggregated deployment.

ShareGPT rows use fixed mean lengths (`SHAREGPT_LENGTHS`): output from the rows' own
output-tok/s / req/s ratios, input from VLLM-I12315's (total - output) tok/s / req/s.
"""

from __future__ import annotations

import csv
import json
import re
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

PROJECT_CSV = (
    Path(__file__).resolve().parents[2] / "src" / "infercost" / "validate" / "data" / "measured.csv"
)
SHARED_CSV = Path("/work/shared/validation/measured.csv")
RESULTS_DIR = Path(__file__).resolve().parents[1] / "results" / "peers"
CONFIGS_DIR = Path(__file__).resolve().parent / "configs"

THROUGHPUT_METRICS = (
    "throughput_output_tok_s",
    "throughput_per_gpu_output_tok_s",
    "prefill_tok_s",
    "decode_tok_s_single_stream",
    "requests_per_s",
)
LATENCY_PREFIXES = ("ttft_ms", "tpot_ms", "itl_")

# (mean input tokens, mean output tokens) per source, and where the numbers come from.
SHAREGPT_LENGTHS = {
    "SGL-V060": (213, 194),  # output: 4281.51 tok/s / 22.03 req/s (SGL-V060-01/02)
    "VLLM-BK": (213, 218),  # vLLM benchmark_throughput, 200 ShareGPT prompts, as VLLM-I12315
    "VLLM-I12315": (213, 218),  # (1414.42 - 714.48) / 3.28 in, 714.48 / 3.28 out
}
# Output length where the row leaves it empty: the benchmark program's own default.
DEFAULT_OUTPUT_LEN = {
    "GPTFAST": 200,  # gpt-fast generate.py --max_new_tokens default
    "XDAI": 128,  # llama-bench default tg128 (the overview's "mean TG" lengths are not stated)
    "TRTBLOG-H100A100": 128,  # the blog's throughput rows use 128/128
}
PP_MEAN_INPUT_LEN = 512  # llama-bench default pp512 for "pp (mean)"
ENGINE_BATCH_CAP = {"vllm": 256, "sglang": 256, "trtllm": 2048}


class Unexpressible(Exception):
    """The tool cannot express this row; the message says why, `details` adds fields."""

    details: dict[str, object] = {}  # noqa: RUF012 (read-only default)


def evaluate_rows(
    rows: list[dict[str, str]], evaluate: Callable[[dict[str, str]], dict[str, object]]
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """(predicted rows, unexpressible rows): a row the tool rejects or fails on is recorded
    with the reason, never allowed to stop the run."""
    predicted: list[dict[str, object]] = []
    unexpressible: list[dict[str, object]] = []
    for row in rows:
        try:
            result = evaluate(row)
        except Unexpressible as e:
            unexpressible.append({"id": row["id"], "reason": str(e), **e.details})
            continue
        except Exception as e:  # the tools raise or assert on unsupported inputs
            reason = f"tool error: {type(e).__name__}: {str(e)[:300]}"
            unexpressible.append({"id": row["id"], "reason": reason})
            continue
        measured = float(row["value"])
        predicted.append({"id": row["id"], "metric": row["metric"], "measured": measured, **result})
    return predicted, unexpressible


@dataclass(frozen=True)
class Workload:
    kind: str  # static | max_load | poisson | decode_only | prefill_only
    isl: int
    osl: int
    batch: int | None = None  # static batch, or batch per GPU for decode_only/prefill_only
    cap: int | None = None  # max_load: largest batch the engine would run
    request_rate: float | None = None
    assumptions: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, object]:
        return {k: v for k, v in asdict(self).items() if v not in (None, ())}


def default_csv_path() -> Path:
    return PROJECT_CSV if PROJECT_CSV.exists() else SHARED_CSV


def load_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def source_prefix(row: dict[str, str]) -> str:
    return row["id"].rsplit("-", 1)[0]


def first_int(text: str) -> int | None:
    match = re.search(r"\d+", text)
    return int(match.group()) if match else None


def length(text: str) -> int | None:
    """A token count such as "128" or "~1"; None for free text ("mixed production ...")."""
    match = re.fullmatch(r"~?(\d+)", text.strip())
    return int(match.group(1)) if match else None


def num_gpus(row: dict[str, str]) -> int | None:
    return first_int(row["num_gpus"])


def tensor_parallel(row: dict[str, str]) -> int:
    return first_int(row["tp"]) or 1


def engine_family(row: dict[str, str]) -> str | None:
    engine = row["engine"].lower()
    if "tensorrt-llm" in engine or "nemo" in engine:
        return "trtllm"
    if engine.startswith("vllm"):
        return "vllm"
    if engine.startswith("sglang"):
        return "sglang"
    return None


def is_cpu(row: dict[str, str]) -> bool:
    return row["gpu"].upper().startswith("CPU") or row["num_gpus"].strip() == "0"


def kv_cache_fp8(row: dict[str, str]) -> bool:
    """FP8 KV cache: stated, or a ModelOpt checkpoint (those ship kv_cache_quant_algo FP8)."""
    return row["precision_kv"].lower().startswith("fp8") or "modelopt" in row["notes"].lower()


def lengths(row: dict[str, str]) -> tuple[int, int, list[str]]:
    """Input and output lengths, with a note for each one that is assumed."""
    notes: list[str] = []
    prefix, isl_text, osl_text = source_prefix(row), row["input_len"], row["output_len"]
    if "sharegpt" in isl_text.lower():
        if prefix not in SHAREGPT_LENGTHS:
            raise Unexpressible("ShareGPT row without known mean lengths")
        isl, osl = SHAREGPT_LENGTHS[prefix]
        notes.append(f"ShareGPT means: input {isl}, output {osl} tokens")
        return isl, osl, notes
    if "pp (mean)" in isl_text:
        isl = PP_MEAN_INPUT_LEN
        notes.append(f"input {isl} assumed (llama-bench pp512; lengths not stated)")
    else:
        isl = length(isl_text)
    osl = length(osl_text)
    if osl is None and row["metric"].startswith("ttft"):
        osl = 1
    elif osl is None and row["metric"] == "prefill_tok_s":
        osl = 0
    elif osl is None and prefix in DEFAULT_OUTPUT_LEN:
        osl = DEFAULT_OUTPUT_LEN[prefix]
        notes.append(f"output {osl} assumed (benchmark default; not stated)")
    if isl is None or osl is None:
        raise Unexpressible("input or output length not given")
    return isl, osl, notes


def workload(row: dict[str, str]) -> Workload:
    """Map a row's batching regime to a workload kind; raise Unexpressible if none fits."""
    if is_cpu(row):
        raise Unexpressible("CPU inference: not modelled by the tool")
    isl, osl, notes = lengths(row)
    regime = row["batch_or_concurrency"].lower()
    rate = row["request_rate"].strip()
    unit = row["unit"].lower()
    if row["metric"].startswith("ttft") and rate not in ("", "inf"):
        return Workload("poisson", isl, osl, request_rate=float(rate), assumptions=tuple(notes))
    if regime.startswith("static batch"):
        return Workload("static", isl, osl, batch=first_int(regime), assumptions=tuple(notes))
    if any(k in regime for k in ("max load", "at once", "offline", "batch set by", "max_num_seqs")):
        return Workload("max_load", isl, osl, cap=_batch_cap(row), assumptions=tuple(notes))
    if "per gpu" in regime and row["metric"] == "throughput_per_gpu_output_tok_s":
        return Workload("decode_only", isl, osl, batch=first_int(regime), assumptions=tuple(notes))
    if re.fullmatch(r"1( \(.*\))?", regime.strip()):
        return Workload("static", isl, osl, batch=1, assumptions=tuple(notes))
    if regime == "" and "decode" in unit:
        return Workload("decode_only", isl, osl, cap=_batch_cap(row), assumptions=tuple(notes))
    if regime == "" and "prefill" in unit:
        return Workload("prefill_only", isl, osl, assumptions=tuple(notes))
    raise Unexpressible(f"batching regime not expressible: {row['batch_or_concurrency']!r}")


def _batch_cap(row: dict[str, str]) -> int:
    stated = re.search(r"max_num_seqs (\d+)", row["batch_or_concurrency"])
    if stated:
        return int(stated.group(1))
    family = engine_family(row)
    if family is None:
        raise Unexpressible(
            f"max-load row for an engine without a known batch cap: {row['engine']}"
        )
    return ENGINE_BATCH_CAP[family]


def scope_gpus(row: dict[str, str], modelled_gpus: int) -> int:
    """How many GPUs the row's number covers: 1 (per GPU), a node, or the whole group."""
    unit = row["unit"].lower()
    node = re.search(r"per (\d+)-gpu node", unit)
    if node:
        return int(node.group(1))
    if "tok/s/gpu" in unit or row["metric"] == "throughput_per_gpu_output_tok_s":
        return 1
    return num_gpus(row) or modelled_gpus


def metric_value(row: dict[str, str], wl: Workload, predicted: dict[str, float]) -> float:
    """The row's metric, in its unit, from what the tool predicted for `predicted["gpus"]` GPUs.

    `predicted` holds any of: output_tok_s, prefill_tok_s (both for all modelled GPUs together),
    decode_tok_s (one stream), ttft_ms, tpot_ms.
    """
    metric = row["metric"]
    scale = scope_gpus(row, int(predicted["gpus"])) / predicted["gpus"]
    if metric in ("throughput_output_tok_s", "throughput_per_gpu_output_tok_s"):
        return predicted["output_tok_s"] * scale
    if metric == "prefill_tok_s":
        return predicted["prefill_tok_s"] * scale
    if metric == "requests_per_s":
        return predicted["output_tok_s"] * scale / wl.osl
    if metric == "decode_tok_s_single_stream":
        return predicted["decode_tok_s"]
    if metric.startswith("ttft"):
        return predicted["ttft_ms"]
    if metric.startswith("tpot"):
        return predicted["tpot_ms"]
    raise Unexpressible(f"metric not predicted: {metric}")


def metric_family(metric: str) -> str:
    if metric in THROUGHPUT_METRICS:
        return "throughput"
    if metric.startswith(LATENCY_PREFIXES):
        return "latency"
    return "other"


def mdape(rows: list[dict[str, object]], family: str | None = None) -> float | None:
    """Median of |predicted - measured| / measured x 100 over rows of one metric family."""
    errors = [
        abs(float(r["predicted"]) - float(r["measured"])) / float(r["measured"]) * 100
        for r in rows
        if family is None or metric_family(str(r["metric"])) == family
    ]
    return round(statistics.median(errors), 1) if errors else None


def write_result(name: str, result: dict[str, object]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, sort_keys=False) + "\n")
    return path
