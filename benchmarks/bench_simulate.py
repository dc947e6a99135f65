"""How fast the discrete-event simulator runs, and against vllm-sr-sim's.

    python benchmarks/bench_simulate.py [--runs 3] [--requests 1000000]
        [--peer-python /tmp/peers/vllm-sr-sim/bin/python] [--out FILE.json]

writes FILE.json (every run, versions, load averages) and FILE.md (the table).

Target (the issue): 1,000,000 requests with ShareGPT-like lengths on one 8-GPU replica at
80 % load in ≤ 10 s on the project's 2-core VM, peak memory < 2 GB, and ≥ 10× the requests
per second of vllm-sr-sim's discrete-event simulator on an equivalent workload.

Our replica: Llama-3.1-70B, FP8 weights, on 8 × H100 SXM with TP 8, vLLM's calibrated
efficiencies, max_num_seqs 256. Lengths: lognormal prompts (mean 213 tokens, sigma 1.0)
and outputs (mean 218, sigma 1.0), the ShareGPT means of the validation data; Poisson
arrivals. "80 % load": a short run with every request arriving at once measures the
saturated completion rate (completions between the 10th and 90th percentile finish times);
the benchmark rate is 0.8 of it.

Every measurement runs in a fresh child process, so each has its own peak RSS (from
`os.wait4`), and the machine's load average is recorded before each one. Our children
first simulate 1,000 requests (loading numba's on-disk cache), then time one run:
generating the requests, `simulate`, `summary()`. Medians over `--runs` children.

Peer (`bash benchmarks/peers/setup_vllm_sr_sim.sh`, its own venv), three measurements:
1. its documented `simulate` command: 100,000 requests, Poisson at 200 req/s, lengths
   from its Azure-2023 CDF (80 % prompt / 20 % output), 24 GPUs = 16 short (≤ 6,144
   tokens) + 8 long H100 instances — the CLI's wall time, and the same steps in process
   (generate, `Fleet.run`, `summary`);
2. ours on exactly those 100,000 requests (its generator's output, saved to a file) with
   24 replicas, since each vllm-sr-sim "GPU" is a Llama-3-70B TP-8 calibration;
3. its `Fleet.run` on exactly our 1,000,000 requests, one H100 instance (its replica),
   max_ctx 4,096 so that it has 256 slots like our max_num_seqs.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "simulate_speed.json"
DEFAULT_PEER = "/tmp/peers/vllm-sr-sim/bin/python"

DEPLOYMENT = {"model": "llama-3.1-70b", "gpu": "h100-sxm", "tp": 8, "precision": "fp8"}
ENGINE = "vllm"
MAX_SEQS = 256
SHAREGPT = {"input_spec": "lognormal:213:1.0", "output_spec": "lognormal:218:1.0"}
LOAD = 0.8
SATURATION = {"requests": 20_000, "rate": 10_000.0, "seed": 7}
SEED = 0

TARGET_S = 10.0
TARGET_RSS_BYTES = 2_000_000_000
TARGET_RATIO = 10.0

NOTES = [
    "vllm-sr-sim's DES is request-level: one completion event per request, its service time "
    "fixed at admission from the batch size then (W + H·n per iteration, ManualProfile). "
    "Ours is iteration-level: every engine step (chunked prefill, decode, KV use, "
    "preemption) is simulated, so we do more work per request.",
    "vllm-sr-sim releases a request's slot after S_raw_at_full_slots / n_slots "
    "(core/instance.py), so its DES capacity is far above its own analytical throughput; on "
    "these workloads it never queues (TTFT ≈ one or two of its iterations).",
    "Its H100_80GB profile is a 'Llama-3-70B calibration, 8-GPU TP' (precision not stated): "
    "one simulated 'GPU' instance behaves as one 8-GPU replica, hence 24 of our replicas "
    "on its 24-'GPU' workload and 1 instance against our 1 replica.",
    "No Azure request trace ships with vllm-sr-sim; `simulate` samples total lengths from "
    "fleet_sim/data/azure_cdf.json (18 points) and splits them 80 % prompt / 20 % output.",
    "Times: `simulate_s` is the simulator call alone; `in_process_s` adds generating the "
    "requests (ours: numpy; the peer: Request objects) and the summary; `process_wall_s` is "
    "the whole child process (imports; ours also loads numba's cache and runs a 1,000-request "
    "warm-up).",
]

PEER_DOC = {  # the fleet of the peer's docs, trimmed to 24 GPUs, H100 profiles
    "lam": 200.0,
    "slo_ms": 500.0,
    "b_short": 6144,
    "long_max_ctx": 65536,
    "gpu": "h100",
    "n_s": 16,
    "n_l": 8,
    "requests": 100_000,
    "seed": 42,
}
PEER_FLEET_OURS = {"replicas": 24, "router": "least-outstanding"}  # one per peer instance
PEER_MAX_CTX = 4096  # n_slots = min(65536 KV blocks ÷ 256, 256 × 8192 ÷ 4096) = 256


# ── children: ours ───────────────────────────────────────────────────────────


def _rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def child_ours(spec: dict[str, Any]) -> dict[str, Any]:
    """One timed run of our simulator in this process; `spec` says what (see `main`)."""
    import numpy as np

    from infercost.evaluate.config import Config, resolve
    from infercost.sim.engine import Fleet, simulate
    from infercost.workload.requests import make_requests

    marks = {"after_import": _rss_bytes()}
    d = DEPLOYMENT
    config = Config(d["model"], d["gpu"], tp=d["tp"], weight_precision=d["precision"],
                    engine=ENGINE)  # fmt: skip
    dep = resolve(config, "builtin").deployment
    fleet = Fleet(replicas=spec["replicas"], router=spec["router"], max_seqs=MAX_SEQS)
    start = time.perf_counter()
    warm = make_requests(rate=10.0, n=1000, seed=99, **SHAREGPT)
    simulate(dep, warm.arrival_s, warm.input_tokens, warm.output_tokens, fleet).summary()
    warmup_s = time.perf_counter() - start
    marks["after_warmup"] = _rss_bytes()

    start = time.perf_counter()
    if "npz" in spec:
        data = np.load(spec["npz"])
        arrival, prompt, output = data["arrival_s"], data["input_tokens"], data["output_tokens"]
    else:
        r = make_requests(rate=spec["rate"], n=spec["requests"], seed=spec["seed"], **SHAREGPT)
        arrival, prompt, output = r.arrival_s, r.input_tokens, r.output_tokens
    generate_s = time.perf_counter() - start
    marks["after_generate"] = _rss_bytes()
    load_before = os.getloadavg()

    start = time.perf_counter()
    result = simulate(dep, arrival, prompt, output, fleet)
    simulate_s = time.perf_counter() - start
    marks["after_simulate"] = _rss_bytes()
    start = time.perf_counter()
    summary = result.summary()
    summary_s = time.perf_counter() - start
    marks["after_summary"] = _rss_bytes()

    out: dict[str, Any] = {
        "requests": len(arrival),
        "warmup_s": warmup_s,
        "generate_s": generate_s,
        "simulate_s": simulate_s,
        "summary_s": summary_s,
        "loadavg_before_simulate": load_before,
        "loadavg_after": os.getloadavg(),
        "self_maxrss_bytes": marks,
        "summary": _excerpt(summary),
    }
    if spec.get("saturation"):
        finish = np.sort(result.records.finish_s)
        lo, hi = np.quantile(finish, [0.1, 0.9])
        out["saturated_rps"] = float(0.8 * len(finish) / (hi - lo))
        out["saturated_window_s"] = [float(lo), float(hi)]
    return out


def _excerpt(summary: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "requests", "completed", "errors", "preemptions", "duration_s",
        "throughput_requests_per_s", "throughput_output_tok_s", "mean_concurrency",
        "mean_in_system", "busy_fraction", "kv_utilisation", "mean_batch_size", "engine_steps",
        "ttft_s", "tpot_s", "e2e_s",
    )  # fmt: skip
    return {k: summary[k] for k in keys if k in summary}


# ── children: the peer (run with its venv's Python) ─────────────────────────────

PEER_COMMON = """
import json, os, resource, sys, time
def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
"""

# Its `simulate` subcommand's steps (run_sim.cmd_simulate), timed one by one.
PEER_DOC_SNIPPET = (
    PEER_COMMON
    + """
