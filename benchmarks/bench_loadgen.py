"""How fast the load generator is: the highest request rate it sustains against a stub.

    python benchmarks/bench_loadgen.py [--seconds 4] [--rates 250,500,1000,1500,2000,3000]

A stub OpenAI-compatible server (aiohttp, in its own process, pinned to CPU 1) streams 16
tokens per request at once; the client (`infercost.measure.load.run_schedule`, pinned to
CPU 0) sends requests with 32-word prompts on a Poisson schedule at each rate for
`--seconds`. A rate is sustained when the achieved send rate is ≥ 95 % of the target and no
request fails. Reported per rate: achieved rate, p99 lateness, errors, the client's CPU time
per request (from `resource`), and its overhead per token (client CPU time ÷ tokens).
Writes benchmarks/results/loadgen_speed.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import resource
import socket
import sys
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
    from infercost.measure.client import Request, Result
    from infercost.measure.load import run_schedule

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rates", default="250,500,1000,1500,2000,3000")
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
