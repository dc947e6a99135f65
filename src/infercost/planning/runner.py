"""Where chunks of independent work run: in this process, a process pool on this machine, or
Ray (a local Ray, or a cluster joined by its address).

    Runner(workers=2).map(func, chunks)                 a process pool of 2
    Runner(workers=2, ray="local").map(func, chunks)    a local Ray with 2 CPUs
    Runner(ray="10.0.0.1:6379").map(func, chunks)       a Ray cluster

`map` yields `(index, result)` as chunks complete, not in order, so a caller can save each
result the moment it exists (a sweep's cache, a shard's Parquet file) and an interruption
keeps what had finished. Work goes out in chunks, never one task per tiny item (Ray's
documented anti-pattern); at most `2 × workers` chunks are in flight, so memory stays
bounded however many chunks there are. `func` must be a module-level function (it is
pickled to the workers). The same function on the same chunks gives the same results on
every backend: nothing here draws a random number.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, TypeVar

from infercost.errors import InputError

T = TypeVar("T")
R = TypeVar("R")

RAY_OBJECT_STORE_BYTES = 200 * 2**20  # a local Ray's object store: results are small
RAY_INSTALL = "Ray is not installed: pip install 'infercost[ray]' (or pip install ray)"


@dataclass(frozen=True)
class Runner:
    workers: int = 1  # processes (a local Ray: its CPUs)
    ray: str | None = None  # None: no Ray; "local", "auto" or a cluster's address

    def check(self) -> None:
        if not 1 <= self.workers <= 4096:
            raise InputError("workers", f"must be in [1, 4096], got {self.workers}")
        if self.ray is not None:
            ray_module()

    @property
    def name(self) -> str:
        if self.ray is None:
            return "in process" if self.workers == 1 else f"process pool of {self.workers}"
        return f"Ray ({self.ray}, {self.workers} CPUs)"

    def map(self, func: Callable[[T], R], chunks: Sequence[T]) -> Iterator[tuple[int, R]]:
        """Each chunk's result as soon as it is done, with the chunk's index."""
        self.check()
        if self.ray is not None:
            yield from _ray_map(func, chunks, self.workers, self.ray)
        elif self.workers == 1 or len(chunks) <= 1:
            for i, chunk in enumerate(chunks):
                yield i, func(chunk)
        else:
            yield from _pool_map(func, chunks, self.workers)


def ray_module() -> Any:
    try:
        import ray
    except ImportError:
        raise InputError("ray", RAY_INSTALL) from None
    return ray


def _pool_map(func: Callable[[T], R], chunks: Sequence[T], workers: int) -> Iterator[tuple[int, R]]:
    # spawn: a clean interpreter per worker (no inherited threads or locks from the parent)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: dict[Future[R], int] = {}
        queue = iter(enumerate(chunks))
        for i, chunk in _take(queue, 2 * workers):
            pending[pool.submit(func, chunk)] = i
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield pending.pop(future), future.result()
                for i, chunk in _take(queue, 1):
                    pending[pool.submit(func, chunk)] = i


def _ray_map(
    func: Callable[[T], R], chunks: Sequence[T], workers: int, address: str
) -> Iterator[tuple[int, R]]:
    ray = ray_module()
    started = False
    if not ray.is_initialized():
        os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
        _ray_init(ray, address, workers)
        started = True
    try:
        task = ray.remote(func)
        pending: dict[Any, int] = {}
        queue = iter(enumerate(chunks))
        in_flight = 2 * max(workers, int(ray.cluster_resources().get("CPU", workers)))
        for i, chunk in _take(queue, in_flight):
            pending[task.remote(chunk)] = i
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                yield pending.pop(ref), ray.get(ref)
                for i, chunk in _take(queue, 1):
                    pending[task.remote(chunk)] = i
    finally:
        if started:
            ray.shutdown()


def _ray_init(ray: Any, address: str, workers: int) -> None:
    """ "local": a Ray on this machine; "auto": the cluster this machine belongs to, else a
    local one; anything else: the cluster at that address."""
    local = {
        "num_cpus": workers,
        "include_dashboard": False,
        "object_store_memory": RAY_OBJECT_STORE_BYTES,
        "log_to_driver": False,
        "configure_logging": False,
    }
    if address == "local":
        ray.init(**local)
        return
    try:
        ray.init(address=address, log_to_driver=False, configure_logging=False)
    except (ConnectionError, RuntimeError) as exc:
        if address != "auto":
            raise InputError("ray", f"cannot join the Ray cluster at {address}: {exc}") from None
        ray.init(**local)


def _take(queue: Iterator[tuple[int, T]], n: int) -> list[tuple[int, T]]:
    out = []
    for _ in range(n):
        item = next(queue, None)
        if item is None:
            break
        out.append(item)
    return out