import run_sim
from fleet_sim.core.fleet import Fleet, FleetConfig, PoolConfig
from fleet_sim.workload.synthetic import CdfWorkload, PoissonWorkload
spec = json.loads(sys.argv[1])
cdf = run_sim.load_cdf(spec["cdf"])
gpu = run_sim.GPU_REGISTRY[spec["gpu"]]
t0 = time.perf_counter()
wl = PoissonWorkload(spec["lam"], CdfWorkload(cdf, seed=spec["seed"]),
                     n_requests=spec["requests"], seed=spec["seed"])
arrivals = wl.generate()
t1 = time.perf_counter()
fc = FleetConfig(
    pools=[PoolConfig("short", gpu, spec["n_s"], spec["b_short"]),
           PoolConfig("long", gpu, spec["n_l"], spec["long_max_ctx"])],
    router_type="LengthRouter", router_kwargs={"threshold": spec["b_short"]})
load_before = os.getloadavg()
t2 = time.perf_counter()
result = Fleet(fc).run(arrivals)
t3 = time.perf_counter()
summary = result.summary(spec["slo_ms"])
t4 = time.perf_counter()
if spec.get("dump"):
    import numpy as np
    np.savez(spec["dump"],
             arrival_s=np.array([t for t, _ in arrivals], dtype=np.float64),
             input_tokens=np.array([r.l_in for _, r in arrivals], dtype=np.int64),
             output_tokens=np.array([r.l_out for _, r in arrivals], dtype=np.int64))
