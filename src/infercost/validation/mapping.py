"""Map a measured row onto the catalog and the performance model.

A row names its hardware, model, precision and engine the way its source wrote them ("H100
SXM 80GB", "LLaMA-70B (Llama-2-70B)", "Llama-3.1-70B-Instruct-FP8-KV", "int4 weight-only
(g32)"). Mapping turns that into a `Case`: catalog entries, a parallel layout, the request
shape, how the engine batched (static, continuous at the batch it reaches, batch 1, or a
request rate) and how the measured figure scales (whole group, per GPU, per node). Whatever
could not be read is an `Unmapped` row with the reason; a guess is written down in
`Case.assumptions`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from infercost.catalog.engines import Engine, engine
from infercost.catalog.hardware import Accelerator, accelerators, server_for
from infercost.catalog.models import ModelArch, models
from infercost.errors import InputError
from infercost.units import weight_and_compute
from infercost.validation.dataset import MeasuredRow

# Metric families as the issue and the summary use them.
THROUGHPUT = "throughput"
LATENCY = "latency"

# What the model predicts for a metric, and its family.
_METRICS: dict[str, tuple[str, str]] = {
    "throughput_output_tok_s": ("output_tok_s", THROUGHPUT),
    "throughput_per_gpu_output_tok_s": ("output_tok_s", THROUGHPUT),
    "prefill_tok_s": ("prefill_tok_s", THROUGHPUT),
    "decode_tok_s_single_stream": ("output_tok_s", THROUGHPUT),
    "requests_per_s": ("requests_s", THROUGHPUT),
}
_LATENCY_PREFIXES = {"ttft_ms": "ttft_ms", "tpot_ms": "tpot_ms", "itl_ms": "tpot_ms"}


_ENGINE_WORDS = (
    ("tensorrt", "tensorrt-llm"),
    ("trt-llm", "tensorrt-llm"),
    ("nemo", "tensorrt-llm"),
    ("sglang", "sglang"),
    ("vllm", "vllm"),
    ("llama.cpp", "llama.cpp"),
    ("llamacpp", "llama.cpp"),
    ("ggml", "llama.cpp"),
    ("gpt-fast", "gpt-fast"),
    ("deepseek", "deepseek"),
)

# Request shapes of datasets that rows name instead of giving lengths.
SHAREGPT = (213.0, 218.0)  # prompt, output tokens per request
SHAREGPT_MAX_TOKENS = 2048.0  # benchmark scripts drop pairs longer than this
_SHAREGPT_NOTE = (
    "ShareGPT lengths: 213 prompt and 218 output tokens per request, derived from vLLM issue "
    "#12315's benchmark_throughput totals (1,414 tok/s, 714 output tok/s at 3.28 req/s); "
    "outputs spread exponentially, prompt + output ≤ 2,048 (the benchmarks' filter)"
)
DEEPSEEK_PRODUCTION = (4384.0, 1211.0)
_DEEPSEEK_NOTE = (
    "DeepSeek production lengths: 4,384 prompt and 1,211 output tokens, derived from the "
    "published 608 B input / 168 B output tokens a day and the 4,989 mean KV length"
)
DEFAULT_DECODE_OUTPUT = 128.0  # llama-bench tg128; TensorRT-LLM tables' shortest output
GPT_FAST_OUTPUT = 200.0  # gpt-fast generate.py --max_new_tokens default
DEFAULT_PREFILL_PROMPT = 512.0  # llama-bench pp512


@dataclass(frozen=True)
class Case:
    """A measured row in the model's terms."""

    row_id: str
    source: str
    metric: str  # the CSV's metric name
    family: str  # THROUGHPUT or LATENCY
    target: str  # output_tok_s | prefill_tok_s | requests_s | ttft_ms | tpot_ms
    measured: float
    engine: Engine
    model: ModelArch
    gpu: Accelerator
    tp: int
    pp: int
    dp_attention: int
    ep: int
    weights: str  # precision name or w/a shorthand
    kv: str
    input_tokens: float
    output_tokens: float
    mode: str  # static | continuous | single | rate | offline | server (MLPerf's scenarios)
    batch: float | None  # static batch or fixed concurrency; None: the engine's choice
    max_requests: float  # requests available to batch (caps concurrency)
    request_rate: float | None
    scale: float  # row value = per-replica value × scale
    include_prefill: bool = True
    cached_fraction: float = 0.0
    arrival_group: float = 1.0  # requests arriving together (a measured closed loop's lockstep)
    target_interactivity: float | None = None
    comm_overlap: float = 0.0
    max_batched_tokens: int | None = None
    output_distribution: str = "fixed"  # fixed | exponential (chat datasets)
    max_output_tokens: float = math.inf  # longest output the dataset allows
    scheduler_steps: int = 1  # decode steps scheduled at once (vLLM multi-step)
    mixed_prefill: bool | None = None  # prompt chunks ride with decodes; None: the engine's
    # Speculative decoding (issue 13): None when the row used none.
    spec_method: str | None = None  # mtp | eagle | draft | ngram
    spec_draft_tokens: int = 0  # tokens proposed per verify step
    spec_acceptance_length: float | None = None  # mean tokens emitted per verify step
    spec_acceptance_rate: float | None = None  # share of drafted tokens accepted
    expert_balance: str | None = None  # MoE routing: "balanced" (a load balancer), "none"
    # MLPerf Server: the (metric, percentile, seconds) its rate had to meet
    latency_constraints: tuple[tuple[str, float, float], ...] = ()
    assumptions: tuple[str, ...] = ()

    @property
    def replica_gpus(self) -> int:
        return self.tp * self.pp * self.dp_attention

    @property
    def hardware_family(self) -> str:
        return self.gpu.family


