"""`infercost measure` beside AIPerf on one real llama-server, with one workload.

    python benchmarks/bench_measure_peer.py [--requests 16] [--isl 128] [--osl 64]
                                            [--concurrency 1,2,4] [--repeats 3]

Needs AIPerf in its own virtualenv (benchmarks/peers/setup_aiperf.sh). Starts llama.cpp's
`llama-server` with SmolLM2-135M (scripts/llama_server.py; 4 slots, 1 thread, pinned to CPU 1)
and runs each client pinned to CPU 0, so neither tool takes the server's core. AIPerf gets a
Hugging Face tokenizer built from the GGUF's own vocabulary (scripts/gguf_tokenizer.py),
checked against the server's /tokenize before anything is measured.

Both tools send the same workload: `--isl` prompt tokens (synthetic text, a different prompt
for every request), `--osl` output tokens with end-of-sequence ignored, `--requests` requests
at each concurrency. The order alternates between repeats (infercost first, then AIPerf first)
so that drift in the server falls on both. Around every run the server's own Prometheus
counters are read, so each tool's figures can be set against what the server says it did:
prompt and generated tokens, cached prompt tokens, and its prompt and decode seconds.

Each AIPerf prompt (its inputs.json) is counted again with the server's /tokenize, and both
tools' prompts are checked for being distinct from their first 8 tokens. Writes
benchmarks/results/measure_peer.json and prints the medians side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "scripts"))

import gguf_tokenizer  # noqa: E402
import llama_server  # noqa: E402

PEERS = Path(os.environ.get("PEERS_DIR", "/tmp/peers"))
AIPERF = PEERS / "aiperf" / "bin" / "aiperf"
TOKENIZER = PEERS / "smollm2-gguf-tokenizer"
INFERCOST = ROOT / ".venv" / "bin" / "infercost"
CLIENT_CPU, SERVER_CPU = "0", "1"
COUNTERS = (
    "llamacpp:prompt_tokens_total",
    "llamacpp:prompt_tokens_cached_total",
    "llamacpp:prompt_seconds_total",
    "llamacpp:tokens_predicted_total",
    "llamacpp:tokens_predicted_seconds_total",
)
HEAD = 8  # prompts must differ within their first HEAD words


def _post(url: str, path: str, body: dict[str, Any]) -> Any:
    data = json.dumps(body).encode()
    request = urllib.request.Request(
        url + path, data=data, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def counters(url: str) -> dict[str, float]:
    with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in COUNTERS:
                out[sample.name] = out.get(sample.name, 0.0) + sample.value
    return out


def server_view(before: dict[str, float], after: dict[str, float], n: int) -> dict[str, Any]:
    """What the server says it did between two readings of its counters. llama.cpp's
    generation seconds run from the first token (sampled with the prompt) to the last, so
    they hold one step fewer than tokens per request: a step is seconds ÷ (tokens − n),
    the same quotient as a client's TPOT, (E2E − TTFT) ÷ (tokens − 1)."""
    d = {k.split(":")[1]: after.get(k, 0.0) - before.get(k, 0.0) for k in COUNTERS}
    steps = d["tokens_predicted_total"] - n
    return {
        "prompt_tokens": d["prompt_tokens_total"],
        "cached_prompt_tokens": d["prompt_tokens_cached_total"],
        "generated_tokens": d["tokens_predicted_total"],
        "prompt_s_per_request": d["prompt_seconds_total"] / n if n else None,
        "decode_ms_per_step": 1e3 * d["tokens_predicted_seconds_total"] / steps
        if steps > 0
        else None,
    }


def tokens_of(url: str, text: str) -> list[int]:
    return [
        int(t) for t in _post(url, "/tokenize", {"content": text, "add_special": False})["tokens"]
    ]


def prompt_check(heads: list[str], lengths: list[int], isl: int) -> dict[str, Any]:
    """Prompt lengths in the server's own count, and whether the prompts differ from the
    start (their first HEAD words)."""
    return {
        "prompts": len(lengths),
        "server_isl_mean": statistics.fmean(lengths),
        "server_isl_min": min(lengths),
        "server_isl_max": max(lengths),
        "at_requested_length": sum(n == isl for n in lengths),
        "distinct_heads": len({" ".join(h.split()[:HEAD]) for h in heads}),
    }


def _run(cmd: list[str]) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """Run a client; its wall time and the CPU seconds it used (its processes together)."""
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = after.ru_utime - cpu.ru_utime + after.ru_stime - cpu.ru_stime
    return proc, wall, used


SPIN = "import time\nend = time.time() + 3600\nwhile time.time() < end: pass\n"