print(json.dumps({"requests": len(arrivals), "generate_s": t1 - t0, "simulate_s": t3 - t2,
                  "summary_s": t4 - t3, "loadavg_before_simulate": load_before,
                  "completed": len(result.completed), "self_maxrss_bytes": rss(),
                  "summary": summary}))
"""
)

# Its discrete-event engine (Fleet.run) on our requests, read from a .npz file.
PEER_EQUIV_SNIPPET = (
    PEER_COMMON
    + """
import numpy as np
from fleet_sim.core.fleet import Fleet, FleetConfig, PoolConfig
from fleet_sim.core.request import Request
from fleet_sim.gpu_profiles.profiles import H100_80GB
spec = json.loads(sys.argv[1])
data = np.load(spec["npz"])
t0 = time.perf_counter()
arrivals = [
    (t, Request(req_id=k, arrival_time=t, l_in=max(1, a), l_out=max(1, b)))
    for k, (t, a, b) in enumerate(zip(data["arrival_s"].tolist(),
                                      data["input_tokens"].tolist(),
                                      data["output_tokens"].tolist()))
]
t1 = time.perf_counter()
fc = FleetConfig(pools=[PoolConfig("replica", H100_80GB, 1, spec["max_ctx"])],
                 router_type="LengthRouter")
fleet = Fleet(fc)
load_before = os.getloadavg()
t2 = time.perf_counter()
result = fleet.run(arrivals)
t3 = time.perf_counter()
summary = result.summary(500.0)
t4 = time.perf_counter()
pool = fleet._pools["replica"]
print(json.dumps({"requests": len(arrivals), "generate_s": t1 - t0, "simulate_s": t3 - t2,
                  "summary_s": t4 - t3, "loadavg_before_simulate": load_before,
                  "completed": len(result.completed), "rejected": pool.rejected,
                  "n_slots": pool.instances[0].n_slots,
                  "completed_per_s": result.throughput(), "self_maxrss_bytes": rss(),
                  "summary": summary}))
