"""A measurement: load levels against a live server, records on disk, cost per token.

Each load level (a concurrency, or a request rate with Poisson or gamma arrivals) sends
`requests` requests (or runs for `duration_s`), writes one JSON line per request the moment
it finishes (`DIR/<level>.jsonl`), and is summarised with the simulator's statistics — the
same record and the same numbers for measured and simulated requests.

What is sent is the workload it claims to be (`prompts`, `tokens`, `engines`): prompt and
output lengths drawn from the same specs as `simulate` (fixed, uniform, lognormal, a file),
every prompt unique from its first token and fitted to its length in the server's own
tokens, and the engine's switch for generating the whole output asked for. Each level gets
prompts of its own, so that a level never finds the previous one's prompts in the server's
cache, and every run starts at a random place among the prompts (`prompt_offset`, in the
summary), so that neither does a run find an earlier run's. Cost: the server costs
`price_usd_per_gpu_hour × gpus` an hour, so

    $/1M output tokens = hourly cost ÷ (output tokens/s × 3,600) × 10⁶
    $/query            = hourly cost ÷ (completed requests/s × 3,600)

and a hosted endpoint priced per token (`api_price`, $ per 1M input and output tokens)
costs what its tokens cost, as an hourly cost at the pace the level ran.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from infercost.cost.fleet import MILLION, usd_per_unit
from infercost.errors import InputError
from infercost.files import read_text, strict_json
from infercost.measurement.client import Request, Result, cause_of
from infercost.measurement.engines import fixed_output_fields
from infercost.measurement.load import RunStats, run_concurrency, run_schedule
from infercost.measurement.metrics import Scraper
from infercost.measurement.model import Setup, predict_level
from infercost.measurement.prompts import build_prompts
from infercost.measurement.tokens import Counter, Estimate
from infercost.records import Records, Slo, shape, summarise
from infercost.units import SECONDS_PER_HOUR
from infercost.workload.arrivals import arrivals
from infercost.workload.lengths import lengths


@dataclass(frozen=True)
class Level:
    kind: str  # concurrency | rate | trace
    value: float  # requests in flight, requests/s, or the trace's speed-up

    @property
    def name(self) -> str:
        return f"{self.kind}-{self.value:g}"


@dataclass(frozen=True)
class Plan:
    url: str
    model: str
    input_spec: str  # prompt lengths: N, uniform:A:B, lognormal:MEAN:SIGMA, file:PATH
    output_spec: str
    requests: int
    duration_s: float | None = None
    arrival: str = "poisson"
    seed: int = 0
    chat: bool = False
    extra: dict[str, Any] | None = None
    timeout_s: float = 60.0
    max_in_flight: int = 1024
    price_usd_per_gpu_hour: float | None = None
    gpus: int = 1
    setup: Setup | None = None  # catalog terms, for predictions next to the measurements
    prompts: tuple[str, ...] = ()  # real prompts to cycle through instead of synthetic ones
    trace: Any = None  # replay: (send times, prompt tokens, output tokens), as load_trace reads
    counter: Counter = field(default_factory=Estimate)  # how prompts are measured
    engine: str | None = None  # the server's family, for the fixed-output fields
    fixed_output: bool = True  # send the engine's ignore-EOS fields
    shared_prefix_tokens: int = 0
    prefix_groups: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    prompt_offset: int = 0  # where this run's prompts start among all the synthetic ones
    api_price: tuple[float, float] | None = None  # $ per 1M input, output tokens (hosted)
    turns: int = 1  # requests per conversation, each resending the conversation so far
    server_slots: int | None = None  # sequences the server runs at once, where it says


def records_of(results: list[Result]) -> Records:
    """The run's results as the shared per-request records (sorted by send time)."""
    ordered = sorted(results, key=lambda r: r.send_s)
    return Records(
        arrival_s=np.array([r.send_s for r in ordered]),
        first_token_s=np.array([r.first_token_s for r in ordered]),
        finish_s=np.array([r.finish_s for r in ordered]),
        input_tokens=np.array([r.input_tokens for r in ordered], dtype=np.int64),
        output_tokens=np.array([r.output_tokens for r in ordered], dtype=np.int64),
        replica=np.zeros(len(ordered), dtype=np.int64),
        preemptions=np.zeros(len(ordered), dtype=np.int64),
        error=np.array([r.error for r in ordered], dtype=str),
    )


