"""One replica, estimated: memory, step times, throughput, latency and $/1M tokens.

The quick question before any scenario: "Llama-3.1-70B on 4 H100s in FP8, 1,000 tokens in
and 200 out, 64 users at once — how fast, and what does a million tokens cost?" When the
model does not fit, the error names the smallest tensor-parallel (then pipeline) layout
that does.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from infercost.catalog.hardware import accelerator
from infercost.catalog.models import model
from infercost.catalog.prices import prices_for
from infercost.errors import InputError
from infercost.perf.calibration import Calibration, load_calibration
from infercost.perf.deployment import Deployment, Efficiency, build
from infercost.perf.memory import memory_plan
from infercost.perf.replica import max_concurrency, replica_performance

LAYOUTS = [(tp, 1) for tp in (1, 2, 4, 8)] + [(8, pp) for pp in (2, 3, 4, 6, 8, 16)]


def smallest_fit(model_name: str, gpu_name: str, precision_name: str, kv: str | None) -> str:
    """The first TP/PP layout (fewest accelerators) whose weights leave room for KV."""
    for tp, pp in LAYOUTS:
        dep = build(
            model_name, gpu_name, tp=tp, pp=pp, precision_name=precision_name, kv_precision_name=kv
        )
        if memory_plan(dep).fits:
            return f"--tp {tp}" + (f" --pp {pp}" if pp > 1 else "") + f" ({tp * pp} GPUs)"
    return "none up to 128 GPUs"


def estimate(
    model_name: str,
    gpu_name: str,
    *,
    gpus: int | None = None,
    tp: int | None = None,
    pp: int = 1,
    precision_name: str = "bf16",
    kv_precision_name: str | None = None,
    input_tokens: float = 1000,
    output_tokens: float = 200,
    concurrency: int | None = None,
    usd_per_gpu_hour: float | None = None,
    engine: str | None = None,
    calibration: Calibration | Literal["builtin"] | None = "builtin",
) -> dict[str, Any]:
    """Estimate one replica; see the module docstring.

    Efficiency factors come from `calibration` (the built-in fitted factors by default, for
    `engine` when given, else every engine pooled on this hardware family), or are the perf
    defaults when `calibration` is None.
    """
    arch, gpu = model(model_name), accelerator(gpu_name)
    tp = tp or (gpus // pp if gpus else 1)
    if gpus is not None and tp * pp != gpus:
        raise InputError("--gpus", f"must equal tp × pp = {tp * pp}, got {gpus}")
    cal = load_calibration() if calibration == "builtin" else calibration
    eff, group = Efficiency(), "default"
    if cal is not None:
        cal.check_engine(engine)
        eff, group = cal.resolve(gpu, engine)
    elif engine is not None:
        raise InputError("engine", "needs calibrated factors; drop --no-calibration")
    dep = build(
        arch,
        gpu,
        tp=tp,
        pp=pp,
        precision_name=precision_name,
        kv_precision_name=kv_precision_name,
        efficiency=eff,
    )
    plan = memory_plan(dep)
    if not plan.fits:
        fit = smallest_fit(arch.id, gpu.id, precision_name, kv_precision_name)
        need = plan.weights_bytes / 1e9
        raise InputError(
            "--gpus",
            f"{arch.id} in {dep.weights.name} needs {need:,.1f} GB of weights per GPU on "
            f"{tp * pp}× {gpu.id} ({gpu.memory_bytes / 1e9:.0f} GB); "
            f"smallest layout that fits: {fit}",
        )
    ceiling = max_concurrency(dep, input_tokens, output_tokens)
    users = concurrency or max(ceiling, 1)
    perf = replica_performance(dep, users, input_tokens, output_tokens)
    rate = usd_per_gpu_hour if usd_per_gpu_hour is not None else _typical_price(gpu.id)
    result = _result(dep, perf, ceiling, rate)
    result["efficiency"] = {**asdict(dep.efficiency), "calibration_group": group}
    return result


def _typical_price(gpu_id: str) -> float | None:
    points = prices_for(gpu_id)
    return points[0].usd_per_gpu_hour if points else None


def _result(dep: Deployment, perf: Any, ceiling: int, rate: float | None) -> dict[str, Any]:
    tokens_per_gpu_hour = perf.output_tokens_per_s / dep.gpus * 3600
    total_per_gpu_hour = (perf.output_tokens_per_s + perf.input_tokens_per_s) / dep.gpus * 3600
    return {
        "deployment": dep.to_dict(),
        "max_concurrency_that_fits": ceiling,
        "replica": perf.to_dict(),
        "output_tokens_per_s_per_gpu": perf.output_tokens_per_s / dep.gpus,
        "usd_per_gpu_hour": rate,
        "usd_per_million_output_tokens": None if rate is None else rate / tokens_per_gpu_hour * 1e6,
        "usd_per_million_tokens": None if rate is None else rate / total_per_gpu_hour * 1e6,
    }
