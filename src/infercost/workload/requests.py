"""The requests a simulation runs: arrival times and token counts, from laws or a trace.

Arrivals come from a named process at a rate (see `arrivals.py`), lengths from length
specs (see `lengths.py`), each drawn from its own stream of one seed so that changing the
length law does not move the arrivals; a trace gives all three itself (see `trace.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from infercost.errors import InputError
from infercost.limits import MAX_REQUESTS
from infercost.workload.arrivals import arrivals
from infercost.workload.lengths import lengths
from infercost.workload.trace import load_trace


@dataclass(frozen=True)
class Requests:
    arrival_s: NDArray[np.float64]
    input_tokens: NDArray[np.int64]
    output_tokens: NDArray[np.int64]
    rate_per_s: float

    def __len__(self) -> int:
        return len(self.arrival_s)


def make_requests(
    *,
    rate: float | None,
    n: int,
    input_spec: str,
    output_spec: str,
    arrival: str = "poisson",
    burstiness: float = 2.0,
    seed: int = 0,
    trace: Path | None = None,
) -> Requests:
    """Arrivals and lengths from the options (a trace gives all three itself)."""
    if trace is not None:
        times, prompts, outputs = load_trace(trace)
        span = float(times.max()) if len(times) > 1 else 1.0
        return Requests(times, prompts, outputs, len(times) / max(span, 1e-9))
    if rate is None:
        raise InputError("rate", "give a request rate (requests/s) or a trace")
    if not 1 <= n <= MAX_REQUESTS:
        raise InputError("requests", f"must be in [1, {MAX_REQUESTS:,}], got {n:,}")
    options = {"burstiness": burstiness} if arrival == "gamma" else {}
    times = arrivals(arrival, rate, n, seed, **options)
    rng = np.random.default_rng(seed + 1)
    prompts = lengths(input_spec, n, rng, "input_tokens", minimum=0)
    outputs = lengths(output_spec, n, rng, "output_tokens", minimum=1)
    return Requests(times, prompts, outputs, rate)
