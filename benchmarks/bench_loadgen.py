"""How fast the load generator is: the highest request rate it sustains against a stub.

    python benchmarks/bench_loadgen.py [--seconds 4] [--rates 250,500,1000,1500,2000,3000]

A stub OpenAI-compatible server (aiohttp, in its own process, pinned to CPU 1) streams 16
tokens per request at once; the client (`infercost.measurement.load.run_schedule`, pinned to
CPU 0) sends requests with 32-word prompts on a Poisson schedule at each rate for
`--seconds`. A rate is sustained when the achieved send rate is ≥ 95 % of the target and no
request fails. Reported per rate: achieved rate, p99 lateness, errors, the client's CPU time
per request (from `resource`), and its overhead per token (client CPU time ÷ tokens).
Writes benchmarks/results/loadgen_speed.json and prints a Markdown table.

With `--aiperf`, NVIDIA's AIPerf (its own venv, made by benchmarks/peers/setup_aiperf.sh) is
run against the same stub at each rate, pinned to CPU 0 with `taskset`, for the same
duration, and benchmarks/results/loadgen_aiperf.json compares the two. AIPerf's CPU time is
that of its whole process tree (`RUSAGE_CHILDREN` across the run); since its start-up alone
costs seconds of CPU, a run at 10 req/s is subtracted to give a marginal CPU per request too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

TOKENS = 16
PROMPT_WORDS = 32


def _serve(port: int, ready: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    os.sched_setaffinity(0, {1})
    from aiohttp import web

    # OpenAI completions SSE, with the fields AIPerf needs (it drops events whose `object`
    # is not "text_completion"); our client reads only `choices[0].text` and `usage`.
    head = b'data: {"id":"cmpl-0","object":"text_completion","created":0,"model":"stub",'
    chunk = head + b'"choices":[{"index":0,"text":"x ","finish_reason":null}]}\n\n'
    last = head + b'"choices":[{"index":0,"text":"x ","finish_reason":"length"}]}\n\n'
    usage = (
        head + b'"choices":[],"usage":{"prompt_tokens":32,"completion_tokens":16,'
        b'"total_tokens":48}}\n\n'
        b"data: [DONE]\n\n"
    )
    body = chunk * (TOKENS - 1) + last + usage

    async def completions(request: web.Request) -> web.StreamResponse:
        await request.read()
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(body)
        return resp

    app = web.Application()
    app.router.add_post("/v1/completions", completions)
    ready.set()
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure_rate(url: str, rate: float, seconds: float) -> dict[str, float]:
    from infercost.measurement.client import Request, Result
    from infercost.measurement.load import run_schedule

    n = int(rate * seconds)
    times = np.cumsum(np.random.default_rng(0).exponential(1.0 / rate, n))
    requests = [Request("hello " * PROMPT_WORDS, TOKENS) for _ in range(n)]
    results: list[Result] = []
    before = resource.getrusage(resource.RUSAGE_SELF)
    stats = asyncio.run(
        run_schedule(url, "stub", requests, list(times), results.append, max_in_flight=512)
    )
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    report = stats.to_dict(target_rate=rate)
    errors = sum(1 for r in results if r.error)
    tokens = sum(r.output_tokens for r in results)
    # Sends per second over the sending window: the last send was due at times[-1] and went
    # out that late.
    achieved = stats.sent / (float(times[-1]) + (stats.lateness_s[-1] if stats.lateness_s else 0))
    return {
        "target_rps": rate,
        "achieved_rps": float(achieved),
        "lateness_p99_s": report["lateness_p99_s"],
        "errors": errors,
        "cpu_ms_per_request": cpu / max(len(results), 1) * 1e3,
        "cpu_us_per_token": cpu / max(tokens, 1) * 1e6,
        "sustained": bool(errors == 0 and achieved >= 0.95 * rate),
    }


AIPERF_VENV = Path(os.environ.get("PEERS_DIR", "/tmp/peers")) / "aiperf"
AIPERF_TOKENIZER = Path(os.environ.get("PEERS_DIR", "/tmp/peers")) / "aiperf-tokenizer"


def aiperf_command(url: str, rate: float, seconds: float, out: Path) -> list[str]:
    """AIPerf 0.13 CLI for a Poisson rate of streaming completions like `measure_rate`'s."""
    return ["taskset", "-c", "0", str(AIPERF_VENV / "bin" / "aiperf"), "profile",
            "--model", "stub", "--endpoint-type", "completions", "--streaming", "--url", url,
            "--tokenizer", str(AIPERF_TOKENIZER), "--isl", str(PROMPT_WORDS), "--isl-stddev",
            "0", "--osl", str(TOKENS), "--request-rate", f"{rate:g}", "--arrival-pattern",
            "poisson", "--benchmark-duration", f"{seconds:g}", "--benchmark-grace-period", "10",
            "--random-seed", "0", "--ui", "none", "--no-server-metrics", "--no-gpu-telemetry",
            "--export-level", "summary", "--artifact-dir", str(out)]  # fmt: skip


