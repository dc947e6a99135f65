"""How fast `reproduce --samples` samples chatgpt-2023, against the point pipeline per sample.

    python benchmarks/bench_montecarlo.py [--runs 7] [--cli-runs 5] [--naive 500]
        [--out FILE.json]

1. `infercost.reproduce(scenario="chatgpt-2023", samples=10_000)` in process: the scenario
   loaded, its point estimate (and its roofline-alone twin and variant), then 10,000 samples
   of its five ranges through the pipeline in one vectorised pass, the quantiles of every
   figure, the tornado and the variance shares. One warm-up call first (catalogs, the
   calibration file); median of `--runs`.
2. The same as one `infercost reproduce chatgpt-2023 --samples 10000 --json` command, in a
   fresh process each time (imports included); median of `--cli-runs`.
3. The baselines, on the first `--naive` of the same samples, per sample, extrapolated to
   10,000: (a) the naive loop, each sample's inputs validated into the scenario's `Inputs`
   (pydantic) and run through `engine.run_inputs` (the point pipeline, as `reproduce` runs
   it); (b) the same code as the vectorised pass, `engine.figures`, one sample at a time
   (no validation, no details).
4. One million samples in process, once (the bound `--samples` allows).

Writes FILE.json (every run) and prints the rows for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "montecarlo.json"
SAMPLES = 10_000


def timed(func: Any, runs: int) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return times, result


def in_process(runs: int) -> dict[str, Any]:
    import infercost

    def call() -> Any:
        return infercost.reproduce(scenario="chatgpt-2023", samples=SAMPLES)

    call()  # warm-up
    times, result = timed(call, runs)
    doc = result.to_dict()
    return {
        "runs_s": times,
        "median_s": statistics.median(times),
        "usd_per_day": doc["quantiles"]["usd_per_day"],
        "usd_per_day_point": doc["computed"]["usd_per_day"],
        "tornado": [(r["input"], r["swing"], r["variance_share"]) for r in doc["tornado"]],
    }


def fresh_processes(runs: int) -> dict[str, Any]:
    script = Path(sys.executable).parent / "infercost"
    command = [str(script), "reproduce", "chatgpt-2023", "--samples", str(SAMPLES), "--json"]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return {"command": " ".join(command[1:]), "runs_s": times, "median_s": statistics.median(times)}


def baselines(n: int) -> dict[str, Any]:
    import infercost
    from infercost.perf.calibration import load_calibration
    from infercost.scenario.engine import figures, run_inputs
    from infercost.scenario.loader import load, set_path
    from infercost.scenario.schema import Inputs
    from infercost.scenario.uncertainty import with_values

    scenario = load("chatgpt-2023")
    cal = load_calibration()
    draws = infercost.reproduce(scenario="chatgpt-2023", samples=SAMPLES).sampled.uncertainty.draws
    rows = [
        {p: int(v[i]) if p == "serving.concurrency" else float(v[i]) for p, v in draws.items()}
        for i in range(n)
    ]

    def naive() -> None:
        for row in rows:
            raw = scenario.inputs.model_dump()
            for path, value in row.items():
                set_path(raw, path, value)
            run_inputs(Inputs.model_validate(raw), cal)

    def scalar() -> None:
        for row in rows:
            figures(with_values(scenario.inputs, row), cal)

    out = {}
    for name, func in (("naive_run_inputs", naive), ("figures_one_at_a_time", scalar)):
        func()  # warm-up
        times, _ = timed(func, 3)
        per_sample = statistics.median(times) / n
        out[name] = {"samples": n, "runs_s": times, "per_sample_s": per_sample,
                     "extrapolated_s": per_sample * SAMPLES}  # fmt: skip
    return out


def million() -> dict[str, Any]:
    import infercost

    start = time.perf_counter()
    infercost.reproduce(scenario="chatgpt-2023", samples=1_000_000)
    return {"samples": 1_000_000, "seconds": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--cli-runs", type=int, default=5)
    parser.add_argument("--naive", type=int, default=500)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    doc: dict[str, Any] = {
        "date": datetime.date.today().isoformat(),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "load_average": list(os.getloadavg()),
        "samples": SAMPLES,
        "in_process": in_process(args.runs),
        "fresh_process": fresh_processes(args.cli_runs),
        "baselines": baselines(args.naive),
        "million": million(),
    }
    median = doc["in_process"]["median_s"]
    for base in doc["baselines"].values():
        base["ratio"] = base["extrapolated_s"] / median
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    b = doc["baselines"]
    print(f"| reproduce chatgpt-2023, {SAMPLES:,} samples, in process | {median:.3f} s | — |")
    print(
        f"| the same, one command (fresh process) | {doc['fresh_process']['median_s']:.2f} s | — |"
    )
    for name, base in b.items():
        print(f"| {name}: {base['per_sample_s'] * 1e3:.3f} ms a sample × {SAMPLES:,} | "
              f"{base['extrapolated_s']:.2f} s | {base['ratio']:.0f} × slower |")  # fmt: skip
    print(f"| 1,000,000 samples, in process (once) | {doc['million']['seconds']:.2f} s | — |")
    q = doc["in_process"]["usd_per_day"]
    print(f"$/day P10 {q['p10']:,.0f}  P50 {q['p50']:,.0f}  P90 {q['p90']:,.0f}; "
          f"point {doc['in_process']['usd_per_day_point']:,.0f}")  # fmt: skip
    print("tornado:", doc["in_process"]["tornado"])


if __name__ == "__main__":
    main()
