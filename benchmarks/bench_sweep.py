"""Cells per second of `sweep`: one worker against a process pool of 2, and the pool against
a local Ray of 2 CPUs, for an evaluate sweep (cheap cells, ~0.3 ms each) and a small plan
sweep (expensive cells, ~2 s each: screen, then simulate 1,000 requests for 1 candidate).

    python benchmarks/bench_sweep.py [--cells 100000] [--plan-cells 8] [--runs 1]

Each configuration runs `--runs` times into a fresh folder (no cache) and the median is
reported, as cells per second over the whole call (spec checks, chunks, the Parquet file;
for Ray, starting Ray is inside the call: `ray.init` is also timed alone, as Ray's start-up).
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from infercost.api import sweep

MODELS = ["llama-3.1-8b", "llama-3.1-70b", "qwen3-32b", "qwen3-30b-a3b"]


def evaluate_grid(cells: int) -> dict[str, Any]:
    """A grid of about `cells` cells: models × gpus × tp × qps values × lengths."""
    per = max(cells // (len(MODELS) * 2 * 4 * 5), 1)
    return {
        "model": MODELS,
        "gpu": ["h100", "h200"],
        "tp": [1, 2, 4, 8],
        "qps": [float(q) for q in range(1, 6)],
        "input_tokens": [100 + 10 * i for i in range(per)],
        "output_tokens": 200,
    }


def plan_grid(cells: int) -> dict[str, Any]:
    return {
        "model": "llama-3.1-8b",
        "gpu": "h100",
        "qps": [float(2 + 3 * i) for i in range(cells)],
        "input_tokens": "1000",
        "output_tokens": "200",
        "slo": "ttft_p99=1s",
        "requests": 1000,
        "verify": 1,
    }


def timed(verb: str, grid: dict[str, Any], runs: int, **options: Any) -> dict[str, Any]:
    seconds = []
    cells = 0
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "r.parquet"
            start = time.perf_counter()
            result = sweep(verb=verb, grid=grid, out=str(out), **options)
            seconds.append(time.perf_counter() - start)
            cells = result.cells
    median = statistics.median(seconds)
    return {"cells": cells, "runs": runs, "median_s": median, "cells_per_s": cells / median}


def ray_startup_s() -> float:
    import ray

    os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
    start = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    took = time.perf_counter() - start
    ray.shutdown()
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cells", type=int, default=100_000)
    parser.add_argument("--plan-cells", type=int, default=8)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    report: dict[str, Any] = {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs"}
    report["ray_startup_s"] = ray_startup_s()
    for verb, grid in (
        ("evaluate", evaluate_grid(args.cells)),
        ("plan", plan_grid(args.plan_cells)),
    ):
        report[verb] = {
            "1 worker": timed(verb, grid, args.runs, workers=1),
            "pool of 2": timed(verb, grid, args.runs, workers=2),
            "local Ray, 2 CPUs": timed(verb, grid, args.runs, workers=2, ray="local"),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