def _tree_cpu(root: int) -> tuple[dict[int, float], set[str]]:
    """CPU seconds of each live process under `root` (from /proc), and their allowed CPUs."""
    parent: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                parent[int(d.name)] = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
    tree, frontier = {root}, [root]
    while frontier:
        top = frontier.pop()
        kids = [p for p, pp in parent.items() if pp == top and p not in tree]
        tree.update(kids)
        frontier += kids
    cpu: dict[int, float] = {}
    allowed: set[str] = set()
    tick = os.sysconf("SC_CLK_TCK")
    for p in tree:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            cpu[p] = (int(fields[11]) + int(fields[12])) / tick
            status = Path(f"/proc/{p}/status").read_text()
            allowed.add(status.split("Cpus_allowed_list:")[1].split()[0])
        except (OSError, IndexError, ValueError):
            pass
    return cpu, allowed


def measure_aiperf(url: str, rate: float, seconds: float) -> dict[str, object]:
    out = Path(tempfile.mkdtemp(prefix="aiperf-"))
    cmd = aiperf_command(url, rate, seconds, out)
    # AIPerf 0.13 routes a local tokenizer path through `snapshot_download` when
    # HF_HUB_OFFLINE is set (and fails); without it a local directory loads with no network.
    env = {
        k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    }
    env["HF_HUB_DISABLE_TELEMETRY"] = "1"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    log = (out / "stdout.log").open("w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    seen: dict[int, float] = {}
    allowed: set[str] = set()
    while proc.poll() is None:
        cpu, cpus = _tree_cpu(proc.pid)
        seen.update(cpu)
        allowed |= cpus
        time.sleep(0.5)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    log.close()
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    row: dict[str, object] = {"target_rps": rate, "returncode": proc.returncode,
                              "wall_s": wall, "cpu_s": cpu_s, "processes": len(seen),
                              "tree_cpu_s_sampled": sum(seen.values()),
                              "cpus_allowed": sorted(allowed)}  # fmt: skip
    summary = out / "profile_export_aiperf.json"
    if not summary.exists():
        tail = (out / "stdout.log").read_text()[-2000:]
        row.update(errors=-1, sustained=False, failure=tail)
        return row
    doc = json.loads(summary.read_text())
    completed = int(doc.get("request_count", {}).get("avg", 0))
    errors = int(sum(e.get("count", 0) for e in doc.get("error_summary") or []))
    # AIPerf's own request throughput: completed requests over the span from its first
    # request to its last response (it stops issuing at --benchmark-duration), the analogue
    # of ours (sent over the span to the last send). Sent per requested second kept too.
    achieved = float(doc.get("request_throughput", {}).get("avg") or 0.0)
    row.update(
        aiperf_version=doc.get("aiperf_version"),
        completed=completed,
        errors=errors,
        achieved_rps=achieved,
        sent_per_requested_second=(completed + errors) / seconds,
        aiperf_benchmark_duration_s=doc.get("benchmark_duration", {}).get("avg"),
        cpu_ms_per_request=cpu_s / max(completed + errors, 1) * 1e3,
        sustained=bool(proc.returncode == 0 and errors == 0 and achieved >= 0.95 * rate),
    )
    shutil.rmtree(out, ignore_errors=True)
    return row


def compare_aiperf(url: str, ours: list[dict], rates: list[float], seconds: float) -> None:
    if not (AIPERF_VENV / "bin" / "aiperf").exists():
        raise SystemExit(f"no AIPerf in {AIPERF_VENV}: run benchmarks/peers/setup_aiperf.sh")
    base = measure_aiperf(url, 10.0, seconds)  # start-up + shutdown CPU at a trivial load
    print({k: v for k, v in base.items() if k != "failure"}, flush=True)
    rows = []
    for rate in rates:
        row = measure_aiperf(url, rate, seconds)
        n = row.get("completed", 0) + max(row.get("errors", 0), 0)  # type: ignore[operator]
        n0 = base.get("completed", 0) + max(base.get("errors", 0), 0)  # type: ignore[operator]
        if n > n0 and "cpu_s" in base:
            row["cpu_ms_per_request_marginal"] = (row["cpu_s"] - base["cpu_s"]) / (n - n0) * 1e3  # type: ignore[operator]
        rows.append(row)
        print({k: v for k, v in row.items() if k != "failure"}, flush=True)
    by_rate = {r["target_rps"]: r for r in ours}
    best = max((r["target_rps"] for r in rows if r["sustained"]), default=0.0)
    doc = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "seconds": seconds,
        "tokens_per_request": TOKENS,
        "aiperf_version": next(
            (r.get("aiperf_version") for r in rows if r.get("aiperf_version")), None
        ),
        "aiperf_command": " ".join(aiperf_command("URL", 0, seconds, Path("OUT"))).replace(
            "--request-rate 0 ", "--request-rate RATE "
        ),
        "aiperf_baseline_10rps": base,
        "aiperf_rows": rows,
        "ours_rows": ours,
        "highest_sustained_rps": {
            "ours": max((r["target_rps"] for r in ours if r["sustained"]), default=0.0),
            "aiperf": best,
        },
    }
    (HERE / "results" / "loadgen_aiperf.json").write_text(json.dumps(doc, indent=2) + "\n")
    print("\n| target req/s | ours achieved | ours errors | ours CPU ms/req | AIPerf achieved "
          "| AIPerf errors | AIPerf CPU ms/req (total / marginal) | processes |")  # fmt: skip
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        o = by_rate.get(r["target_rps"], {})
        ours_cells = (f"{o['achieved_rps']:.0f} | {o['errors']} | {o['cpu_ms_per_request']:.2f}"
                      if o else "– | – | –")  # fmt: skip
        marginal = r.get("cpu_ms_per_request_marginal")
        cpu = f"{r.get('cpu_ms_per_request', float('nan')):.2f} / " + (
            f"{marginal:.2f}" if marginal is not None else "–"
        )
        print(f"| {r['target_rps']:.0f} | {ours_cells} | {r.get('achieved_rps', 0):.0f} "
              f"| {r['errors']} | {cpu} | {r['processes']} |")  # fmt: skip
    print(f"\nhighest sustained rate: ours {doc['highest_sustained_rps']['ours']:.0f} req/s, "
          f"AIPerf {best:.0f} req/s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rates", default="250,500,1000,1500,2000,3000")
    parser.add_argument("--aiperf", action="store_true", help="also run AIPerf at each rate")
    args = parser.parse_args()
    port = _free_port()
    ready = multiprocessing.Event()
    server = multiprocessing.Process(target=_serve, args=(port, ready), daemon=True)
    server.start()
    ready.wait(10)
    time.sleep(0.5)
    os.sched_setaffinity(0, {0})
    url = f"http://127.0.0.1:{port}"
    rows = []
    try:
        measure_rate(url, 100, 1.0)  # warm-up
        for rate in (float(x) for x in args.rates.split(",")):
            rows.append(measure_rate(url, rate, args.seconds))
            print(rows[-1], flush=True)
        if args.aiperf:
            rates = [float(x) for x in args.rates.split(",")]
            compare_aiperf(url, rows, rates, args.seconds)
    finally:
        server.terminate()
    best = max((r["target_rps"] for r in rows if r["sustained"]), default=0.0)
    doc = {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs", "seconds": args.seconds,
           "tokens_per_request": TOKENS, "rows": rows, "highest_sustained_rps": best}  # fmt: skip
    (HERE / "results" / "loadgen_speed.json").write_text(json.dumps(doc, indent=2) + "\n")
    print("| target req/s | achieved | p99 lateness | errors | CPU ms/request | CPU µs/token |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        late = f"{r['lateness_p99_s'] * 1e3:.1f} ms"
        cpu = f"{r['cpu_ms_per_request']:.2f} | {r['cpu_us_per_token']:.1f}"
        print(
            f"| {r['target_rps']:.0f} | {r['achieved_rps']:.0f} | {late} | {r['errors']} | {cpu} |"
        )
    print(f"\nhighest sustained rate: {best:.0f} req/s on one core")


if __name__ == "__main__":
    main()
