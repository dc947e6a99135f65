"""Close the loop: measure the real llama-server on this machine, set it against the model.

    python benchmarks/bench_llama_server_loop.py [--requests 12] [--price 0.05]

Starts llama.cpp's `llama-server` with SmolLM2-135M (Q4_1, 4 slots, 2 threads; built and
cached by scripts/llama_server.py), measures concurrency 1, 2 and 4 with 32-word prompts and
64 output tokens (end tokens suppressed so every reply is 64 tokens), and prints, per level,
measured against predicted output tok/s and $/1M output tokens — raw roofline, the built-in
calibration, and the factors `infercost calibrate` fits to this very run. The price is what
a 2-vCPU cloud VM costs an hour (default $0.05, an assumption; pass your own). Writes
benchmarks/results/llama_server_loop.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "scripts"))

import llama_server  # noqa: E402

from infercost.measurement.model import Setup, predict_level  # noqa: E402
from infercost.measurement.run import Level, Plan, measure  # noqa: E402
from infercost.perf.deployment import Efficiency  # noqa: E402
from infercost.validation.measured import calibrate_to  # noqa: E402

FIXED_LENGTH = {"temperature": 0, "logit_bias": {"0": -100, "2": -100}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=12)
    parser.add_argument("--price", type=float, default=0.05, help="USD per hour for the VM")
    args = parser.parse_args()
    setup = Setup("smollm2-135m", "cpu-avx512-2c", 1, "q4_1", "llama.cpp")
    levels = [Level("concurrency", c) for c in (1, 2, 4)]
    with llama_server.running_server(slots=4, threads=2) as url:
        plan = Plan(url=url, model="smollm2", input_tokens=32, output_tokens=64,
                    requests=args.requests, extra=FIXED_LENGTH,
                    price_usd_per_gpu_hour=args.price, setup=setup)  # fmt: skip
        reports = measure(plan, levels, [], None)
    fitted = next(iter(calibrate_to(setup, reports).groups.values())).apply(Efficiency())
    rows = []
    for report in reports:
        tok_s = report["throughput_output_tok_s"]
        raw = predict_level(setup, report, None)["throughput_output_tok_s"]
        cal = report["predicted"]["throughput_output_tok_s"]
        fit = predict_level(setup, report, None, fitted)["throughput_output_tok_s"]
        cost = report["usd_per_million_output_tokens"]
        predicted_cost = report["predicted"]["usd_per_million_output_tokens"]
        rows.append({"level": report["level"], "measured_tok_s": tok_s, "raw_tok_s": raw,
                     "calibrated_tok_s": cal, "fitted_here_tok_s": fit,
                     "measured_usd_per_million": cost,
                     "predicted_usd_per_million": predicted_cost,
                     "ttft_p50_s": report["ttft_s"]["p50"], "tpot_p50_s": report["tpot_s"]["p50"],
                     "errors": report["errors"]})  # fmt: skip
    out = HERE / "results" / "llama_server_loop.json"
    out.write_text(json.dumps({"price_usd_per_hour": args.price, "rows": rows}, indent=2) + "\n")
    print("| level | measured tok/s | raw model | built-in calibration | fitted to this run | "
          "measured $/1M | predicted $/1M |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        costs = f"${r['measured_usd_per_million']:.3f} | ${r['predicted_usd_per_million']:.3f}"
        model = f"{r['raw_tok_s']:.1f} | {r['calibrated_tok_s']:.1f} | {r['fitted_here_tok_s']:.1f}"
        print(f"| {r['level']} | {r['measured_tok_s']:.1f} | {model} | {costs} |")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
