"""Drive a server: a fixed number of requests in flight, or arrivals on a schedule.

Two ways to load a server, one record per request sent:

- concurrency: `n` workers each send their next request as soon as the previous one ends;
  a worker takes a whole conversation at a time and sends its turns in order, each with
  the conversation so far (a failed turn ends it);
- schedule: request k is sent at `arrival_s[k]` (Poisson, gamma or a trace), with at most
  `max_in_flight` outstanding. When the client falls behind — the cap is reached, or the
  event loop is late — the request goes out late, and the lateness is reported (mean, p99,
  and the achieved against the target rate) instead of the run being silently stretched.

Connections are pooled and kept alive, as real clients keep them, until the server is seen
to drop one it had left open: a try that failed before any response byte and then went
through on a fresh connection. llama-server, for one, closes every connection after a
streamed response without saying so, and the next request written into it fails at once.
From then on each request opens its own connection, and `RunStats.fresh_connections` says
so, instead of every other request paying a retry.

Every finished request reaches `on_result` at once (the caller writes it to disk), so an
interrupted run keeps everything that finished and reports what was in flight.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import numpy as np

from infercost.measurement.client import Request, Result, send


@dataclass
class RunStats:
    sent: int = 0
    finished: int = 0
    in_flight_at_end: int = 0
    lateness_s: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    interrupted: bool = False
    fresh_connections: bool = False  # the server dropped kept-alive connections: not reused

    def to_dict(self, target_rate: float | None = None) -> dict[str, Any]:
        late = np.asarray(self.lateness_s) if self.lateness_s else np.zeros(1)
        achieved = self.sent / self.wall_s if self.wall_s > 0 else 0.0
        return {
            "sent": self.sent,
            "finished": self.finished,
            "in_flight_at_end": self.in_flight_at_end,
            "interrupted": self.interrupted,
            "fresh_connections": self.fresh_connections,
            "wall_s": self.wall_s,
            "achieved_rate_rps": achieved,
            "target_rate_rps": target_rate,
            "lateness_mean_s": float(late.mean()),
            "lateness_p99_s": float(np.percentile(late, 99)),
        }


class _Sessions:
    """A pooled keep-alive session, and a connection-per-request one for a server seen to
    drop the connections it kept (see the module docstring)."""

    def __init__(self, limit: int, stats: RunStats) -> None:
        self._stats = stats
        self._pooled = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=limit, enable_cleanup_closed=True)
        )
        self._fresh = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=limit, force_close=True)
        )

    async def send(self, *args: Any, **kwargs: Any) -> Result:
        pooled = not self._stats.fresh_connections
        session = self._pooled if pooled else self._fresh
        result = await send(session, *args, **kwargs)
        if pooled and result.retries and not result.error:
            self._stats.fresh_connections = True
        return result

    async def __aenter__(self) -> _Sessions:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._pooled.close()
        await self._fresh.close()


async def run_concurrency(
    url: str,
    model: str,
    requests: Sequence[Request],
    concurrency: int,
    on_result: Callable[[Result], None],
    timeout_s: float = 60.0,
    deadline_s: float | None = None,
    stats: RunStats | None = None,
    headers: dict[str, str] | None = None,
) -> RunStats:
    """`concurrency` workers send `requests` back to back (see the module docstring)."""
    stats = stats if stats is not None else RunStats()
    origin = time.perf_counter()
    queue = iter(_conversations(requests))
    async with _Sessions(concurrency, stats) as sessions:

        async def worker() -> None:
            for turns in queue:
                history: list[tuple[str, str]] = []
                for index, request in turns:
                    if deadline_s is not None and time.perf_counter() - origin >= deadline_s:
                        return
                    request.history = list(history)
                    stats.sent += 1
                    result = await sessions.send(
                        url, model, request, index, origin, timeout_s, headers
                    )
                    stats.finished += 1
                    on_result(result)
                    if result.error:  # a conversation ends at a failed turn
                        break
                    history.append((request.prompt, result.text))

        await _guarded(stats, [asyncio.ensure_future(worker()) for _ in range(concurrency)])
    stats.wall_s = time.perf_counter() - origin
    return stats


def _conversations(requests: Sequence[Request]) -> list[list[tuple[int, Request]]]:
    """The requests grouped by conversation, each in turn order (one request, one
    conversation, unless turns were asked for)."""
    groups: dict[object, list[tuple[int, Request]]] = {}
    for index, request in enumerate(requests):
        key = ("alone", index) if request.conversation is None else request.conversation
        groups.setdefault(key, []).append((index, request))
    return [sorted(g, key=lambda item: item[1].turn) for g in groups.values()]


async def run_schedule(
    url: str,
    model: str,
    requests: Sequence[Request],
    arrival_s: Sequence[float],
    on_result: Callable[[Result], None],
    max_in_flight: int = 1024,
    timeout_s: float = 60.0,
    stats: RunStats | None = None,
    headers: dict[str, str] | None = None,
) -> RunStats:
    """Send request k at `arrival_s[k]`, at most `max_in_flight` at once."""
    stats = stats if stats is not None else RunStats()
    gate = asyncio.Semaphore(max_in_flight)
    tasks: list[asyncio.Future[None]] = []
    origin = time.perf_counter()
    async with _Sessions(max_in_flight, stats) as sessions:

        async def one(index: int, request: Request) -> None:
            try:
                result = await sessions.send(url, model, request, index, origin, timeout_s, headers)
                stats.finished += 1
                on_result(result)
            finally:
                gate.release()

        async def dispatch() -> None:
            for index, (request, due) in enumerate(zip(requests, arrival_s, strict=True)):
                wait = due - (time.perf_counter() - origin)
                if wait > 0:
                    await asyncio.sleep(wait)
                await gate.acquire()
                stats.lateness_s.append(max(time.perf_counter() - origin - due, 0.0))
                stats.sent += 1
                tasks.append(asyncio.ensure_future(one(index, request)))
            if tasks:
                await asyncio.gather(*tasks)

        await _guarded(stats, [asyncio.ensure_future(dispatch())], tasks)
    stats.wall_s = time.perf_counter() - origin
    return stats


async def _guarded(
    stats: RunStats,
    runners: list[asyncio.Future[None]],
    extra: list[asyncio.Future[None]] | None = None,
) -> None:
    """Wait for the runners; on interruption cancel everything and count what was in flight."""
    try:
        await asyncio.gather(*runners)
    except asyncio.CancelledError:
        stats.interrupted = True
        for task in [*runners, *(extra or [])]:
            task.cancel()
        stats.in_flight_at_end = stats.sent - stats.finished
        raise