def run_infercost_beside_a_spinner(
    url: str, c: int, args: argparse.Namespace, seed: int
) -> dict[str, Any]:
    """The control: infercost with a busy loop on the clients' core, as busy as AIPerf's
    processes keep it, to see whether the neighbouring core's load slows the server."""
    spinner = subprocess.Popen(["taskset", "-c", CLIENT_CPU, sys.executable, "-c", SPIN])
    try:
        row = run_infercost(url, c, args, seed)
    finally:
        spinner.kill()
        spinner.wait()
    row["tool"] = CONTROL
    return row


def run_infercost(url: str, c: int, args: argparse.Namespace, seed: int) -> dict[str, Any]:
    out = Path(tempfile.mkdtemp(prefix="infercost-"))
    cmd = ["taskset", "-c", CLIENT_CPU, str(INFERCOST), "measure", "--url", url,
           "--model", "smollm2", "--concurrency", str(c), "--requests", str(args.requests),
           "--input-tokens", str(args.isl), "--output-tokens", str(args.osl),
           "--seed", str(seed), "--out", str(out), "--json"]  # fmt: skip
    before = counters(url)
    proc, wall, cpu = _run(cmd)
    after = counters(url)
    if proc.returncode != 0:
        raise SystemExit(f"infercost measure failed ({proc.returncode}): {proc.stderr[-2000:]}")
    (level,) = json.loads(proc.stdout)["levels"]
    records = [json.loads(x) for x in (out / f"concurrency-{c}.jsonl").read_text().splitlines()]
    ok = [r for r in records if not r.get("error")]
    # input_tokens is the server's own count (the usage it returned)
    prompts = prompt_check(
        [r["prompt_head"] for r in ok], [r["input_tokens"] for r in ok], args.isl
    )
    ms = 1e3
    return {
        "tool": "infercost",
        "concurrency": c,
        "wall_s": wall,
        "client_cpu_s": cpu,
        "requests_ok": level["completed"],
        "errors": level["errors"],
        "ttft_ms_mean": level["ttft_s"]["mean"] * ms,
        "ttft_ms_p50": level["ttft_s"]["p50"] * ms,
        "itl_ms_mean": level["tpot_s"]["mean"] * ms,
        "itl_ms_p50": level["tpot_s"]["p50"] * ms,
        "output_tok_s": level["throughput_output_tok_s"],
        "requests_per_s": level["throughput_requests_per_s"],
        "duration_s": level["duration_s"],
        "isl_mean": level["input_tokens_mean"],
        "osl_mean": level["output_tokens"] / max(level["completed"], 1),
        "output_tokens": level["output_tokens"],
        "input_tokens": sum(r["input_tokens"] for r in records if not r.get("error")),
        "retries": level["workload"]["retries"],
        "fresh_connections": level["workload"]["fresh_connections"],
        "prompts": prompts,
        "server": server_view(before, after, args.requests),
    }


def run_aiperf(url: str, c: int, args: argparse.Namespace, seed: int) -> dict[str, Any]:
    out = Path(tempfile.mkdtemp(prefix="aiperf-"))
    cmd = ["taskset", "-c", CLIENT_CPU, str(AIPERF), "profile", "--model", "smollm2",
           "--endpoint-type", "completions", "--streaming", "--url", url,
           "--tokenizer", str(TOKENIZER), "--isl", str(args.isl), "--isl-stddev", "0",
           "--osl", str(args.osl), "--extra-inputs", "ignore_eos:true",
           "--concurrency", str(c), "--request-count", str(args.requests),
           "--random-seed", str(seed), "--ui", "none", "--no-gpu-telemetry",
           "--no-server-metrics", "--export-level", "records",
           "--artifact-dir", str(out)]  # fmt: skip
    before = counters(url)
    # (not HF_HUB_OFFLINE=1: AIPerf 0.13 then takes a local path for a hub id and fails)
    proc, wall, cpu = _run(cmd)
    after = counters(url)
    summary = out / "profile_export_aiperf.json"
    if proc.returncode != 0 or not summary.exists():
        raise SystemExit(f"aiperf failed ({proc.returncode}): {proc.stdout[-2000:]}")
    doc = json.loads(summary.read_text())

    def stat(name: str, key: str = "avg") -> float | None:
        value = doc.get(name, {}).get(key)
        return float(value) if value is not None else None

    inputs = json.loads((out / "inputs.json").read_text())
    prompts = [p["prompt"] for s in inputs["data"] for p in s["payloads"]]
    return {
        "tool": "aiperf",
        "concurrency": c,
        "wall_s": wall,
        "client_cpu_s": cpu,
        "requests_ok": int(stat("completed_request_count") or 0),
        "errors": int(stat("request_count") or 0) - int(stat("completed_request_count") or 0),
        "ttft_ms_mean": stat("time_to_first_token"),
        "ttft_ms_p50": stat("time_to_first_token", "p50"),
        "itl_ms_mean": stat("inter_token_latency"),
        "itl_ms_p50": stat("inter_token_latency", "p50"),
        "output_tok_s": stat("output_token_throughput"),
        "requests_per_s": stat("request_throughput"),
        "duration_s": stat("benchmark_duration"),
        "isl_mean": stat("input_sequence_length"),
        "osl_mean": stat("output_sequence_length"),
        "output_tokens": stat("total_osl"),
        "input_tokens": stat("total_isl"),
        "usage_prompt_tokens_mean": stat("usage_prompt_tokens"),
        "usage_completion_tokens_mean": stat("usage_completion_tokens"),
        "connection_reused": stat("http_req_connection_reused"),
        "prompts": prompt_check(prompts, [len(tokens_of(url, p)) for p in prompts], args.isl),
        "server": server_view(before, after, args.requests),
        "aiperf_version": doc.get("aiperf_version"),
    }