def summary(
    plan: Plan, level: Level, results: list[Result], stats: RunStats, slos: list[Slo]
) -> dict[str, Any]:
    if not results:
        return {"level": level.name, "requests": 0, "errors": 0, "output_tokens": 0}
    records = records_of(results)
    out = summarise(records, slos)
    out["distributions"] = shape(records)
    out["level"] = level.name
    out["output_tokens"] = int(sum(r.output_tokens for r in results if not r.error))
    good = [r.input_tokens for r in results if not r.error]
    out["input_tokens_mean"] = float(np.mean(good)) if good else None
    out["error_causes"] = _causes(results)
    out["workload"] = {
        "engine": plan.engine,
        "prompt_offset": plan.prompt_offset,
        "turns": plan.turns,
        "server_slots": plan.server_slots,
        "shared_prefix_tokens": plan.shared_prefix_tokens,
        "prefix_groups": plan.prefix_groups,
        **_workload(results),
        "fresh_connections": stats.fresh_connections,
        "arrival_group": arrival_group(results, (out.get("tpot_s") or {}).get("p50")),
    }
    target = level.value if level.kind == "rate" else None
    out["load"] = stats.to_dict(target)
    hourly = _hourly(plan, results, out["duration_s"])
    out["cost_basis"] = "api price" if plan.api_price else "gpu-hours"
    out["usd_per_hour"] = hourly
    out["usd_per_million_output_tokens"] = usd_per_unit(
        hourly, out["throughput_output_tok_s"], MILLION
    )
    out["usd_per_query"] = usd_per_unit(hourly, out["throughput_requests_per_s"])
    if plan.setup is not None and out["completed"]:
        out["predicted"] = _predicted(plan, out)
    return out


def _predicted(plan: Plan, report: dict[str, Any]) -> dict[str, Any]:
    """What the performance model (built-in calibration) says for the same level."""
    assert plan.setup is not None
    predicted = predict_level(plan.setup, report)
    tok_s = predicted.get("throughput_output_tok_s")
    hourly = None if plan.api_price else _hourly(plan)  # a hosted price is not the model's
    predicted["usd_per_million_output_tokens"] = usd_per_unit(hourly, tok_s, MILLION)
    return predicted


def _hourly(
    plan: Plan, results: list[Result] | None = None, duration_s: float = 0.0
) -> float | None:
    """What the server costs an hour: price per accelerator-hour × accelerators; or, for a
    hosted endpoint priced by tokens, what the level's tokens cost at its pace."""
    if plan.api_price is not None:
        done = [r for r in results or [] if not r.error]
        if not done or duration_s <= 0:
            return None
        usd = sum(r.input_tokens * plan.api_price[0] + r.output_tokens * plan.api_price[1]
                  for r in done) / MILLION  # fmt: skip
        return usd / duration_s * SECONDS_PER_HOUR
    if plan.price_usd_per_gpu_hour is None:
        return None
    return plan.price_usd_per_gpu_hour * plan.gpus


def _workload(results: list[Result]) -> dict[str, Any]:
    """Was the workload the one asked for: prompt lengths (in the server's count when it
    reports one), answers that stopped short and why, the server's cache, retries."""
    done = [r for r in results if not r.error]
    sources = sorted({r.length_source for r in results if r.length_source})
    known = [r for r in done if r.requested_input_tokens is not None]
    exact = sum(r.input_tokens == r.requested_input_tokens for r in known)
    short = [r for r in done if r.output_tokens < r.requested_output_tokens]
    reasons: dict[str, int] = {}
    for r in short:
        reasons[r.finish_reason or "not given"] = reasons.get(r.finish_reason or "not given", 0) + 1
    cached = [r for r in done if r.cached_tokens is not None]
    prompt_tokens = sum(r.input_tokens for r in cached)
    return {
        "length_sources": sources,
        "prompts_at_requested_length": exact,
        "prompts_checked": len(known),
        "short_outputs": len(short),
        "short_output_reasons": reasons,
        "cached_prompt_tokens": sum(r.cached_tokens or 0 for r in cached) if cached else None,
        "cache_hit_rate": (
            sum(r.cached_tokens or 0 for r in cached) / prompt_tokens if prompt_tokens else None
        ),
        "retries": sum(r.retries for r in results),
    }


