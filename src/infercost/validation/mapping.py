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
from infercost.units import precision, weight_and_compute
from infercost.validation.dataset import MeasuredRow, source_of
from infercost.validation.datasets import dataset
from infercost.validation.freetext import read_row
from infercost.validation.schema import Measurement

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
    request_rate: float | None  # the whole system's (`replicas` replicas share it)
    scale: float  # row value = per-replica value × scale
    include_prefill: bool = True
    engine_cap: float | None = None  # the engine's stated cap on sequences; None: its default
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
    # replicas the row's request rate is spread over (num_gpus / one replica's GPUs)
    replicas: float = 1.0
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
    if re.search(r"(?:^|\s)\d+ ?[x×*]|[x×*] ?\d+$", outer, re.IGNORECASE):
        raise InputError("gpu", f"{text!r} counts GPUs: name the accelerator, count in num_gpus")
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
        name = _format(token, text)
        if name is None:
            continue
        note = f"weights {name} (default; not stated)" if "not stated" in low else None
        return name, note
    raise InputError("precision_weights", f"unknown precision {text!r}")


def _format(token: str, text: str) -> str | None:
    """The weight format one token names: "fp8", "W8A8-FP8" (fp8), "INT4-AWQ" and "GPTQ-int4"
    (w4a16: AWQ and GPTQ kernels multiply in 16 bit), "float8_e4m3fn"; parts joined by - or _
    must agree. A bare "W8A8" is int8 (SmoothQuant) or fp8 by source, so it is refused."""
    parts = [token] if _known(token) else re.split(r"[-_]", token)
    named = {n for p in parts if (n := _known(p))}
    if not named:
        return None
    if "w8a8" in named and len(named) > 1:
        named.discard("w8a8")  # the format names the type: "W8A8-FP8" is fp8, "-INT8" int8
        named = {"w8a8" if n == "int8" else n for n in named}
    elif "w8a8" in named:
        raise InputError("precision_weights", f"{text!r}: W8A8 in int8 or fp8?")
    if len(named) > 1:
        raise InputError("precision_weights", f"{text!r} names {' and '.join(sorted(named))}")
    return named.pop()


def _known(token: str) -> str | None:
    name = {"f16": "fp16", "f32": "fp32"}.get(token, token)
    try:
        weights, compute = weight_and_compute(name)
    except InputError:
        return None
    if weights.name == "int4" and compute is None:
        return "w4a16"  # int4 weights are dequantised to 16 bit when nobody says otherwise
    return name if compute is not None else weights.name  # "float8" is fp8; "w4a16" stays


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
    """A free-text row as a `Case` (through the strict reader), or `Unmapped` with the reason."""
    try:
        return case_of(read_row(row))
    except InputError as exc:
        return Unmapped(row.id, row.source, row.get("metric"), str(exc))


def map_measurement(m: Measurement) -> Case | Unmapped:
    """A structured measurement as a `Case`, or `Unmapped` with the reason."""
    try:
        return case_of(m)
    except InputError as exc:
        return Unmapped(m.id, source_of(m.id), _label(m), str(exc))


def _label(m: Measurement) -> str:
    per = "" if m.per == "aggregate" else f"_per_{m.per}"
    return f"{m.metric}{per}_{m.statistic}"


# what the model predicts for each measured quantity: (target, family, factor from SI)
_TARGETS: dict[str, tuple[str, str, float]] = {
    "output_tok_s": ("output_tok_s", THROUGHPUT, 1.0),
    "input_tok_s": ("prefill_tok_s", THROUGHPUT, 1.0),
    "requests_s": ("requests_s", THROUGHPUT, 1.0),
    "ttft_s": ("ttft_ms", LATENCY, 1e3),
    "tpot_s": ("tpot_ms", LATENCY, 1e3),
    "itl_s": ("tpot_ms", LATENCY, 1e3),
}
_MODES = {
    "static_batch": "static",
    "concurrency": "continuous",
    "request_rate": "rate",
    "offline": "offline",
    "mlperf_offline": "offline",
    "mlperf_server": "server",
    "production": "continuous",
}