METRICS = (
    ("TTFT mean (ms)", "ttft_ms_mean"),
    ("TTFT p50 (ms)", "ttft_ms_p50"),
    ("ITL / TPOT mean (ms)", "itl_ms_mean"),
    ("ITL / TPOT p50 (ms)", "itl_ms_p50"),
    ("output tok/s", "output_tok_s"),
    ("requests/s", "requests_per_s"),
    ("prompt tokens a request (tool's count)", "isl_mean"),
    ("output tokens a request (tool's count)", "osl_mean"),
    ("prompts at the requested length (server's count)", "at_length"),
    ("distinct prompt openings (first 8 words)", "distinct_heads"),
    ("client CPU seconds", "client_cpu_s"),
)
SERVER = (
    ("server: decode ms a step", "decode_ms_per_step"),
    ("server: prompt s a request", "prompt_s_per_request"),
    ("server: prompt tokens", "prompt_tokens"),
    ("server: cached prompt tokens", "cached_prompt_tokens"),
    ("server: generated tokens", "generated_tokens"),
)
CONTROL = "infercost beside a busy core"


def median_of(rows: list[dict[str, Any]], key: str) -> float | None:
    if key in ("at_length", "distinct_heads"):
        key = {"at_length": "at_requested_length"}.get(key, key)
        values = [r["prompts"][key] for r in rows]
        return statistics.median(values) if values else None
    values = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(values) if values else None


def server_median(rows: list[dict[str, Any]], key: str) -> float | None:
    values = [r["server"][key] for r in rows if r["server"].get(key) is not None]
    return statistics.median(values) if values else None


def agreement(row: dict[str, Any]) -> dict[str, float | None]:
    """One run set against the server's own counters for the same run: the tool's mean
    ITL over the server's mean decode step, its mean TTFT over the server's prompt time
    (concurrency 1 only: with c prompts prefilled together a TTFT holds c of them), and its
    token counts over the server's."""
    s = row["server"]
    step, prompt = s.get("decode_ms_per_step"), s.get("prompt_s_per_request")
    c1 = row["concurrency"] == 1
    return {
        "itl_over_server_step_pct": 100 * (row["itl_ms_mean"] / step - 1) if step else None,
        "ttft_over_server_prompt_ms": row["ttft_ms_mean"] - 1e3 * prompt if prompt and c1 else None,
        "output_tokens_over_server_pct": 100 * (row["output_tokens"] / s["generated_tokens"] - 1)
        if s["generated_tokens"]
        else None,
        "input_tokens_over_server_pct": 100 * (row["input_tokens"] / s["prompt_tokens"] - 1)
        if s["prompt_tokens"]
        else None,
    }


AGREEMENT = (
    ("ITL over the server's decode step (%)", "itl_over_server_step_pct"),
    ("TTFT over the server's prompt time (ms)", "ttft_over_server_prompt_ms"),
    ("output tokens over the server's count (%)", "output_tokens_over_server_pct"),
    ("prompt tokens over the server's count (%)", "input_tokens_over_server_pct"),
)


