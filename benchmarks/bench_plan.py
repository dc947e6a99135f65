"""How fast `infercost plan` answers, and AIConfigurator's `cli default` on the same question.

    python benchmarks/bench_plan.py [--runs 5] [--peer-runs 3]
        [--aiconfigurator /tmp/peers/aiconfigurator/bin/aiconfigurator] [--out FILE.json]

The question: Llama-3.1-70B, 20 requests/s (Poisson), 1,000-token prompts and 200-token
answers, TTFT ≤ 1 s and TPOT ≤ 30 ms.

1. The analytic screen over the whole catalog: every priced accelerator, every layout and
   the default precisions (bf16 and the chip's 8-bit format, weights and KV), every batch
   cap; its candidate count. In process, after one warm-up run; median of `--runs`.
2. The whole plan: the screen, then the simulator on the top 10 at their fewest passing
   replicas (targets at p99). In process, median of `--runs`; and one `infercost plan`
   command in a fresh process (imports included).
3. The same question on H200 only, in bf16 weights and KV cache (what AIConfigurator picks
   for this model on its TensorRT-LLM database): ours at p99 and at p50 (AIConfigurator's
   targets are means), against `aiconfigurator cli default --system h200_sxm --serving-mode
   agg --target-request-rate 20 --ttft 1000 --tpot 30` in its own virtualenv
   (`bash benchmarks/peers/setup.sh`), `--peer-runs` times. Its top answer, sized its way
   (replicas = ⌈rate ÷ a replica's rate at the SLA⌉), is then simulated in our simulator on
   the requests our verification uses, round-robin, with its batch size as the cap.

4. How far the screen's replica counts are from the simulation's on several questions:
   for each verified candidate, the screen's R against the fewest replicas that passed.

Writes FILE.json (every run and both answers) and prints the table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "plan.json"
DEFAULT_PEER = "/tmp/peers/aiconfigurator/bin/aiconfigurator"
QUESTION = {
    "model": ["llama-3.1-70b"],
    "qps": 20.0,
    "input_tokens": "1000",
    "output_tokens": "200",
    "slo": "ttft_p99=1s,tpot_p99=30ms",
}
MEDIAN_SLO = "ttft_p50=1s,tpot_p50=30ms"
PEER_ARGS = ["--model-path", "meta-llama/Meta-Llama-3.1-70B", "--system", "h200_sxm",
             "--isl", "1000", "--osl", "200", "--ttft", "1000", "--tpot", "30",
             "--target-request-rate", "20", "--serving-mode", "agg", "--backend", "trtllm",
             "--no-color"]  # fmt: skip


def timed(func: Any, runs: int) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return times, result


def screen_speed(runs: int) -> dict[str, Any]:
    from infercost.planning.curve import Demand
    from infercost.planning.planner import Load
    from infercost.planning.screen import screen
    from infercost.planning.space import Constraints, Pricing, build_space
    from infercost.planning.targets import parse_targets

    load = Load(20.0, "1000", "200")
    reqs = load.requests(20_000, 0)
    demand = Demand.of(20.0, reqs.input_tokens, reqs.output_tokens, 1.0, (50.0, 99.0))
    targets = parse_targets(QUESTION["slo"])

    def once() -> Any:
        space = build_space(Constraints(models=("llama-3.1-70b",)))
        return space, screen(space, demand, targets, Pricing(), "builtin")

    once()  # warm: catalogs, calibration, imports
    times, (space, result) = timed(once, runs)
    return {
        "runs_s": times,
        "median_s": statistics.median(times),
        "candidates": space.candidates,
        "configurations": len(space.configs),
        "accelerators": len({c.gpu for c in space.configs}),
        "sized": len(result.sized),
    }


def plan_speed(runs: int) -> dict[str, Any]:
    import infercost

    infercost.plan(**QUESTION, verify=1)  # warm: numba's cache, catalogs
    times, outcome = timed(lambda: infercost.plan(**QUESTION), runs)
    doc = outcome.to_dict()
    cli = [str(Path(sys.executable).parent / "infercost"), "plan", "-m", "llama-3.1-70b",
           "--qps", "20", "--input-tokens", "1000", "--output-tokens", "200",
           "--slo", QUESTION["slo"], "--json"]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.run(cli, capture_output=True, text=True, check=False)
    cli_s = time.perf_counter() - start
    colocated, coloc = timed(lambda: infercost.plan(**QUESTION, disaggregated=False), runs)
    return {
        "colocated_only": {
            "runs_s": colocated,
            "median_s": statistics.median(colocated),
            "best": _brief(coloc.to_dict()["best"]),
        },
        "runs_s": times,
        "median_s": statistics.median(times),
        "screen_s": doc["search"]["timings_s"]["screen"],
        "verify_s": doc["search"]["timings_s"]["verify"],
        "cli_s": cli_s,
        "cli_exit": proc.returncode,
        "best": _brief(doc["best"]),
    }


def _brief(c: dict[str, Any] | None) -> dict[str, Any] | None:
    if c is None:
        return None
    if c.get("disaggregated"):
        pool_keys = ("gpu", "tp", "pp", "weight_precision", "kv_precision", "max_seqs",
                     "replicas", "gpus")  # fmt: skip
        out = {"disaggregated": True, "gpus": c["gpus"], "usd_per_month": c["usd_per_month"]}
        for pool in ("prefill", "decode"):
            out[pool] = {k: c[pool].get(k) for k in pool_keys}
        sim = c["simulated"]
        if sim is not None:
            out["ttft_s"] = sim["ttft_s"]
            out["tpot_s"] = sim["tpot_s"]
        return out
    keys = ("gpu", "tp", "pp", "weight_precision", "kv_precision", "max_seqs", "replicas",
            "gpus", "usd_per_month", "binding_limit")  # fmt: skip
    out = {k: c[k] for k in keys}
    sim = c["simulated"]
    if sim is not None:
        out["simulated_upper_bound_s"] = sim["upper_bound_s"]
        out["ttft_s"] = sim["ttft_s"]
        out["tpot_s"] = sim["tpot_s"]
    return out


def ours_on_h200(runs: int) -> dict[str, Any]:
    import infercost

    out = {}
    for name, slo in (("p99", QUESTION["slo"]), ("p50", MEDIAN_SLO)):
        ask = {
            **QUESTION,
            "slo": slo,
            "gpu": ["h200"],
            "precision": ["bf16"],
            "kv_precision": ["bf16"],
            "disaggregated": False,
        }  # fmt: skip  (agg, as the peer)
        times, outcome = timed(lambda ask=ask: infercost.plan(**ask), runs)
        out[name] = {"runs_s": times, "median_s": statistics.median(times),
                     "best": _brief(outcome.to_dict()["best"])}  # fmt: skip
    return out


def peer(exe: str, runs: int) -> dict[str, Any] | None:
    if not Path(exe).exists():
        return None
    times, rows = [], None
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    for _ in range(runs):
        save = tempfile.mkdtemp(prefix="aic-")
        start = time.perf_counter()
        proc = subprocess.run([exe, "cli", "default", *PEER_ARGS, "--save-dir", save],
                              capture_output=True, text=True, env=env, check=False)  # fmt: skip
        times.append(time.perf_counter() - start)
        found = sorted(Path(save).rglob("agg/best_config_topn.csv"))
        if proc.returncode == 0 and found:
            rows = list(csv.DictReader(found[0].open(encoding="utf-8")))
        shutil.rmtree(save, ignore_errors=True)
    if not rows:
        return {"runs_s": times, "error": "no agg answer"}
    top = rows[0]
    ask = "import importlib.metadata as m; print(m.version('aiconfigurator'))"
    python = str(Path(exe).parent / "python")
    version = subprocess.run(
        [python, "-c", ask], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "version": version,
        "runs_s": times,
        "median_s": statistics.median(times),
        "answer": {
            "parallel": top["parallel"],
            "tp": int(top["tp"]),
            "pp": int(top["pp"]),
            "gemm": top["gemm"],
            "kvcache": top["kvcache"],
            "batch": int(top["bs"]),
            "replicas": int(top["replicas_needed"]),
            "gpus": int(top["total_gpus_needed"]),
            "ttft_ms_mean": float(top["ttft"]),
            "tpot_ms_mean": float(top["tpot"]),
            "replica_requests_per_s": float(top["seq/s"]),
        },
    }


def simulate_peer_answer(answer: dict[str, Any]) -> dict[str, Any]:
    """AIConfigurator's fleet in our simulator, on the requests our verification uses."""
    import infercost

    precision = "fp8" if "fp8" in answer["gemm"] else "bf16"
    kv = "fp8" if "fp8" in answer["kvcache"] else "bf16"
    summary = infercost.simulate(
        model="llama-3.1-70b", gpu="h200", tp=answer["tp"], pp=answer["pp"],
        precision=precision, kv_precision=kv, max_seqs=answer["batch"],
        replicas=answer["replicas"], rate=20.0, requests=20_000, input_tokens="1000",
        output_tokens="200", seed=0, slo=QUESTION["slo"],
    ).to_dict()  # fmt: skip
    return {
        "ttft_s": summary["ttft_s"],
        "tpot_s": summary["tpot_s"],
        "slo": summary["slo"],
        "means_met": summary["ttft_s"]["mean"] <= 1.0 and summary["tpot_s"]["mean"] <= 0.03,
    }


