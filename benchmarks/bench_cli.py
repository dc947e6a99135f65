"""How fast infercost answers: CLI wall time and one in-process estimate.

    python benchmarks/bench_cli.py [--runs 7] [--peer-python PATH]

CLI commands run as fresh processes (what a user waits for), `--runs` times each; the
median is reported, with the ratio to a baseline measured in the same run: a bare Python
process importing typer and rich, the floor of any typer CLI. In process, one `estimate`
(Llama-2-7B on one H100, 16 requests of 1,000 + 200 tokens) is timed warm, catalogs
loaded, over many calls. With `--peer-python` pointing at a Python that has llm-analysis
installed, its `LLMAnalysis.inference` on the same case is timed in the same run for a
peer ratio.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
CLI_CASES = {
    "estimate": [
        str(BIN / "infercost"),
        "estimate",
        "-m",
        "llama-3.1-70b",
        "-g",
        "h100",
        "--tp",
        "4",
        "--precision",
        "fp8",
        "--json",
    ],
    "reproduce chatgpt-2023": [str(BIN / "infercost"), "reproduce", "chatgpt-2023", "--json"],
    "reproduce deepseek-2025": [str(BIN / "infercost"), "reproduce", "deepseek-2025", "--json"],
}
BASELINE = [sys.executable, "-c", "import typer, rich.console"]

PEER_SNIPPET = """
import time, statistics
from llm_analysis.analysis import LLMAnalysis
import llm_analysis.config as c
m = c.get_model_config_by_name("NousResearch_Llama-2-7b-hf")
g = c.get_gpu_config_by_name("h100-sxm-80gb")
d = c.get_dtype_config_by_name("w16a16e16")
def once():
    p = c.ParallelismConfig(tp_size=1)
    a = LLMAnalysis(m, g, d, p, flops_efficiency=0.6, hbm_memory_efficiency=0.8)
    a.inference(batch_size_per_gpu=16, seq_len=1000, num_tokens_to_generate=200)
once()
times = []
for _ in range(50):
    t = time.perf_counter(); once(); times.append(time.perf_counter() - t)
print(statistics.median(times))
"""


def wall(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def in_process(runs: int = 500) -> float:
    """One `infercost.estimate` call (request parsed, pipeline run, result built)."""
    from infercost import estimate

    estimate(model="llama-2-7b", gpu=["h100"])  # load catalogs and calibration once
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        estimate(model="llama-2-7b", gpu=["h100"], concurrency=16, input_tokens=1000,
                 output_tokens=200)  # fmt: skip
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peer(python: str) -> float | None:
    result = subprocess.run([python, "-c", PEER_SNIPPET], capture_output=True, text=True)
    if result.returncode != 0:
        print(f"peer failed: {result.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--peer-python", default=None)
    args = parser.parse_args()
    base = wall(BASELINE, args.runs)
    report: dict[str, object] = {
        "machine": f"{platform.machine()}, {platform.python_version()}, {_cpus()} CPUs",
        "runs": args.runs,
        "baseline_python_typer_rich_s": base,
    }
    for name, cmd in CLI_CASES.items():
        t = wall(cmd, args.runs)
        report[f"cli {name} s"] = t
        report[f"cli {name} / baseline"] = t / base
    one = in_process()
    report["in-process estimate ms"] = one * 1e3
    if args.peer_python:
        other = peer(args.peer_python)
        if other is not None:
            report["peer llm-analysis inference ms"] = other * 1e3
            report["peer / infercost"] = other / one
    print(json.dumps(report, indent=2))


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    main()
