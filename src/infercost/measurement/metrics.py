"""Scrape a serving engine's Prometheus `/metrics` while it is being measured: the server's
own view beside the client's.

The exposition is read with `prometheus_client`'s parser, so labels, histograms and escaping
are handled as the format defines them. Kept, summed over their labels:

- counters and gauges: tokens prompted, generated and served from the prefix cache,
  requests running and waiting, the cache's use (vLLM, SGLang, TGI, llama.cpp names);
- latency histograms: time to first token, time per output token, end-to-end and queue time
  (vLLM, SGLang, TGI); llama.cpp reports its prompt and generation seconds as counters.

A level's report is the difference between the scrape before it and the last scrape after
it: counters as deltas, histograms as the requests the level added (count, mean and
quantiles interpolated within buckets), and for llama.cpp the prompt and decode time per
token. A server without `/metrics`, or with a page that cannot be read, never stops a run.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

KNOWN = (
    # llama.cpp
    "llamacpp:prompt_tokens_total",
    "llamacpp:tokens_predicted_total",
    "llamacpp:prompt_tokens_cached_total",
    "llamacpp:prompt_seconds_total",
    "llamacpp:tokens_predicted_seconds_total",
    "llamacpp:requests_processing",
    "llamacpp:requests_deferred",
    # vLLM
    "vllm:prompt_tokens_total",
    "vllm:generation_tokens_total",
    "vllm:num_requests_running",
    "vllm:num_requests_waiting",
    "vllm:gpu_cache_usage_perc",
    "vllm:kv_cache_usage_perc",
    "vllm:num_preemptions_total",
    "vllm:prefix_cache_hits_total",
    "vllm:prefix_cache_queries_total",
    "vllm:gpu_prefix_cache_hits_total",
    "vllm:gpu_prefix_cache_queries_total",
    # SGLang
    "sglang:prompt_tokens_total",
    "sglang:generation_tokens_total",
    "sglang:cached_tokens_total",
    "sglang:num_running_reqs",
    "sglang:num_queue_reqs",
    "sglang:token_usage",
    "sglang:cache_hit_rate",
    # TGI
    "tgi_request_input_length_sum",
    "tgi_request_generated_tokens_sum",
    "tgi_queue_size",
    "tgi_batch_current_size",
)
HISTOGRAMS = {  # what it measures → the engines' names for it
    "ttft": ("vllm:time_to_first_token_seconds", "sglang:time_to_first_token_seconds"),
    "tpot": (
        "vllm:time_per_output_token_seconds",
        "vllm:inter_token_latency_seconds",
        "sglang:time_per_output_token_seconds",
        "sglang:inter_token_latency_seconds",
        "tgi_request_mean_time_per_token_duration",
    ),
    "e2e": (
        "vllm:e2e_request_latency_seconds",
        "sglang:e2e_request_latency_seconds",
        "tgi_request_duration",
    ),
    "queue": ("vllm:request_queue_time_seconds", "tgi_request_queue_duration"),
}
QUANTILES = (0.5, 0.9, 0.99)
SETTLE_S = 0.3
SETTLE_TRIES = 5
MAX_METRICS_BYTES = 16 << 20

Histogram = dict[str, Any]  # {"buckets": {upper bound: cumulative count}, "sum", "count"}


def parse(text: str) -> dict[str, float]:
    """The known counters and gauges in a Prometheus text exposition, summed over labels."""
    return read(text)[0]


def read(text: str) -> tuple[dict[str, float], dict[str, Histogram]]:
    """(counters and gauges, histograms) of the known names, each summed over its labels;
    a page that does not parse gives what was read before the fault."""
    flat: dict[str, float] = {}
    hists: dict[str, Histogram] = {}
    wanted = {name for names in HISTOGRAMS.values() for name in names}
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                _take(sample.name, sample.labels, sample.value, family.name, wanted, flat, hists)
    except Exception:  # a malformed page: keep what was read
        pass
    return flat, hists


def _take(
    name: str,
    labels: dict[str, str],
    value: float,
    family: str,
    wanted: set[str],
    flat: dict[str, float],
    hists: dict[str, Histogram],
) -> None:
    if not math.isfinite(value) and not (name.endswith("_bucket") and value == math.inf):
        return
    if name in KNOWN or (name.endswith("_total") and name.removesuffix("_total") in KNOWN):
        flat[name] = flat.get(name, 0.0) + value
    elif family in wanted:
        hist = hists.setdefault(family, {"buckets": {}, "sum": 0.0, "count": 0.0})
        if name.endswith("_bucket") and "le" in labels:
            bound = float(labels["le"])
            hist["buckets"][bound] = hist["buckets"].get(bound, 0.0) + value
        elif name.endswith("_sum"):
            hist["sum"] += value
        elif name.endswith("_count"):
            hist["count"] += value


def added(before: Histogram | None, after: Histogram) -> dict[str, Any] | None:
    """What a level added to a histogram: its requests' count, mean and quantiles (linear
    within the bucket the quantile falls in, as Prometheus's histogram_quantile)."""
    base = before or {"buckets": {}, "sum": 0.0, "count": 0.0}
    count = after["count"] - base["count"]
    if count <= 0:
        return None
    bounds = sorted(after["buckets"])
    cumulative = [after["buckets"][b] - base["buckets"].get(b, 0.0) for b in bounds]
    out: dict[str, Any] = {"count": count, "mean_s": (after["sum"] - base["sum"]) / count}
    for q in QUANTILES:
        out[f"p{round(q * 100)}_s"] = _quantile(q, bounds, cumulative)
    return out