@dataclass(frozen=True)
class Unmapped:
    row_id: str
    source: str
    metric: str
    reason: str


def engine_family(text: str, version: str = "") -> Engine:
    """The engine family a free-text engine name (and version) belongs to.

    TensorRT-LLM's PyTorch backend (the default from 1.0) is a different runtime from the
    C++ one that earlier tables measured, so it is a family of its own.
    """
    low = text.lower()
    if "tensorrt" in low and "pytorch" in version.lower():
        return engine("tensorrt-llm-pytorch")
    for word, family in _ENGINE_WORDS:
        if word in low:
            return engine(family)
    return engine("other")


# ---------------------------------------------------------------------------------- names


def _parenthetical(text: str) -> tuple[str, list[str]]:
    """`text` without its (...) groups, and the groups' contents."""
    inner = re.findall(r"\(([^()]*)\)", text)
    outer = re.sub(r"\([^()]*\)", " ", text)
    return " ".join(outer.split()), inner


_GENERIC = {"cpu", "gpu", "node"}


def find_accelerator(text: str) -> Accelerator:
    """The catalog accelerator a free-text GPU/CPU description names."""
    table = accelerators()
    outer, _ = _parenthetical(text.removeprefix("CPU:").strip())
    candidates = [text, outer, *outer.split(",")]
    for candidate in candidates:
        words = candidate.split()
        for n in range(len(words), 0, -1):  # the longest leading phrase the catalog knows
            phrase = " ".join(words[:n])
            if phrase.lower() in _GENERIC:
                continue
            if phrase in table:
                return table.get(phrase)
    raise InputError("gpu", f"no catalog accelerator matches {text!r}")


_MODEL_SUFFIXES = re.compile(
    r"[-_ ](instruct|chat|hf|it|base|fp8[-_]kv|fp8|nvfp4|fp4|awq|gptq|int4|int8|v\d+(\.\d+)*)$",
    re.IGNORECASE,
)


