"""Scrape a serving engine's Prometheus `/metrics` while it is being measured.

The text exposition format is read line by line (`name{labels} value`); samples of one name
are summed over their labels. The names kept are the token and request counters and gauges
that vLLM, SGLang, TGI and llama.cpp export, so that a run can set what the client saw
against what the server counted (tokens generated, prompts processed, requests running).
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from typing import Any

import aiohttp

KNOWN = (
    # llama.cpp
    "llamacpp:prompt_tokens_total",
    "llamacpp:tokens_predicted_total",
    "llamacpp:requests_processing",
    "llamacpp:requests_deferred",
    # vLLM
    "vllm:prompt_tokens_total",
    "vllm:generation_tokens_total",
    "vllm:num_requests_running",
    "vllm:num_requests_waiting",
    "vllm:gpu_cache_usage_perc",
    "vllm:num_preemptions_total",
    # SGLang
    "sglang:prompt_tokens_total",
    "sglang:generation_tokens_total",
    "sglang:num_running_reqs",
    "sglang:num_queue_reqs",
    "sglang:token_usage",
    # TGI
    "tgi_request_input_length_sum",
    "tgi_request_generated_tokens_sum",
    "tgi_queue_size",
    "tgi_batch_current_size",
)
SETTLE_S = 0.3
SETTLE_TRIES = 5
MAX_METRICS_BYTES = 16 << 20
_LINE = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(\{[^}]*\})?\s+([-+0-9.eE]+|NaN|[+-]?Inf)")


def parse(text: str) -> dict[str, float]:
    """Known metrics in a Prometheus text exposition, summed over labels."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _LINE.match(line)
        if m and m.group(1) in KNOWN:
            try:
                value = float(m.group(3))
            except ValueError:
                continue
            if math.isfinite(value):
                out[m.group(1)] = out.get(m.group(1), 0.0) + value
    return out


async def scrape(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None
) -> dict[str, float] | None:
    """One scrape of `url/metrics`, or None when the server has none."""
    timeout = aiohttp.ClientTimeout(total=5)
    try:
        async with session.get(url + "/metrics", timeout=timeout, headers=headers) as r:
            if r.status != 200:
                return None
            body = await r.content.read(MAX_METRICS_BYTES)
            return parse(body.decode("utf-8", "replace"))
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
            self.samples.append((time.time(), found))

    def report(self) -> dict[str, Any]:
        if not self.samples:
            return {"available": False}
        start, end = self.samples[0][1], self.samples[-1][1]
        counters = {k: end[k] - start.get(k, 0.0) for k in end if k.endswith(("_total", "_sum"))}
        return {
            "available": True,
            "samples": len(self.samples),
            "start": start,
            "end": end,
            "delta": counters,
            "series": [{"time": t, **values} for t, values in self.samples],
        }
