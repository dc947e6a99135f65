"""How fast the web app answers: API latency under 50 concurrent clients, and the page.

    python benchmarks/bench_web.py [--runs 3] [--clients 50] [--requests 2000]

The app runs as `infercost serve` does (`create_app()` under uvicorn, its own process, on a
free loopback port). Each run:

- 50 aiohttp clients send `--requests` estimate requests, then as many reproduce requests,
  each with its own inputs (model, accelerator, traffic, lengths; scenario and overrides),
  drawn from a seeded generator: latency p50 / p99 per request and the throughput;
- the same requests once through one client (the latency without queueing);
- the baseline: the same requests through the verb in process (`api.estimate` and
  `to_dict()` and `strict_json`, as the app does), sequentially: the work a request costs
  without HTTP. The overhead ratio is the served time per request (wall ÷ requests, at 50
  clients) over the in-process time per request;
- the page in chromium: navigation start → `data-ready` (the figures shown, the inputs live)
  and → `data-charts` (plotly.js run, charts drawn), on a first visit (a fresh browser) and
  on a reload.

Every figure is the median over `--runs`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
from typing import Any

import aiohttp

MODELS = [("llama-3.1-8b", 1), ("llama-3.1-70b", 4), ("qwen3-32b", 2), ("mixtral-8x7b", 2)]
GPUS = ["h100", "h200", "a100-80gb", "mi300x", "b200"]
SCENARIOS = ["chatgpt-2023", "search-2023", "chatgpt-2023-today"]


def estimate_body(rng: random.Random) -> dict[str, Any]:
    model, tp = rng.choice(MODELS)
    return {
        "model": model,
        "gpu": [rng.choice(GPUS)],
        "tp": tp,
        "precision": rng.choice(["bf16", "fp8"]),
        "qps": round(rng.uniform(0.5, 500), 2),
        "input_tokens": rng.choice([128, 500, 1000, 2000, 4000]),
        "output_tokens": rng.choice([64, 200, 350, 1000]),
        "utilisation": rng.choice([0.5, 0.7, 1.0]),
    }


def reproduce_body(rng: random.Random) -> dict[str, Any]:
    return {
        "scenario": rng.choice(SCENARIOS),
        "set": [
            f"workload.output_tokens={rng.choice([200, 350, 1000, 2000])}",
            f"workload.input_tokens={rng.choice([100, 161, 250])}",
            f"cost.usd_per_gpu_hour={rng.choice([0.8, 1.0, 1.5, 2.0])}",
        ],
    }


def bodies(kind: str, n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    make = estimate_body if kind == "estimate" else reproduce_body
    return [make(rng) for _ in range(n)]


async def load(url: str, kind: str, reqs: list[dict[str, Any]], clients: int) -> dict[str, Any]:
    """`clients` concurrent clients share the requests; each waits for its answer."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue = list(reversed(reqs))
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client() -> None:
            while queue:
                body = queue.pop()
                start = time.perf_counter()
                async with session.post(f"{url}/api/v1/{kind}", json=body) as r:
                    await r.read()
                    statuses[r.status] = statuses.get(r.status, 0) + 1
                latencies.append(time.perf_counter() - start)

        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        wall = time.perf_counter() - start
    return {
        "p50_ms": 1e3 * percentile(latencies, 50),
        "p99_ms": 1e3 * percentile(latencies, 99),
        "per_request_ms": 1e3 * wall / len(reqs),
        "requests_per_s": len(reqs) / wall,
        "statuses": statuses,
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def in_process(kind: str, reqs: list[dict[str, Any]]) -> dict[str, float]:
    """The verb, its `to_dict()` and the strict JSON, as a request costs without HTTP."""
    from infercost import api
    from infercost.errors import InputError
    from infercost.files import strict_json

    verb = api.estimate if kind == "estimate" else api.reproduce
    for body in reqs[:50]:  # warm: imports, catalogs, resolved deployments
        with contextlib.suppress(InputError):
            strict_json(verb(body).to_dict(), indent=None)
    times = []
    for body in reqs:
        start = time.perf_counter()
        with contextlib.suppress(InputError):
            strict_json(verb(body).to_dict(), indent=None)
        times.append(time.perf_counter() - start)
    return {"p50_ms": 1e3 * percentile(times, 50), "mean_ms": 1e3 * statistics.mean(times)}


def page_times(url: str, chromium: str) -> dict[str, float]:
    """Navigation start → data-ready and → data-charts, first visit and reload."""
    from playwright.sync_api import sync_playwright

    out: dict[str, float] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        for visit in ("first", "reload"):
            page.goto(url)
            page.wait_for_selector("body[data-charts='1']", timeout=60_000)
            ready, charts = page.evaluate(
                "[document.body.dataset.readyMs, document.body.dataset.chartsMs]"
            )
            out[f"{visit}_ready_ms"], out[f"{visit}_charts_ms"] = float(ready), float(charts)
        browser.close()
    return out


def start_server() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    infercost = os.path.join(os.path.dirname(sys.executable), "infercost")
    proc = subprocess.Popen([infercost, "serve", "--port", str(port)], stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start")


def one_run(url: str, n: int, clients: int, seed: int, chromium: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in ("estimate", "reproduce"):
        reqs = bodies(kind, n, seed)
        out[kind] = {
            "concurrent": asyncio.run(load(url, kind, reqs, clients)),
            "one_client": asyncio.run(load(url, kind, reqs[: n // 4], 1)),
            "in_process": in_process(kind, reqs),
        }
    if chromium:
        out["page"] = page_times(url, chromium)
    return out


def median_of(runs: list[dict[str, Any]], *path: str) -> float:
    values = []
    for run in runs:
        node: Any = run
        for key in path:
            node = node[key]
        values.append(float(node))
    return statistics.median(values)


def report(runs: list[dict[str, Any]], clients: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in ("estimate", "reproduce"):
        served = median_of(runs, kind, "concurrent", "per_request_ms")
        alone = median_of(runs, kind, "in_process", "mean_ms")
        out[kind] = {
            f"p50_ms_{clients}_clients": median_of(runs, kind, "concurrent", "p50_ms"),
            f"p99_ms_{clients}_clients": median_of(runs, kind, "concurrent", "p99_ms"),
            "requests_per_s": median_of(runs, kind, "concurrent", "requests_per_s"),
            "p50_ms_one_client": median_of(runs, kind, "one_client", "p50_ms"),
            "p99_ms_one_client": median_of(runs, kind, "one_client", "p99_ms"),
            "in_process_mean_ms": alone,
            "in_process_p50_ms": median_of(runs, kind, "in_process", "p50_ms"),
            "overhead_ratio": served / alone,
            "statuses": runs[-1][kind]["concurrent"]["statuses"],
        }
    if "page" in runs[0]:
        out["page"] = {k: median_of(runs, "page", k) for k in runs[0]["page"]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--no-page", action="store_true")
    args = parser.parse_args()
    chromium = None if args.no_page else shutil.which("chromium")
    proc, url = start_server()
    try:
        runs = [
            one_run(url, args.requests, args.clients, seed, chromium) for seed in range(args.runs)
        ]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    doc = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "runs": args.runs,
        "clients": args.clients,
        "requests": args.requests,
        **report(runs, args.clients),
    }
    sys.stdout.write(json.dumps(doc, indent=2) + "\n")


if __name__ == "__main__":
    main()
