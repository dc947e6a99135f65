"""Traffic as a mix of request classes: short chat, long-context RAG, batch jobs.

A class has a name, a share of the requests, its own prompt and answer length laws (the
specs of `lengths.py`) and, if it wants, its own latency targets. The classes' shares add up
to one. Their requests are one stream of arrivals at the whole rate, each arrival given a
class by its share (so each class's own arrivals are that process thinned: Poisson stays
Poisson), then lengths drawn from its class's laws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from infercost.errors import InputError
from infercost.limits import MAX_CLASSES
from infercost.workload.arrivals import arrivals
from infercost.workload.lengths import lengths
from infercost.workload.requests import Requests

SHARE_TOLERANCE = 1e-6  # how far the shares' sum may be from one


@dataclass(frozen=True)
class RequestClass:
    name: str
    share: float  # of all requests
    input_spec: str
    output_spec: str
    slo: str | None = None  # its own targets (None: the plan's)


def check_classes(classes: tuple[RequestClass, ...]) -> None:
    """Names unique, shares positive and adding up to one, every length law readable."""
    if not 1 <= len(classes) <= MAX_CLASSES:
        raise InputError("classes", f"give 1 to {MAX_CLASSES} request classes, got {len(classes)}")
    names = [c.name for c in classes]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError("classes", f"class names must differ: {', '.join(twice)} repeated")
    for c in classes:
        if not (np.isfinite(c.share) and 0 < c.share <= 1):
            raise InputError(f"classes.{c.name}.share", f"must be in (0, 1], got {c.share}")
        rng = np.random.default_rng(0)
        lengths(c.input_spec, 2, rng, f"classes.{c.name}.input_tokens", minimum=0)
        lengths(c.output_spec, 2, rng, f"classes.{c.name}.output_tokens", minimum=1)
    total = sum(c.share for c in classes)
    if abs(total - 1) > SHARE_TOLERANCE:
        raise InputError("classes", f"the shares must add up to 1, they add up to {total:g}")


@dataclass(frozen=True)
class ClassRequests:
    requests: Requests  # all classes together, in arrival order
    label: NDArray[np.int64]  # each request's class (index into the classes)

    def of(self, k: int) -> Requests:
        """Class `k`'s requests alone (its share of the rate)."""
        keep = self.label == k
        r = self.requests
        share = float(keep.mean()) if len(keep) else 0.0
        return Requests(
            r.arrival_s[keep], r.input_tokens[keep], r.output_tokens[keep], r.rate_per_s * share
        )


def class_requests(
    classes: tuple[RequestClass, ...],
    rate: float,
    n: int,
    arrival: str = "poisson",
    burstiness: float = 2.0,
    seed: int = 0,
) -> ClassRequests:
    """`n` requests of the mix at `rate` (see the module docstring), seeded."""
    check_classes(classes)
    options = {"burstiness": burstiness} if arrival == "gamma" else {}
    times = arrivals(arrival, rate, n, seed, **options)
    rng = np.random.default_rng(seed + 2)
    shares = np.array([c.share for c in classes]) / sum(c.share for c in classes)
    label = rng.choice(len(classes), size=n, p=shares).astype(np.int64)
    prompts = np.zeros(n, dtype=np.int64)
    outputs = np.ones(n, dtype=np.int64)
    for k, c in enumerate(classes):
        where = np.flatnonzero(label == k)
        draw = np.random.default_rng(seed + 3 + k)
        prompts[where] = lengths(c.input_spec, len(where), draw, "input_tokens", minimum=0)
        outputs[where] = lengths(c.output_spec, len(where), draw, "output_tokens", minimum=1)
    return ClassRequests(Requests(times, prompts, outputs, rate), label)