"""
)


# ── the parent: run children, collect, compare ───────────────────────────────


def run_child(cmd: list[str]) -> dict[str, Any]:
    """Run `cmd`; its wall time, peak RSS (from wait4), the load average before, stdout."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        load = os.getloadavg()
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed ({proc.returncode}):\n{stderr[-3000:]}")
    return {
        "process_wall_s": wall,
        "process_maxrss_bytes": usage.ru_maxrss * 1024,
        "loadavg_before_process": load,
        "stdout": stdout,
    }


def ours(spec: dict[str, Any]) -> dict[str, Any]:
    proc = run_child([sys.executable, __file__, "--child", json.dumps(spec)])
    result = json.loads(proc.pop("stdout").strip().splitlines()[-1])
    return {**proc, **result}


def peer(python: str, snippet: str, spec: dict[str, Any]) -> dict[str, Any]:
    proc = run_child([python, "-c", snippet, json.dumps(spec)])
    result = json.loads(proc.pop("stdout").strip().splitlines()[-1])
    return {**proc, **result}


def peer_cli_command(python: str, cdf: str, out_json: str) -> list[str]:
    p = PEER_DOC
    return [
        str(Path(python).parent / "vllm-sr-sim"), "simulate", "--cdf", cdf,
        "--lam", str(p["lam"]), "--slo", str(p["slo_ms"]), "--b-short", str(p["b_short"]),
        "--long-max-ctx", str(p["long_max_ctx"]), "--gpu-short", p["gpu"], "--gpu-long",
        p["gpu"], "--n-s", str(p["n_s"]), "--n-l", str(p["n_l"]), "--n-req",
        str(p["requests"]), "--seed", str(p["seed"]), "--out", out_json,
    ]  # fmt: skip


def peer_cli(cmd: list[str]) -> dict[str, Any]:
    proc = run_child(cmd)
    proc.pop("stdout")
    proc["requests"] = PEER_DOC["requests"]
    proc["summary"] = json.loads(Path(cmd[-1]).read_text())
    return proc


def repeat(runs: int, label: str, measure: Any) -> list[dict[str, Any]]:
    results = []
    for k in range(runs):
        r = measure()
        results.append(r)
        sim = r.get("simulate_s")
        extra = f", simulate {sim:.2f} s" if sim is not None else ""
        print(
            f"  {label} run {k + 1}/{runs}: process {r['process_wall_s']:.2f} s{extra}, "
            f"peak {r['process_maxrss_bytes'] / 2**20:.0f} MiB, "
            f"load {r['loadavg_before_process'][0]:.2f}",
            file=sys.stderr,
        )
    return results