def case_of(m: Measurement) -> Case:
    """The measurement in the model's terms: catalog entries, layout, load, lengths, scale."""
    notes = _Notes()
    if m.metric not in _TARGETS:
        raise InputError("metric", f"the model predicts no {m.metric}")
    target, family, factor = _TARGETS[m.metric]
    measured = m.value * factor
    engine = engine_family(m.engine, m.engine_version)
    gpu = find_accelerator(m.gpu)
    arch = find_model(m.model)
    weights, note = find_precision(m.precision_weights or "", arch.released_precision)
    notes.add(note)
    kv = _kv_precision(m, weights, engine, notes)
    tp, pp, dp_attention, ep = _layout(m, arch, engine, notes)
    replica = tp * pp * dp_attention
    group = m.num_gpus or 0
    mode, batch, max_requests, rate = _batching(m, replica, notes)
    if m.per == "user":
        if m.metric != "output_tok_s":
            raise InputError("per", f"a per-user {m.metric} is not a throughput")
        if batch != 1 or mode not in ("single", "static", "continuous"):
            # Per-user speed under load is 1 / TPOT (DESIGN.md's interactivity).
            target, family, measured = "tpot_ms", LATENCY, 1e3 / m.value
            notes.add("per-user tok/s read as 1 / TPOT")
    scale = _scale(m, target, replica, group, gpu, notes)
    input_tokens, output_tokens, variable, longest = _lengths(m, engine, target, notes)
    include_prefill = m.phase != "decode" or target == "prefill_tok_s"
    interactivity = m.target_user_tok_s if mode == "continuous" else None
    if interactivity:
        notes.add(f"batch limited by the stated {interactivity:g} tok/s per user")
    mixed = None
    version = re.match(r"\s*0\.(\d+)", m.engine_version)
    if engine.family == "vllm" and version and int(version.group(1)) < 8:
        mixed = False  # vLLM before V1 (0.8) ran prefill steps apart from decodes
    overlap = m.comm_overlap if m.comm_overlap is not None else engine.family == "deepseek"
    spec = m.spec_method is not None
    return Case(
        row_id=m.id,
        source=source_of(m.id),
        metric=_label(m),
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
        engine_cap=_cap(m, replica),
        request_rate=rate,
        scale=scale,
        include_prefill=include_prefill,
        cached_fraction=m.cache_hit_rate,
        arrival_group=m.arrival_group or 1.0,
        target_interactivity=interactivity,
        comm_overlap=1.0 if overlap else 0.0,
        max_batched_tokens=m.max_batched_tokens,
        output_distribution="exponential" if variable else "fixed",
        max_output_tokens=longest - input_tokens if variable else math.inf,
        scheduler_steps=m.scheduler_steps or 1,
        mixed_prefill=mixed,
        spec_method=m.spec_method,
        spec_draft_tokens=m.spec_draft_tokens or 0 if spec else 0,
        spec_acceptance_length=m.spec_acceptance_length,
        spec_acceptance_rate=m.spec_acceptance_rate,
        expert_balance=m.expert_balance,
        replicas=_replicas(rate, replica, group),
        latency_constraints=tuple(
            (c.metric, c.percentile, c.seconds) for c in m.latency_constraints
        ),
        assumptions=tuple(notes.items),
    )