def tables(doc: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The medians side by side, and each run's agreement with the server (worst run)."""
    rows, levels = doc["runs"], doc["workload"]["concurrency"]
    tools = [t for t in ("infercost", "aiperf", CONTROL) if any(r["tool"] == t for r in rows)]
    side = []
    for c in levels:
        runs = {t: [r for r in rows if r["tool"] == t and r["concurrency"] == c] for t in tools}
        for label, key in METRICS + SERVER:
            pick = server_median if label.startswith("server") else median_of
            values = {t: pick(runs[t], key) for t in tools}
            a, b = values["infercost"], values["aiperf"]
            diff = 100 * (a - b) / b if a is not None and b else None
            side.append({"concurrency": c, "metric": label, **values, "difference_pct": diff})
    agree = []
    for label, key in AGREEMENT:
        entry: dict[str, Any] = {"metric": label}
        for t in tools:
            values = [v for r in rows if r["tool"] == t and (v := agreement(r)[key]) is not None]
            entry[t] = [min(values), max(values)] if values else None
        agree.append(entry)
    return side, agree


def print_tables(doc: dict[str, Any]) -> None:
    side, agree = doc["table"], doc["agreement"]
    tools = [t for t in ("infercost", "aiperf", CONTROL) if t in side[0]]
    control = f" {CONTROL} |" if CONTROL in tools else ""
    print(f"\n| concurrency | metric | infercost | AIPerf | difference |{control}")
    print("| ---: | --- | ---: | ---: | ---: |" + (" ---: |" if control else ""))
    for t in side:
        cells = ["—" if t[k] is None else f"{t[k]:.4g}" for k in tools]
        d = "—" if t["difference_pct"] is None else f"{t['difference_pct']:+.1f} %"
        cells.insert(2, d)
        print(f"| {t['concurrency']} | {t['metric']} | " + " | ".join(cells) + " |")
    print("\nEach run against the server's own counters (lowest … highest over the runs):\n")
    print("| | " + " | ".join(tools) + " |")
    print("| --- |" + " ---: |" * len(tools))
    for a in agree:
        cells = ["—" if a[t] is None else f"{a[t][0]:+.2f} … {a[t][1]:+.2f}" for t in tools]
        print(f"| {a['metric']} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=16)
    parser.add_argument("--isl", type=int, default=128)
    parser.add_argument("--osl", type=int, default=64)
    parser.add_argument("--concurrency", default="1,2,4")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--control", action="store_true", help=f"also run {CONTROL!r} (a busy clients' core)"
    )
    parser.add_argument(
        "--tables-from", type=Path, metavar="JSON", help="rebuild the tables of a saved run"
    )
    args = parser.parse_args()
    out = HERE / "results" / "measure_peer.json"
    if args.tables_from:
        doc = json.loads(args.tables_from.read_text())
        doc["table"], doc["agreement"] = tables(doc)
        args.tables_from.write_text(json.dumps(doc, indent=2) + "\n")
        print_tables(doc)
        return
    if not AIPERF.exists():
        raise SystemExit(f"no AIPerf at {AIPERF}: run benchmarks/peers/setup_aiperf.sh")
    levels = [int(c) for c in args.concurrency.split(",")]
    tok, meta = gguf_tokenizer.build(llama_server.ensure_model())
    gguf_tokenizer.save(tok, meta, TOKENIZER)
    rows: list[dict[str, Any]] = []
    with llama_server.running_server(slots=4, threads=1) as url:
        pid = llama_server.process(url).pid
        subprocess.run(["taskset", "-a", "-p", "-c", SERVER_CPU, str(pid)], check=True,
                       capture_output=True)  # fmt: skip
        wrong = gguf_tokenizer.check(tok, url, gguf_tokenizer._sample_texts())
        if wrong:
            raise SystemExit(f"the GGUF tokenizer disagrees with /tokenize on {wrong} texts")
        for repeat in range(args.repeats):
            for c in levels:
                order = [run_infercost, run_aiperf]
                if args.control:
                    order.append(run_infercost_beside_a_spinner)
                if repeat % 2:
                    order.reverse()
                for run in order:
                    row = run(url, c, args, seed=100 * repeat + c)
                    row["repeat"] = repeat
                    rows.append(row)
                    print(f"repeat {repeat} c={c} {row['tool']}: "
                          f"ttft {row['ttft_ms_mean']:.0f} ms, itl {row['itl_ms_mean']:.1f} ms, "
                          f"{row['output_tok_s']:.1f} tok/s, "
                          f"server decode {row['server']['decode_ms_per_step']:.1f} ms a step",
                          flush=True)  # fmt: skip
    doc = {
        "command": " ".join(["python", "benchmarks/bench_measure_peer.py", *sys.argv[1:]]),
        "date": time.strftime("%Y-%m-%d"),
        "workload": {
            "isl": args.isl,
            "osl": args.osl,
            "requests": args.requests,
            "concurrency": levels,
            "repeats": args.repeats,
        },
        "pinning": {"server_cpu": SERVER_CPU, "client_cpu": CLIENT_CPU, "server_threads": 1},
        "tokenizer": {k: v for k, v in meta.items() if k != "chat_template"},
        "aiperf_version": next(
            (r.get("aiperf_version") for r in rows if r.get("aiperf_version")), None
        ),
        "runs": rows,
    }
    doc["table"], doc["agreement"] = tables(doc)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print_tables(doc)
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