def _quantile(q: float, bounds: list[float], cumulative: list[float]) -> float | None:
    if not bounds or cumulative[-1] <= 0:
        return None
    rank = q * cumulative[-1]
    lower, below = 0.0, 0.0
    for bound, seen in zip(bounds, cumulative, strict=True):
        if seen >= rank:
            if math.isinf(bound):
                return lower  # beyond the last finite bucket: its bound, as Prometheus does
            width = seen - below
            return lower + (bound - lower) * ((rank - below) / width if width > 0 else 1.0)
        lower, below = bound, seen
    return lower


async def scrape(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None
) -> tuple[dict[str, float], dict[str, Histogram]] | None:
    """One scrape of `url/metrics`, or None when the server has none."""
    timeout = aiohttp.ClientTimeout(total=5)
    try:
        async with session.get(url + "/metrics", timeout=timeout, headers=headers) as r:
            if r.status != 200:
                return None
            body = await r.content.read(MAX_METRICS_BYTES)
            return read(body.decode("utf-8", "replace"))
    except asyncio.CancelledError:
        raise
    except Exception:  # a server's metrics page never stops a measurement
        return None


class Scraper:
    """Scrape every `interval_s` seconds in the background; keep start, end and samples."""

    def __init__(
        self, url: str, interval_s: float = 1.0, headers: dict[str, str] | None = None
    ) -> None:
        self.url = url
        self.headers = headers or {}
        self.interval_s = interval_s
        self.samples: list[tuple[float, dict[str, float]]] = []
        self.histograms: list[dict[str, Histogram]] = []
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Scraper:
        # A fresh connection per scrape: servers such as llama.cpp close idle ones.
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True))
        await self._take()
        self._task = asyncio.ensure_future(self._loop())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
        # Servers count a request's tokens as its slot is released, a moment after the last
        # byte of its stream: sample until two samples after the run agree (a few at most).
        settled: list[dict[str, float]] = []
        for _ in range(SETTLE_TRIES):
            await asyncio.sleep(SETTLE_S)
            count = len(self.samples)
            await self._take()
            if len(self.samples) == count:  # no /metrics: nothing to wait for
                break
            settled.append(self.samples[-1][1])
            if len(settled) >= 2 and settled[-1] == settled[-2]:
                break
        if self._session is not None:
            await self._session.close()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            await self._take()

    async def _take(self) -> None:
        assert self._session is not None
        found = await scrape(self._session, self.url, self.headers)
        if found is not None:
            self.samples.append((time.time(), found[0]))
            self.histograms.append(found[1])

    def report(self) -> dict[str, Any]:
        if not self.samples:
            return {"available": False}
        start, end = self.samples[0][1], self.samples[-1][1]
        counters = {k: end[k] - start.get(k, 0.0) for k in end if k.endswith(("_total", "_sum"))}
        first, last = self.histograms[0], self.histograms[-1]
        latencies = {}
        for what, names in HISTOGRAMS.items():
            for name in names:
                if name in last and (found := added(first.get(name), last[name])) is not None:
                    latencies[what] = {"metric": name, **found}
                    break
        return {
            "available": True,
            "samples": len(self.samples),
            "start": start,
            "end": end,
            "delta": counters,
            "latency": latencies,
            "derived": derived(counters),
            "series": [{"time": t, **values} for t, values in self.samples],
        }


def derived(delta: dict[str, float]) -> dict[str, float | None]:
    """What the counters say of the level: the share of prompt tokens the cache served (the
    simulator's `cached_fraction`: cached ÷ all prompt tokens), and (llama.cpp) its prompt
    and decode seconds per token."""

    def ratio(top: str, bottom: str) -> float | None:
        return delta[top] / delta[bottom] if delta.get(bottom) and top in delta else None

    cached = delta.get("llamacpp:prompt_tokens_cached_total")
    if cached is not None:  # llama.cpp counts the prompt tokens it computed apart from these
        computed = delta.get("llamacpp:prompt_tokens_total", 0.0)
        hits = cached / (cached + computed) if cached + computed else None
    else:
        hits = ratio("vllm:prefix_cache_hits_total", "vllm:prefix_cache_queries_total") or ratio(
            "sglang:cached_tokens_total", "sglang:prompt_tokens_total"
        )
    return {
        "cache_hit_rate": hits,
        "prompt_s_per_token": ratio(
            "llamacpp:prompt_seconds_total", "llamacpp:prompt_tokens_total"
        ),
        "decode_s_per_token": ratio(
            "llamacpp:tokens_predicted_seconds_total", "llamacpp:tokens_predicted_total"
        ),
    }