def find_model(text: str) -> ModelArch:
    """The catalog model a free-text name names; a clarification in brackets wins."""
    table = models()
    outer, inner = _parenthetical(text)
    candidates = [re.sub(r"\s+arch(itecture)?$", "", c.strip(), flags=re.I) for c in inner]
    candidates += [text, outer, *outer.split("/")]
    for candidate in candidates:
        name = candidate.strip()
        while name:
            if name in table:
                return table.get(name)
            shorter = _MODEL_SUFFIXES.sub("", name)
            if shorter == name:
                break
            name = shorter
    raise InputError("model", f"no catalog model matches {text!r}")


def find_precision(text: str, default: str = "bf16") -> tuple[str, str | None]:
    """A weight precision (or w/a shorthand) from free text, and a note when it was a guess."""
    low = text.lower().strip()
    if not low or "not stated" in low.split("(")[0] or low.startswith("("):
        return default, f"weights {default} (precision not stated)"
    if "weight-only" in low or "weight only" in low:
        return ("w4a16" if "int4" in low or "4-bit" in low else "w8a16"), None
    if low.startswith("q4") and "ggml" in low:
        return "q4_0", "ggml 4-bit read as Q4_0"
    outer, _ = _parenthetical(low)
    for token in re.split(r"[\s;,]+", outer):
        token = token.strip()
        if not token:
            continue
        name = {"f16": "fp16", "f32": "fp32"}.get(token, token)
        try:
            weight_and_compute(name)
        except InputError:
            continue
        note = f"weights {name} (default; not stated)" if "not stated" in low else None
        return name, note
    raise InputError("precision_weights", f"unknown precision {text!r}")


# ---------------------------------------------------------------------------------- numbers


def _int(text: str) -> int | None:
    m = re.match(r"\s*~?(\d+)", text)
    return int(m.group(1)) if m else None


def _float(text: str) -> float | None:
    m = re.match(r"\s*~?(\d+(?:\.\d+)?)", text)
    return float(m.group(1)) if m else None


def _metric(name: str) -> tuple[str, str]:
    if name in _METRICS:
        return _METRICS[name]
    for prefix, target in _LATENCY_PREFIXES.items():
        if name.startswith(prefix):
            return target, LATENCY
    raise InputError("metric", f"unknown metric {name!r}")


# ---------------------------------------------------------------------------------- rows


@dataclass
class _Notes:
    items: list[str] = field(default_factory=list)

    def add(self, note: str | None) -> None:
        if note:
            self.items.append(note)


def map_row(row: MeasuredRow) -> Case | Unmapped:
    """The row as a `Case`, or `Unmapped` with the reason."""
    try:
        return _map(row)
    except InputError as exc:
        return Unmapped(row.id, row.source, row.get("metric"), str(exc))