def arrival_group(results: list[Result], step_s: float | None) -> float:
    """How many requests arrived together, as one request sees it: sends less than half a
    decode step apart (`step_s`, the level's TPOT) chain into a group the server prefills
    at once, and a request's group is weighted by its size (Σ size² ÷ Σ size). A closed
    loop whose answers all run to one length stays in lockstep: every request comes back
    with all the others (the performance model's `arrival_group`, G)."""
    sends = sorted(r.send_s for r in results if not r.error and math.isfinite(r.send_s))
    if len(sends) < 2:
        return 1.0
    apart = 0.5 * step_s if step_s and math.isfinite(step_s) and step_s > 0 else 0.0
    sizes, size = [], 1
    for before, after in itertools.pairwise(sends):
        if after - before < apart:
            size += 1
        else:
            sizes.append(size)
            size = 1
    sizes.append(size)
    return sum(n * n for n in sizes) / sum(sizes)


GAP_REPORTED = 0.2  # a client figure this much above the server's own is called out


def client_vs_server(results: list[Result], server: dict[str, Any]) -> dict[str, Any]:
    """The client's latencies against the server's own: its histograms (vLLM, SGLang, TGI)
    or, per request, the prompt and decode times llama.cpp reports. What the client adds on
    top (waiting for a slot, the network, the HTTP stack, the client's own loop) is the gap."""
    done = [r for r in results if not r.error]
    out: dict[str, Any] = {}
    ttft = [r.first_token_s - r.send_s for r in done]
    e2e = [r.finish_s - r.send_s for r in done]
    latency = server.get("latency") or {}
    for what, client in (("ttft", ttft), ("e2e", e2e)):
        if what in latency and client:
            out[what] = _gap(
                float(np.mean(client)), latency[what]["mean_s"], latency[what]["metric"]
            )
    timed = [r for r in done if r.server_prompt_s is not None]
    if "ttft" not in out and timed:
        prompt = float(np.mean([r.server_prompt_s or 0.0 for r in timed]))
        out["ttft"] = _gap(float(np.mean([r.first_token_s - r.send_s for r in timed])), prompt,
                           "timings.prompt_ms (compute only: not the wait for a slot)")  # fmt: skip
    both = [r for r in timed if r.server_decode_s is not None]
    if "e2e" not in out and both:
        server_s = float(np.mean([(r.server_prompt_s or 0.0) + (r.server_decode_s or 0.0)
                                  for r in both]))  # fmt: skip
        out["e2e"] = _gap(float(np.mean([r.finish_s - r.send_s for r in both])), server_s,
                          "timings.prompt_ms + predicted_ms")  # fmt: skip
    return out


def _gap(client_s: float, server_s: float, source: str) -> dict[str, Any]:
    gap = client_s - server_s
    return {
        "client_mean_s": client_s,
        "server_mean_s": server_s,
        "gap_s": gap,
        "server_source": source,
        "large": bool(client_s > 0 and gap > GAP_REPORTED * client_s),
    }


def _causes(results: list[Result]) -> dict[str, int]:
    causes: dict[str, int] = {}
    for r in results:
        if r.error:
            key = cause_of(r.error)
            causes[key] = causes.get(key, 0) + 1
    return causes