def medians(runs: list[dict[str, Any]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key in ("process_wall_s", "generate_s", "simulate_s", "summary_s"):
        if all(key in r for r in runs):
            out[key] = statistics.median(r[key] for r in runs)
    if all(k in out for k in ("generate_s", "simulate_s", "summary_s")):
        out["in_process_s"] = statistics.median(
            r["generate_s"] + r["simulate_s"] + r["summary_s"] for r in runs
        )
    n = runs[0].get("requests")
    if n and "simulate_s" in out:
        out["simulate_rps"] = n / out["simulate_s"]
        out["in_process_rps"] = n / out["in_process_s"]
    if n:
        out["process_rps"] = n / out["process_wall_s"]
    out["peak_rss_bytes_max"] = max(r["process_maxrss_bytes"] for r in runs)
    return out


def versions(peer_python: str | None) -> dict[str, Any]:
    import importlib.metadata as md

    info: dict[str, Any] = {
        name: md.version(name) for name in ("infercost", "numpy", "numba", "llvmlite")
    }
    if peer_python:
        freeze = subprocess.run(
            [peer_python, "-m", "pip", "freeze"], capture_output=True, text=True, check=True
        ).stdout.split()
        info["peer_pip_freeze"] = freeze
        info["vllm-sr-sim"] = next(
            (line.split("==")[1] for line in freeze if line.startswith("vllm-sr-sim==")), None
        )
    return info


def peer_cdf(python: str) -> str:
    code = "import fleet_sim, os; print(os.path.dirname(fleet_sim.__file__))"
    package = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    return str(Path(package.stdout.strip()) / "data" / "azure_cdf.json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--peer-python", default=DEFAULT_PEER, help="'' skips the peer")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_ours(json.loads(args.child))))
        return
    peer_python = args.peer_python if args.peer_python and Path(args.peer_python).exists() else None
    if args.peer_python and not peer_python:
        print(f"no peer at {args.peer_python}: run benchmarks/peers/setup_vllm_sr_sim.sh")
    report = header(args.runs, peer_python)
    main_spec = measure_ours(report, args.requests, args.runs)
    if peer_python:
        compare_with_peer(report, peer_python, main_spec, args.runs)
    report["targets"] = verdict(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    markdown = table(report)
    args.out.with_suffix(".md").write_text(markdown + "\n")
    print(markdown)
    print(f"\nwritten to {args.out} and {args.out.with_suffix('.md')}", file=sys.stderr)


def header(runs: int, peer_python: str | None) -> dict[str, Any]:
    return {
        "date": datetime.date.today().isoformat(),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": {
            "platform": platform.platform(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_at_start": os.getloadavg(),
        },
        "versions": versions(peer_python),
        "runs": runs,
        "notes": NOTES,
    }


def measure_ours(report: dict[str, Any], requests: int, runs: int) -> dict[str, Any]:
    """Find 80 % load from a saturated run, then time `runs` runs of `requests` requests."""
    print("saturation run ...", file=sys.stderr)
    sat_spec = {
        "replicas": 1, "router": "round-robin", "rate": SATURATION["rate"],
        "requests": SATURATION["requests"], "seed": SATURATION["seed"], "saturation": True,
    }  # fmt: skip
    sat = ours(sat_spec)
    rate = LOAD * sat["saturated_rps"]
    print(f"saturated {sat['saturated_rps']:.2f} req/s, running at {rate:.2f}", file=sys.stderr)
    spec = {"replicas": 1, "router": "round-robin", "rate": rate, "requests": requests}
    spec["seed"] = SEED
    report["workload_ours"] = {
        "deployment": {**DEPLOYMENT, "engine_calibration": ENGINE, "gpus": 8},
        "fleet": {"replicas": 1, "router": "round-robin", "max_seqs": MAX_SEQS},
        "requests": requests,
        "arrivals": "poisson",
        "lengths": SHAREGPT,
        "seed": SEED,
        "saturation": {"spec": sat_spec, "measured": sat},
        "load": LOAD,
        "rate_rps": rate,
    }
    measured = repeat(runs, "ours 1M", lambda: ours(spec))
    report["ours_1m"] = {"runs": measured, "median": medians(measured)}
    return spec


def verdict(report: dict[str, Any]) -> dict[str, Any]:
    """The issue's three targets against the medians (the peer ratio on `simulate` alone)."""
    o = report["ours_1m"]["median"]
    out: dict[str, Any] = {
        "simulate_1m_s": {"target_max": TARGET_S, "median": o["simulate_s"]},
        "peak_rss_bytes": {"target_max": TARGET_RSS_BYTES, "max": o["peak_rss_bytes_max"]},
    }
    out["simulate_1m_s"]["met"] = o["simulate_s"] <= TARGET_S
    out["peak_rss_bytes"]["met"] = o["peak_rss_bytes_max"] < TARGET_RSS_BYTES
    if "ratios" in report:
        r = report["ratios"]
        low = min(r["1m_simulate_rps_ours_over_peer"], r["doc_simulate_rps_ours_over_peer"])
        out["peer_ratio"] = {"target_min": TARGET_RATIO, "simulate_only_lowest": low}
        out["peer_ratio"]["met"] = low >= TARGET_RATIO
    return out


def compare_with_peer(
    report: dict[str, Any], python: str, main_spec: dict[str, Any], runs: int
) -> None:
    """The peer on its documented workload and on ours; ours on its workload; ratios."""
    cdf = peer_cdf(python)
    with tempfile.TemporaryDirectory() as tmp:
        print("peer: documented workload ...", file=sys.stderr)
        cmd = peer_cli_command(python, cdf, f"{tmp}/cli.json")
        cli_runs = repeat(runs, "peer CLI", lambda: peer_cli(cmd))
        doc_spec = {**PEER_DOC, "cdf": cdf, "dump": f"{tmp}/peer_doc.npz"}
        inproc = repeat(runs, "peer in process", lambda: peer(python, PEER_DOC_SNIPPET, doc_spec))
        doc_ours_spec = {**PEER_FLEET_OURS, "npz": doc_spec["dump"]}
        ours_doc = repeat(runs, "ours on peer workload", lambda: ours(doc_ours_spec))
        equiv_spec = {"npz": save_ours(main_spec, f"{tmp}/ours_1m.npz"), "max_ctx": PEER_MAX_CTX}
        equiv = repeat(runs, "peer on 1M", lambda: peer(python, PEER_EQUIV_SNIPPET, equiv_spec))
    report["peer_documented"] = {
        "workload": {
            **PEER_DOC,
            "cdf": "fleet_sim/data/azure_cdf.json (Azure LLM Inference Trace 2023, total tokens)",
            "lengths": "total ~ CDF (uniform within each step); prompt = int(0.8 total)",
            "gpus": "16 short (max_ctx 6144) + 8 long (max_ctx 65536) H100_80GB instances",
        },
        "cli_command": " ".join(["vllm-sr-sim", *cmd[1:-2]]),
        "cli": {"runs": cli_runs, "median": medians(cli_runs)},
        "in_process": {"runs": inproc, "median": medians(inproc)},
        "ours_same_requests": {
            "fleet": {**PEER_FLEET_OURS, "max_seqs": MAX_SEQS},
            "deployment": DEPLOYMENT,
            "runs": ours_doc,
            "median": medians(ours_doc),
        },
    }
    report["peer_on_ours"] = {
        "workload": "exactly our requests (same arrival times and lengths; prompts ≥ 1 token)",
        "fleet": f"one H100_80GB instance, max_ctx {PEER_MAX_CTX} (256 slots), LengthRouter",
        "runs": equiv,
        "median": medians(equiv),
    }
    report["ratios"] = ratios(report)


def save_ours(spec: dict[str, Any], path: str) -> str:
    """Our benchmark's requests (the same generator and seed as the child) in a .npz file."""
    import numpy as np

    from infercost.workload.requests import make_requests

    r = make_requests(rate=spec["rate"], n=spec["requests"], seed=spec["seed"], **SHAREGPT)
    np.savez(
        path, arrival_s=r.arrival_s, input_tokens=r.input_tokens, output_tokens=r.output_tokens
    )
    return path


def ratios(report: dict[str, Any]) -> dict[str, float]:
    """Our requests/s over the peer's, each pair on the same requests."""
    o1m = report["ours_1m"]["median"]
    pe = report["peer_on_ours"]["median"]
    doc = report["peer_documented"]
    od = doc["ours_same_requests"]["median"]
    pd = doc["in_process"]["median"]
    cli = doc["cli"]["median"]
    return {
        "1m_simulate_rps_ours_over_peer": o1m["simulate_rps"] / pe["simulate_rps"],
        "1m_in_process_rps_ours_over_peer": o1m["in_process_rps"] / pe["in_process_rps"],
        "1m_process_rps_ours_over_peer": o1m["process_rps"] / pe["process_rps"],
        "doc_simulate_rps_ours_over_peer": od["simulate_rps"] / pd["simulate_rps"],
        "doc_in_process_rps_ours_over_peer": od["in_process_rps"] / pd["in_process_rps"],
        "doc_process_rps_ours_over_peer_cli": od["process_rps"] / cli["process_rps"],
    }  # fmt: skip


def table(report: dict[str, Any]) -> str:
    o = report["ours_1m"]["median"]
    w = report["workload_ours"]
    rows = [
        "| measurement | requests | median time | requests/s | peak RSS | ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        _row(f"infercost `simulate`, 1 × (70B FP8, 8 × H100) at {w['rate_rps']:.1f} req/s",
             w["requests"], o["simulate_s"], o["peak_rss_bytes_max"], ""),
        _row("… plus generating requests and `summary()`", w["requests"], o["in_process_s"],
             None, ""),
    ]  # fmt: skip
    if "ratios" in report:
        ratio = report["ratios"]
        pe = report["peer_on_ours"]["median"]
        doc = report["peer_documented"]
        od, pd = doc["ours_same_requests"]["median"], doc["in_process"]["median"]
        cli = doc["cli"]["median"]
        n_doc = PEER_DOC["requests"]
        rows += [
            _row("vllm-sr-sim `Fleet.run`, same requests, 1 H100 instance", w["requests"],
                 pe["simulate_s"], pe["peak_rss_bytes_max"],
                 f"infercost {ratio['1m_simulate_rps_ours_over_peer']:.1f} × faster"),
            _row("… plus building its requests and `summary()`", w["requests"],
                 pe["in_process_s"], None,
                 f"infercost {ratio['1m_in_process_rps_ours_over_peer']:.1f} × faster"),
            _row("vllm-sr-sim `simulate` CLI, Azure CDF, 200 req/s, 16 + 8 H100 (process)",
                 n_doc, cli["process_wall_s"], cli["peak_rss_bytes_max"], ""),
            _row("vllm-sr-sim `Fleet.run` on that workload", n_doc, pd["simulate_s"],
                 pd["peak_rss_bytes_max"], ""),
            _row("infercost `simulate`, same 100k requests, 24 × (70B FP8, 8 × H100)", n_doc,
                 od["simulate_s"], od["peak_rss_bytes_max"],
                 f"infercost {ratio['doc_simulate_rps_ours_over_peer']:.1f} × faster"),
            _row("infercost, whole process (imports, numba cache, warm-up) vs its CLI", n_doc,
                 od["process_wall_s"], None,
                 f"infercost {ratio['doc_process_rps_ours_over_peer_cli']:.1f} × faster"),
        ]  # fmt: skip
    t = report["targets"]
    rows.append("")
    rows.append(
        f"Targets: {report['workload_ours']['requests']:,} requests in ≤ {TARGET_S:g} s: "
        f"{t['simulate_1m_s']['median']:.2f} s "
        f"({'met' if t['simulate_1m_s']['met'] else 'NOT met'}); peak < 2 GB: "
        f"{t['peak_rss_bytes']['max'] / 1e9:.2f} GB "
        f"({'met' if t['peak_rss_bytes']['met'] else 'NOT met'})"
        + (
            f"; ≥ {TARGET_RATIO:g}× the peer (simulator call alone, lowest of the two "
            f"workloads): {t['peer_ratio']['simulate_only_lowest']:.1f}× "
            f"({'met' if t['peer_ratio']['met'] else 'NOT met'})."
            if "peer_ratio" in t
            else "."
        )
    )
    return "\n".join(rows)


def _row(name: str, n: int, seconds: float, rss: float | None, ratio: str) -> str:
    memory = f"{rss / 2**20:,.0f} MiB" if rss else ""
    return f"| {name} | {n:,} | {seconds:.2f} s | {n / seconds:,.0f} | {memory} | {ratio} |"


if __name__ == "__main__":
    main()