def _layout(
    m: Measurement, arch: ModelArch, engine: Engine, notes: _Notes
) -> tuple[int, int, int, int]:
    """(tp, pp, attention DP, ep) of one replica."""
    tp, pp, ep = m.tp or 0, m.pp or 1, m.ep or 1
    group = m.num_gpus or 0
    dp_attention = m.attention_dp or 1
    if m.attention_dp is None and ep > 1 and engine.family == "deepseek":
        # DeepSeek's own system runs attention data-parallel across the EP group (day-6
        # overview: "MLA/shared DP"), so its profile traces do too.
        tp = tp or 1
        dp_attention = max(ep // tp, 1)
        notes.add(f"attention DP{dp_attention} (DeepSeek's published design)")
    elif arch.moe is not None and engine.family == "tensorrt-llm-pytorch" and (tp or group) > 1:
        width = tp or group
        tp, dp_attention, ep = 1, width, width
        notes.add(f"attention DP{width} + EP{width} (trtllm-bench MoE setting; EP not printed)")
    if not tp:
        tp = max(group // (pp * dp_attention), 1) if group else 1
    if arch.moe is None:
        ep = 1
    return tp, pp, dp_attention, min(ep, tp * pp * dp_attention)


def _kv_precision(m: Measurement, weights: str, engine: Engine, notes: _Notes) -> str:
    text = (m.precision_kv or "").lower()
    if text:  # "fp8", "FP8 KV cache", "fp8_e4m3", "KV fp8": the one precision it names
        outer, _ = _parenthetical(text)
        named: set[str] = set()
        for token in re.split(r"[\s;,/]+", outer):
            try:
                named.add(precision({"f16": "fp16", "f32": "fp32"}.get(token, token)).name)
            except InputError:
                continue
        if len(named) != 1:
            raise InputError("precision_kv", f"no one KV precision in {m.precision_kv!r}")
        return named.pop()
    if "fp8-kv" in m.model.lower() or "fp8_kv" in m.model.lower():
        return "fp8"
    if engine.family.startswith("tensorrt-llm") and weights in ("fp8", "nvfp4", "fp4"):
        notes.add("KV cache fp8 (ModelOpt checkpoints quantise KV; not stated)")
        return "fp8"
    if engine.family == "llama.cpp":
        return "fp16"
    return "bf16"


def _scale(
    m: Measurement, target: str, replica: int, group: int, gpu: Accelerator, notes: _Notes
) -> float:
    """Multiplier from one replica's figure to the row's unit."""
    if target in ("ttft_ms", "tpot_ms") or m.per == "user":
        return 1.0
    if m.per == "gpu":
        return 1.0 / replica
    if m.per == "node":
        node = server_for(gpu)
        if node is None:
            raise InputError("per", f"a per-node figure, but no server in the catalog has {gpu.id}")
        return node.accelerators_per_server / replica
    if group and group != replica:
        if group % replica:
            raise InputError("num_gpus", f"{group} GPUs is not a whole number of replicas")
        notes.add(f"{group // replica} replicas of {replica} GPU(s)")
        return group / replica
    return 1.0


def _replicas(rate: float | None, replica: int, group: int) -> float:
    """Replicas that share a stated request rate: the rate is the whole system's (its
    num_gpus), whatever unit the figure is in, so each replica receives rate ÷ replicas."""
    if rate is None or not group or group <= replica:
        return 1.0
    if group % replica:
        raise InputError("num_gpus", f"{group} GPUs is not a whole number of replicas")
    return float(group // replica)


def _lengths(
    m: Measurement, engine: Engine, target: str, notes: _Notes
) -> tuple[float, float, bool, float]:
    """(prompt, output, lengths vary, longest prompt + output the data set allows)."""
    variable = m.length_distribution == "variable"
    longest = math.inf
    prompt, output = m.input_tokens, m.output_tokens
    for side, name in (("input", m.input_dataset), ("output", m.output_dataset)):
        if name is None:
            continue
        d = dataset(name)
        notes.add(d.describe())
        variable = variable or d.variable
        longest = min(longest, d.max_total_tokens or math.inf)
        if side == "input":
            prompt = d.mean("input")
        else:
            output = d.mean("output")
    if prompt is None:
        if target == "prefill_tok_s" and engine.family == "llama.cpp":
            notes.add(f"prompt {DEFAULT_PREFILL_PROMPT:g} tokens (llama-bench's pp512 default)")
            prompt = DEFAULT_PREFILL_PROMPT
        else:
            raise InputError("input_len", "prompt length not stated")
    if output is None:
        if target in ("ttft_ms", "prefill_tok_s"):
            output = 1.0  # the first token's time and the prefill rate do not depend on it
        elif engine.family == "llama.cpp" and m.batch == 1:
            notes.add(f"output {DEFAULT_DECODE_OUTPUT:g} tokens (llama-bench's tg128 default)")
            output = DEFAULT_DECODE_OUTPUT
        elif engine.family == "gpt-fast":
            notes.add(f"output {GPT_FAST_OUTPUT:g} tokens (generate.py's max_new_tokens default)")
            output = GPT_FAST_OUTPUT
        else:
            raise InputError("output_len", "output length not stated")
    return prompt, max(output, 1.0), variable, longest


def _cap(m: Measurement, replica: int) -> float | None:
    """The engine's cap on sequences in flight, where the row states it (a llama-server's
    slots, vLLM's max_num_seqs), for the whole replica."""
    if not m.max_batch:
        return None
    cap = float(m.max_batch)
    if m.max_batch_per_rank:
        cap *= max(replica // (m.tp or 1) // (m.pp or 1), 1)
    return cap


def _batching(
    m: Measurement, replica: int, notes: _Notes
) -> tuple[str, float | None, float, float | None]:
    """(mode, batch or concurrency, requests available, request rate)."""
    available = float(m.num_requests) if m.num_requests else math.inf
    mode = _MODES[m.load_mode]
    batch = m.batch
    if batch is not None and m.batch_per_gpu:
        batch *= replica
    if m.load_mode in ("static_batch", "concurrency") and batch == 1:
        return "single", 1.0, 1.0, None
    if m.load_mode == "production":
        notes.add("a production fleet's average, predicted at the batch the engine reaches")
    cap = float(m.max_batch) if m.max_batch else None
    if cap is not None and m.max_batch_per_rank:
        cap *= max(replica // (m.tp or 1) // (m.pp or 1), 1)
    if mode == "continuous" and batch is not None:
        return mode, batch, available, None  # held in flight: a closed loop
    if cap is not None:
        available = min(available, cap)
    return mode, batch, available, m.request_rate_per_s