def requests_for(plan: Plan, level_index: int = 0) -> list[Request]:
    """The requests of one level: the prompts file in turn, or synthetic prompts of lengths
    drawn from the specs (see the module docstring)."""
    rng = np.random.default_rng(plan.seed + 1)
    inputs = lengths(plan.input_spec, plan.requests, rng, "input_tokens", minimum=1)
    outputs = lengths(plan.output_spec, plan.requests, rng, "output_tokens", minimum=1)
    if plan.prompts:
        texts = [plan.prompts[k % len(plan.prompts)] for k in range(plan.requests)]
        return [
            _request(plan, t, None, "prompts file", int(o))
            for t, o in zip(texts, outputs, strict=True)
        ]
    return _synthetic(plan, [int(i) for i in inputs], [int(o) for o in outputs], level_index)


def trace_requests(plan: Plan) -> tuple[list[Request], list[float]]:
    """The trace's requests (synthetic prompts of its lengths) and their send times."""
    assert plan.trace is not None
    times, prompts, outputs = plan.trace
    ins = [max(int(p), 1) for p in prompts]
    return _synthetic(plan, ins, [int(o) for o in outputs], 0), [float(t) for t in times]


def _synthetic(
    plan: Plan, inputs: list[int], outputs: list[int], level_index: int
) -> list[Request]:
    built = build_prompts(
        inputs, plan.counter, plan.shared_prefix_tokens, plan.prefix_groups,
        first=plan.prompt_offset + level_index * len(inputs),
    )  # fmt: skip
    out = []
    for k, (p, o) in enumerate(zip(built, outputs, strict=True)):
        request = _request(plan, p.text, p.tokens, p.source, o)
        if plan.turns > 1:  # request k is turn k mod T of conversation k div T
            request.conversation, request.turn = k // plan.turns, k % plan.turns
        out.append(request)
    return out


def _request(plan: Plan, text: str, tokens: int | None, source: str, output: int) -> Request:
    fields = fixed_output_fields(plan.engine, output) if plan.fixed_output else {}
    extra = {**fields, **(plan.extra or {})}  # the user's own fields win
    return Request(text, output, plan.chat, extra, tokens, source)


def load_prompts(path: Path) -> tuple[str, ...]:
    """Prompts from a file: one per line, or JSON Lines with a "prompt" field."""
    lines = [ln for ln in read_text(path, "prompts").splitlines() if ln.strip()]
    if not lines:
        raise InputError("prompts", f"{path} has no prompts")
    if path.suffix == ".jsonl":
        try:
            return tuple(str(json.loads(ln)["prompt"]) for ln in lines)
        except (json.JSONDecodeError, KeyError, TypeError):
            raise InputError("prompts", f'{path}: every line needs a "prompt" field') from None
    return tuple(lines)


async def run_level(
    plan: Plan,
    level: Level,
    sink: Callable[[Result], None],
    server: dict[str, Any],
    stats: RunStats | None = None,
    requests: list[Request] | None = None,
) -> RunStats:
    """One load level, with the server's /metrics scraped around and during it."""
    scraper = Scraper(plan.url, headers=plan.headers)
    stats = stats if stats is not None else RunStats()
    try:
        async with scraper:
            return await _drive(plan, level, sink, stats, requests)
    finally:  # after the scraper's last sample
        server.update(scraper.report())


async def _drive(
    plan: Plan,
    level: Level,
    sink: Callable[[Result], None],
    stats: RunStats,
    requests: list[Request] | None,
) -> RunStats:
    if level.kind == "trace":
        replayed = requests if requests is not None else trace_requests(plan)[0]
        schedule = [float(t) / level.value for t in plan.trace[0]]
        return await run_schedule(
            plan.url, plan.model, replayed, schedule, sink, plan.max_in_flight, plan.timeout_s,
            stats, plan.headers,
        )  # fmt: skip
    reqs = requests if requests is not None else requests_for(plan)
    if level.kind == "concurrency":
        return await run_concurrency(
            plan.url, plan.model, reqs, int(level.value), sink, plan.timeout_s, plan.duration_s,
            stats, plan.headers,
        )  # fmt: skip
    times = arrivals(plan.arrival, level.value, len(reqs), plan.seed)
    if plan.duration_s is not None:
        keep = times < plan.duration_s
        times, reqs = times[keep], [r for r, k in zip(reqs, keep, strict=True) if k]
    return await run_schedule(
        plan.url, plan.model, reqs, list(times), sink, plan.max_in_flight, plan.timeout_s, stats,
        plan.headers,
    )  # fmt: skip