AGREEMENT = {
    "70B, Poisson, fixed lengths, p99": {**QUESTION},
    "70B, gamma CV 3, lognormal lengths": {
        **QUESTION, "input_tokens": "lognormal:1000:1", "output_tokens": "lognormal:200:1",
        "arrival": "gamma", "burstiness": 3.0, "slo": "ttft_p99=2s,tpot_p99=50ms",
    },
    "8B, 50 q/s, E2E p95": {
        "model": ["llama-3.1-8b"], "qps": 50.0, "input_tokens": "2000",
        "output_tokens": "300", "slo": "e2e_p95=8s",
    },
    "DeepSeek-V3, 5 q/s, p90": {
        "model": ["deepseek-v3"], "qps": 5.0, "input_tokens": "3000", "output_tokens": "500",
        "slo": "ttft_p90=3s,tpot_p90=60ms",
    },
    "chatgpt-2023 (A100, 2,000-token answers)": {"scenario": "chatgpt-2023"},
}  # fmt: skip


def agreement() -> dict[str, Any]:
    import infercost

    out = {}
    for name, ask in AGREEMENT.items():
        doc = infercost.plan(**ask).to_dict()
        colocated = [c for c in doc["candidates"] if not c.get("disaggregated")]
        pairs = [(c["screen_replicas"], c["replicas"]) for c in colocated
                 if c["verified"] and c["meets_targets"]]  # fmt: skip
        out[name] = {
            "pairs": pairs,
            "equal": sum(a == b for a, b in pairs),
            "within_one": sum(abs(a - b) <= 1 for a, b in pairs),
            "screen_over": sum(a > b for a, b in pairs),
            "screen_under": sum(a < b for a, b in pairs),
            "median_ratio": statistics.median(a / b for a, b in pairs) if pairs else None,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--peer-runs", type=int, default=3)
    parser.add_argument("--aiconfigurator", default=DEFAULT_PEER)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    result: dict[str, Any] = {
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "load_average": os.getloadavg(),
        "question": QUESTION,
        "screen": screen_speed(args.runs),
        "plan": plan_speed(args.runs),
        "h200": ours_on_h200(max(args.runs // 2, 1)),
        "agreement": agreement(),
    }
    result["aiconfigurator"] = peer(args.aiconfigurator, args.peer_runs)
    answer = (result["aiconfigurator"] or {}).get("answer")
    if answer:
        result["aiconfigurator_simulated"] = simulate_peer_answer(answer)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
