"""Latency rows of the validation data, predicted through the simulator.

    python benchmarks/bench_sim_latency.py

For every measured latency row taken at a request rate (Poisson arrivals) the row's
deployment is simulated with the built-in calibrated factors of its engine and hardware,
the engine's scheduler of the time (prefill steps run apart from decodes, as vLLM 0.6 and
SGLang 0.3 did; vLLM's multi-step groups where the source used them), the source's
number of requests, and ShareGPT-like lengths (lognormal, the data set's mean
213 prompt / 218 output tokens, sigma 1.0, capped at 2,048 tokens in all as the benchmarks'
filter does); the row's statistic (median or mean TTFT/TPOT) is read off the simulated
requests. Compared with the closed-form prediction `infercost validate` makes for the same
rows. Writes benchmarks/results/sim_latency.json and prints a Markdown table.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from pathlib import Path

import numpy as np

from infercost.perf.calibration import load_calibration
from infercost.sim.engine import Fleet, simulate
from infercost.validation.dataset import load_rows
from infercost.validation.mapping import LATENCY
from infercost.validation.predict import predict, resolved
from infercost.validation.report import prepare
from infercost.workload.arrivals import arrivals

OUT = Path(__file__).resolve().parent / "results" / "sim_latency.json"
MAX_TOKENS = 2048


def sharegpt_like(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    prompt = np.maximum(np.rint(rng.lognormal(np.log(213) - 0.5, 1.0, n)), 1).astype(np.int64)
    output = np.maximum(np.rint(rng.lognormal(np.log(218) - 0.5, 1.0, n)), 1).astype(np.int64)
    prompt = np.minimum(prompt, MAX_TOKENS - 1)
    output = np.minimum(output, MAX_TOKENS - prompt)
    return prompt, output


def main() -> None:
    cases, _ = prepare(load_rows())
    cal = load_calibration()
    rows = []
    start = time.perf_counter()
    for case in cases:
        if case.family != LATENCY or case.mode != "rate":
            continue
        eff = cal.efficiency(case.gpu, case.engine.family)
        r = resolved(case, eff)  # the row's replica and scheduler, as the closed form reads it
        n = int(case.max_requests) if np.isfinite(case.max_requests) else 2000
        prompt, output = sharegpt_like(n, seed=1)
        times = arrivals("poisson", case.request_rate or 1.0, n, 1)
        result = simulate(r.deployment, times, prompt, output, Fleet.of(r))
        metric = case.metric
        values = result.records.ttft_s if metric.startswith("ttft") else result.records.tpot_s
        stat = np.nanmedian(values) if re.search(r"p50|median", metric) else np.nanmean(values)
        simulated = float(stat) * 1e3
        closed = predict(case, eff).value
        rows.append(
            {
                "id": case.row_id,
                "engine": case.engine.family,
                "metric": metric,
                "rate_rps": case.request_rate,
                "measured": case.measured,
                "simulated": simulated,
                "simulated_error_percent": (simulated / case.measured - 1) * 100,
                "closed_form": closed,
                "closed_form_error_percent": (closed / case.measured - 1) * 100,
            }
        )
    wall = time.perf_counter() - start
    sim = statistics.median(abs(r["simulated_error_percent"]) for r in rows)
    closed = statistics.median(abs(r["closed_form_error_percent"]) for r in rows)
    OUT.write_text(json.dumps({"rows": rows, "mdape_simulated": sim, "mdape_closed_form": closed,
                               "wall_s": wall}, indent=2) + "\n")  # fmt: skip
    print("| row | engine | rate | measured | simulated | error | closed form | error |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(
            f"| {r['id']} | {r['engine']} | {r['rate_rps']:g}/s | {r['measured']:.1f} ms | "
            f"{r['simulated']:.1f} ms | {r['simulated_error_percent']:+.1f} % | "
            f"{r['closed_form']:.1f} ms | {r['closed_form_error_percent']:+.1f} % |"
        )
    count = len(rows)
    print(
        f"\nMdAPE: simulated {sim:.1f} %, closed form {closed:.1f} % ({count} rows, {wall:.1f} s)"
    )


if __name__ == "__main__":
    main()
