"""Close the loop: measure the real llama-server on this machine, set it against the model.

    python benchmarks/bench_llama_server_loop.py [--requests 24] [--price 0.05]

Starts llama.cpp's `llama-server` with SmolLM2-135M (Q4_1, 8 slots, 2 threads; built and
cached by scripts/llama_server.py) and measures concurrency 1, 2, 4 and 8 with 32-token
prompts and 64 output tokens, twice, through the public API (`infercost.api.measure`):

- "unique": what `measure` sends now: a different prompt for every request, exactly 32
  tokens in the server's own count, and llama.cpp's fields for the whole answer;
- "cached": the workload it used to send, for comparison: one prompt ("hello " 32 times) for
  every request, so that all but the first are served from the slot's prompt cache, and the
  end tokens suppressed with a logit bias.

Each run is then calibrated (`infercost.api.calibrate`, as `infercost calibrate DIR` does),
and each level's output tok/s, TTFT p50 and TPOT p50 are set against three predictions from
the pipeline `estimate` uses: the raw roofline, the built-in calibration, and the factors fitted
to that run. A fourth fits concurrency 1, 2 and 4 only and predicts 8 (out of sample). The
price is what a 2-vCPU cloud VM costs an hour (default $0.05, an assumption). Writes
benchmarks/results/llama_server_loop.json and prints the tables.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "scripts"))

import llama_server  # noqa: E402

from infercost.api import calibrate, measure  # noqa: E402
from infercost.measurement.model import Setup, predict_level  # noqa: E402
from infercost.perf.deployment import Efficiency  # noqa: E402
from infercost.validation.measured import calibrate_to  # noqa: E402

LEVELS = [1, 2, 4, 8]
HELD_OUT = 8  # the level the out-of-sample fit does not see
SETUP = {"gpu": "cpu-avx512-2c", "catalog_model": "smollm2-135m", "precision": "q4_1",
         "engine": "llama.cpp"}  # fmt: skip
# The old workload: one prompt for all, the end tokens (ids 0 and 2) suppressed.
CACHED = {"ignore_eos": False, "extra": {"temperature": 0, "logit_bias": {"0": -100, "2": -100}}}
KEYS = (("tok_s", "throughput_output_tok_s"), ("ttft_s", "ttft_s_p50"), ("tpot_s", "tpot_s_p50"))


def run(url: str, name: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    out = folder / name
    fields: dict[str, Any] = {}
    if name == "cached":
        prompts = folder / "hello.txt"
        prompts.write_text(" ".join(["hello"] * 32) + "\n")
        fields = {**CACHED, "prompts": str(prompts)}
    result = measure(
        url=url, model="smollm2", concurrency=LEVELS, requests=args.requests,
        input_tokens=32, output_tokens=64, price=args.price, out=str(out), **SETUP, **fields,
    )  # fmt: skip
    if result.failed:
        raise SystemExit(f"{name}: {result.error_line}")
    factors = calibrate(results=str(out)).factors
    fitted = factors.apply(Efficiency())
    setup = Setup("smollm2-135m", "cpu-avx512-2c", 1, "q4_1", "llama.cpp")
    inside = [r for r in result.levels if r["level"] != f"concurrency-{HELD_OUT}"]
    held_out = next(iter(calibrate_to(setup, inside).groups.values())).apply(Efficiency())
    rows = []
    for report in result.levels:
        predictions = {
            "raw": predict_level(setup, report, None),
            "builtin": predict_level(setup, report, "builtin"),
            "fitted": predict_level(setup, report, None, fitted),
            "fitted_without_8": predict_level(setup, report, None, held_out),
        }
        measured = {
            "tok_s": report["throughput_output_tok_s"],
            "ttft_s": report["ttft_s"]["p50"],
            "tpot_s": report["tpot_s"]["p50"],
        }
        row: dict[str, Any] = {"level": report["level"], "measured": measured}
        for label, p in predictions.items():
            row[label] = {short: p[key] for short, key in KEYS}
            row[f"{label}_error_pct"] = {
                short: 100 * (p[key] / measured[short] - 1) if p[key] and measured[short] else None
                for short, key in KEYS
            }
        work = report["workload"]
        row["workload"] = {"cache_hit_rate": work["cache_hit_rate"],
                           "short_outputs": work["short_outputs"],
                           "prompts_at_requested_length": work["prompts_at_requested_length"],
                           "input_tokens_mean": report["input_tokens_mean"],
                           "errors": report["errors"], "retries": work["retries"]}  # fmt: skip
        row["usd_per_million_output_tokens"] = report["usd_per_million_output_tokens"]
        rows.append(row)
    return {"rows": rows, "fitted_factors": factors.to_dict()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=24)
    parser.add_argument("--price", type=float, default=0.05, help="USD per hour for the VM")
    args = parser.parse_args()
    runs: dict[str, Any] = {}
    with (
        tempfile.TemporaryDirectory() as tmp,
        llama_server.running_server(slots=max(LEVELS), threads=2) as url,
    ):
        for name in ("unique", "cached"):
            runs[name] = run(url, name, args, Path(tmp))
    doc = {
        "command": " ".join(["python", "benchmarks/bench_llama_server_loop.py", *sys.argv[1:]]),
        "date": time.strftime("%Y-%m-%d"),
        "price_usd_per_hour": args.price,
        "runs": runs,
    }
    out = HERE / "results" / "llama_server_loop.json"
    out.write_text(json.dumps(doc, indent=2) + "\n")
    for name, data in runs.items():
        print(f"\n{name}: measured, and the error of each prediction (tok/s | TTFT p50 | TPOT p50)")
        print("| level | measured tok/s | TTFT p50 | TPOT p50 | cache hits | raw | built-in | "
              "fitted | fitted without 8 |")  # fmt: skip
        print("| --- | ---: | ---: | ---: | ---: | --- | --- | --- | --- |")
        for r in data["rows"]:
            m = r["measured"]
            cells = []
            for label in ("raw", "builtin", "fitted", "fitted_without_8"):
                e = r[f"{label}_error_pct"]
                cells.append(" / ".join("—" if e[k] is None else f"{e[k]:+.0f} %" for k, _ in KEYS))
            hits = r["workload"]["cache_hit_rate"]
            print(f"| {r['level']} | {m['tok_s']:.1f} | {1e3 * m['ttft_s']:.0f} ms | "
                  f"{1e3 * m['tpot_s']:.1f} ms | {'—' if hits is None else f'{hits:.0%}'} | "
                  + " | ".join(cells) + " |")  # fmt: skip
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