Progress = Callable[[Level, RunStats], None]


def _sink(
    level: Level,
    results: list[Result],
    handle: TextIO | None,
    progress: Progress | None,
    stats: RunStats,
) -> Callable[[Result], None]:
    """Keep a finished request, write its line at once, tell the progress display."""

    def sink(result: Result) -> None:
        results.append(result)
        if handle is not None:
            handle.write(strict_json(result.to_dict(), indent=None) + "\n")
            handle.flush()
        if progress:
            progress(level, stats)

    return sink


def _level_requests(plan: Plan, level: Level, index: int) -> list[Request]:
    """A level's requests, built (and their prompts measured) before its clock starts."""
    if level.kind == "trace":
        return trace_requests(plan)[0]
    return requests_for(plan, index)


def _refused(results: list[Result]) -> None:
    """Every request refused for its credentials is one error, not a run of failures."""
    if results and all(cause_of(r.error) == "auth" for r in results):
        code = results[0].error.split(":", 2)[1].strip()
        raise InputError(
            "api_key",
            f"the server refused every request ({code}); check --api-key or OPENAI_API_KEY",
        )


def sweep(
    max_error_rate: float, start: int = 1, limit: int = 1024
) -> Callable[[list[dict[str, Any]]], Level | None]:
    """Concurrency 1, 2, 4, … until goodput stops growing (< 95 % of the best so far),
    the error rate passes `max_error_rate`, or `limit` is reached."""

    def next_level(reports: list[dict[str, Any]]) -> Level | None:
        if not reports:
            return Level("concurrency", start)
        last = reports[-1]
        sent = last.get("requests", 0)
        if not sent or last.get("errors", 0) / sent > max_error_rate:
            return None
        best = max(r.get("goodput_rps", 0.0) for r in reports[:-1]) if len(reports) > 1 else 0.0
        if len(reports) > 1 and last.get("goodput_rps", 0.0) < 0.95 * best:
            return None
        value = int(float(last["level"].split("-")[1]) * 2)
        return Level("concurrency", value) if value <= limit else None

    return next_level


def measure(
    plan: Plan,
    levels: Sequence[Level] | Callable[[list[dict[str, Any]]], Level | None],
    slos: list[Slo],
    out_dir: Path | None,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Run the levels in turn (a list, or a rule choosing each next level from the reports so
    far). Every finished request is written the moment it finishes, and the summary after
    every level, so an interrupted run keeps everything it had measured."""
    reports: list[dict[str, Any]] = []
    pending = list(levels) if not callable(levels) else []
    fresh = False  # a server seen to drop kept-alive connections is not given them again
    while True:
        level = levels(reports) if callable(levels) else (pending.pop(0) if pending else None)
        if level is None:
            break
        results: list[Result] = []
        handle: TextIO | None = None
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            handle = (out_dir / f"{level.name}.jsonl").open("w", encoding="utf-8")

        stats = RunStats(fresh_connections=fresh)
        sink = _sink(level, results, handle, progress, stats)
        if progress:
            progress(level, stats)
        server: dict[str, Any] = {}
        interrupted = False
        try:
            built = _level_requests(plan, level, len(reports))
            asyncio.run(run_level(plan, level, sink, server, stats, built))
        except KeyboardInterrupt:  # keep what finished; say how many were still out
            stats.interrupted = interrupted = True
            stats.in_flight_at_end = stats.sent - stats.finished
        finally:
            if handle is not None:
                handle.close()
        fresh = stats.fresh_connections
        report = summary(plan, level, results, stats, slos)
        report["server_metrics"] = server
        report["client_vs_server"] = client_vs_server(results, server)
        _refused(results)
        reports.append(report)
        if out_dir is not None:
            doc = {"setup": plan.setup.to_dict() if plan.setup else None, "levels": reports}
            (out_dir / "summary.json").write_text(strict_json(doc) + "\n", encoding="utf-8")
        if interrupted:
            break
    return reports