def _map(row: MeasuredRow) -> Case:
    notes = _Notes()
    metric = row.get("metric")
    target, family = _metric(metric)
    measured = _float(row.get("value"))
    if measured is None or not math.isfinite(measured) or measured <= 0:
        raise InputError("value", f"not a positive number: {row.get('value')!r}")
    engine = engine_family(row.get("engine"), row.get("engine_version"))
    gpu = find_accelerator(row.get("gpu"))
    arch = find_model(row.get("model"))
    weights, note = find_precision(row.get("precision_weights"), arch.released_precision)
    notes.add(note)
    kv = _kv_precision(row, weights, engine, notes)

    text = " ".join(row.get(c) for c in ("batch_or_concurrency", "unit", "notes")).lower()
    gpus_text = row.get("num_gpus")
    tp = _int(row.get("tp")) or 0
    pp = _int(row.get("pp")) or 1
    ep_text = row.get("ep")
    ep = _int(ep_text) or 1
    group = _int(gpus_text) or 0
    dp_attention = 1
    if ep > 1 and (arch.mla is not None or "dp" in ep_text.lower()):
        # DeepSeek-style: attention data-parallel across the expert-parallel group.
        tp = tp or 1
        dp_attention = max(ep // tp, 1)
    elif arch.moe is not None and engine.family == "tensorrt-llm-pytorch" and (tp or group) > 1:
        width = tp or group
        tp, dp_attention, ep = 1, width, width
        notes.add(f"attention DP{width} + EP{width} (trtllm-bench MoE setting; EP not printed)")
    if not tp:
        tp = max(group // (pp * dp_attention), 1) if group else 1
    replica = tp * pp * dp_attention
    if arch.moe is None:
        ep = 1
    ep = min(ep, replica)

    scale = _scale(row, metric, text, replica, group, gpu, notes)
    input_tokens, output_tokens = _lengths(row, arch, engine, target, notes)
    mode, batch, max_requests, rate = _batching(row, text, target, replica, notes)
    include_prefill = not re.search(r"decode (tgs|tpgs)|\(decode\)|disaggregated", text)
    if target == "prefill_tok_s":
        include_prefill = True
    cached = 0.0
    hit = re.search(r"(\d+(?:\.\d+)?)\s*%[^,;)]*cache hit", row.get("input_len").lower())
    if hit:
        cached = float(hit.group(1)) / 100
    interactivity = None
    speed = re.search(r"output speed (\d+(?:\.\d+)?)\s*[-–]\s*(\d+(?:\.\d+)?) tok/s", text)
    if speed and mode == "continuous":
        interactivity = (float(speed.group(1)) + float(speed.group(2))) / 2
        notes.add(f"batch limited by the stated {interactivity:g} tok/s per user")
    steps = re.search(r"num-scheduler-steps (\d+)", row.get("notes"))
    scheduler_steps = int(steps.group(1)) if steps and engine.family == "vllm" else 1
    if engine.family == "vllm" and not steps and "multi-step" in text:
        scheduler_steps = 10
        notes.add("vLLM multi-step scheduling at 10 steps (the source's stated setting)")
    mixed = None
    version = re.match(r"\s*0\.(\d+)", row.get("engine_version"))
    if engine.family == "vllm" and version and int(version.group(1)) < 8:
        mixed = False  # vLLM before V1 (0.8) ran prefill steps apart from decodes
    overlap = 1.0 if "overlap" in text or engine.family == "deepseek" else 0.0
    budget = None
    per_gpu_tokens = re.search(r"(\d+)k tokens per gpu", text)
    if per_gpu_tokens:
        budget = int(per_gpu_tokens.group(1)) * 1024
    variable = any("sharegpt" in row.get(c).lower() for c in ("input_len", "output_len"))
    return Case(
        row_id=row.id,
        source=row.source,
        metric=metric,
        family=family,
        target=target,
        measured=measured,
        engine=engine,
        model=arch,
        gpu=gpu,
        tp=tp,
        pp=pp,
        dp_attention=dp_attention,
        ep=ep,
        weights=weights,
        kv=kv,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        mode=mode,
        batch=batch,
        max_requests=max_requests,
        request_rate=rate,
        scale=scale,
        include_prefill=include_prefill,
        cached_fraction=cached,
        target_interactivity=interactivity,
        comm_overlap=overlap,
        max_batched_tokens=budget,
        output_distribution="exponential" if variable else "fixed",
        scheduler_steps=scheduler_steps,
        mixed_prefill=mixed,
        max_output_tokens=SHAREGPT_MAX_TOKENS - input_tokens if variable else math.inf,
        assumptions=tuple(notes.items),
    )


def _kv_precision(row: MeasuredRow, weights: str, engine: Engine, notes: _Notes) -> str:
    text = row.get("precision_kv").lower()
    if text:
        return {"f16": "fp16", "f32": "fp32"}.get(text.split()[0], text.split()[0])
    if "fp8-kv" in row.get("model").lower() or "fp8_kv" in row.get("model").lower():
        return "fp8"
    if engine.family.startswith("tensorrt-llm") and weights in ("fp8", "nvfp4", "fp4"):
        notes.add("KV cache fp8 (ModelOpt checkpoints quantise KV; not stated)")
        return "fp8"
    if engine.family == "llama.cpp":
        return "fp16"
    return "bf16"


def _scale(
    row: MeasuredRow,
    metric: str,
    text: str,
    replica: int,
    group: int,
    gpu: Accelerator,
    notes: _Notes,
) -> float:
    """Multiplier from one replica's figure to the row's unit."""
    unit = row.get("unit").lower()
    if metric.startswith(("ttft", "tpot", "itl")) or metric == "decode_tok_s_single_stream":
        return 1.0
    if "per_gpu" in metric or "/gpu" in unit or "per gpu" in unit or "tpgs" in unit:
        return 1.0 / replica
    if "node" in unit:
        node = server_for(gpu)
        per_node = node.accelerators_per_server if node else 8
        return per_node / replica
    if group and group != replica:
        if group % replica:
            raise InputError("num_gpus", f"{group} GPUs is not a whole number of replicas")
        notes.add(f"{group // replica} replicas of {replica} GPU(s)")
        return group / replica
    return 1.0


def _lengths(
    row: MeasuredRow, arch: ModelArch, engine: Engine, target: str, notes: _Notes
) -> tuple[float, float]:
    raw_in, raw_out = row.get("input_len"), row.get("output_len")
    low_in = raw_in.lower()
    if "sharegpt" in low_in or "sharegpt" in raw_out.lower():
        notes.add(_SHAREGPT_NOTE)
        return SHAREGPT
    if low_in.startswith("mixed"):
        if arch.mla is None:
            raise InputError("input_len", f"mixed production lengths not known for {arch.id}")
        notes.add(_DEEPSEEK_NOTE)
        return DEEPSEEK_PRODUCTION
    if not raw_in and not raw_out:
        raise InputError("input_len", "prompt and output lengths not stated")
    prompt = _float(raw_in)
    if prompt is None:
        if target == "prefill_tok_s" or "pp" in low_in:
            notes.add(f"prompt {DEFAULT_PREFILL_PROMPT:g} tokens (llama-bench pp512; not stated)")
            prompt = DEFAULT_PREFILL_PROMPT
        else:
            prompt = 0.0
    output = _float(raw_out)
    if output is None or (output == 0 and target != "prefill_tok_s"):
        guess = GPT_FAST_OUTPUT if engine.family == "gpt-fast" else DEFAULT_DECODE_OUTPUT
        if target in ("output_tok_s", "tpot_ms"):
            notes.add(f"output {guess:g} tokens (not stated)")
        output = guess
    return prompt, max(output, 1.0)


def _batching(
    row: MeasuredRow, text: str, target: str, replica: int, notes: _Notes
) -> tuple[str, float | None, float, float | None]:
    """(mode, batch or concurrency, requests available, request rate)."""
    spec = row.get("batch_or_concurrency").lower()
    rate = _float(row.get("request_rate"))
    requests = re.search(r"(\d+)\s+(?:requests|prompts)", f"{spec} {row.get('input_len').lower()}")
    available = float(requests.group(1)) if requests else math.inf
    static = re.search(r"static batch (\d+)", spec)
    if static:
        return "static", float(static.group(1)), available, None
    if rate is not None and rate > 0:
        return "rate", None, available, rate
    per_gpu = re.search(r"~?(\d+)\s+(?:requests\s+)?per gpu", spec)
    if per_gpu and "tokens" not in spec.split("per gpu")[0]:
        return "continuous", float(per_gpu.group(1)) * replica, math.inf, None
    cap = re.search(r"max_num_seqs (\d+)", spec)
    if cap:
        return "continuous", None, min(available, float(cap.group(1))), None
    streams = re.match(r"\s*(\d+)\s+(?:concurrent|streams|parallel)", spec)
    if streams:  # a fixed number of requests in flight together
        n = float(streams.group(1))
        return "continuous", n, min(available, n), None
    single = re.match(r"\s*1\b", spec)
    if single and not requests:
        return "single", 1.0, 1.0, None
    return "continuous", None, available, None
