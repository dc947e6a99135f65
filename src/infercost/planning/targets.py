"""Latency targets a plan must meet, and whether a run of requests meets them.

Written `ttft_p99=2s,tpot_p99=50ms,e2e_p90=30s,interactivity_p50=20`: each part bounds one
metric at a percentile (TTFT, TPOT and E2E in s, ms or µs; interactivity in tokens per
second per user, a floor that is a TPOT ceiling of 1 / value at the same percentile). A
goodput fraction g asks that at least g of all requests meet every threshold at once.

A percentile must be below 100: no finite run proves a maximum. A target is met by a
simulated run when the upper 95 % confidence bound of its percentile is within it (see
`queueing.upper_quantile_index`), so that the same fleet meets it on a fresh sample too.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from infercost.errors import InputError
from infercost.planning.queueing import upper_quantile_index
from infercost.records import Records, Slo

UNITS_S = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6}
METRICS = ("ttft", "tpot", "e2e", "interactivity")
PART = re.compile(
    r"\s*(?P<metric>[a-z0-9_]+)_p(?P<pct>[-+\d.]+)\s*=\s*"
    r"(?P<value>[-+]?(?:nan|inf|[\d.]+(?:e[-+]?\d+)?))\s*(?P<unit>[a-zµ/]*)\s*",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Targets:
    slos: tuple[Slo, ...]
    goodput_fraction: float | None = None

    @property
    def text(self) -> str:
        return ",".join(f"{s.name}={s.threshold_s * 1e3:g}ms" for s in self.slos)

    def threshold(self, metric: str) -> float | None:
        """The tightest threshold on `metric` (s), or None."""
        values = [s.threshold_s for s in self.slos if s.metric == metric]
        return min(values) if values else None

    def percentile(self, metric: str) -> float:
        """The highest percentile asked of `metric`, raised to the goodput fraction."""
        values = [s.percentile for s in self.slos if s.metric == metric] or [50.0]
        goodput = 100.0 * (self.goodput_fraction or 0.0)
        return max(*values, goodput)

    def to_dict(self) -> dict[str, Any]:
        return {
            "slo": [
                {"metric": s.metric, "percentile": s.percentile, "threshold_s": s.threshold_s}
                for s in self.slos
            ],
            "goodput_fraction": self.goodput_fraction,
        }


def parse_targets(
    text: str | None,
    goodput_fraction: float | None = None,
    min_interactivity: float | None = None,
    field: str = "slo",
) -> Targets:
    """Targets from `ttft_p99=2s,...` (see the module docstring), checked."""
    slos: dict[tuple[str, float], Slo] = {}
    written: dict[tuple[str, float], str] = {}
    parts = [(p.strip(), field) for p in (text or "").split(",") if p.strip()]
    if min_interactivity is not None:
        parts.append((f"interactivity_p50={min_interactivity!r}", "min_interactivity"))
    for part, origin in parts:
        slo = _part(part, origin)
        key = (slo.metric, slo.percentile)
        if key in slos and slos[key].threshold_s != slo.threshold_s:
            raise InputError(origin, f"{written[key]} and {part} set {slo.name} twice, differently")
        slos[key], written[key] = slo, part
    if not slos:
        raise InputError(field, "give at least one target, e.g. ttft_p99=2s,tpot_p99=50ms")
    if goodput_fraction is not None and not (
        math.isfinite(goodput_fraction) and 0 < goodput_fraction < 1
    ):
        raise InputError("goodput", f"must be a fraction in (0, 1), got {goodput_fraction}")
    return Targets(tuple(slos.values()), goodput_fraction)


def _part(part: str, field: str) -> Slo:
    m = PART.fullmatch(part)
    if not m:
        raise InputError(
            field, f"cannot read {part.strip()!r}; write e.g. ttft_p99=2s,tpot_p99=50ms"
        )
    metric, unit = m["metric"].lower(), m["unit"].lower()
    if metric not in METRICS:
        raise InputError(field, f"unknown metric {metric!r}; allowed: {', '.join(METRICS)}")
    pct, value = _number(m["pct"], part, field), _number(m["value"], part, field)
    if not 0 < pct < 100:
        raise InputError(
            field, f"percentile p{m['pct']} must be in (0, 100): no finite run proves a maximum"
        )
    if not value > 0:
        raise InputError(field, f"{metric}_p{pct:g} must be > 0, got {m['value']}{unit}")
    if metric == "interactivity":
        if unit not in ("", "tok/s"):
            raise InputError(field, f"interactivity is in tokens/s per user, not {unit!r}")
        return Slo("tpot", pct, 1.0 / value)
    if unit not in UNITS_S:
        raise InputError(field, f"{metric}_p{pct:g} needs a unit: s, ms or µs (got {unit!r})")
    return Slo(metric, pct, value * UNITS_S[unit])


def _number(text: str, part: str, field: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(field, f"cannot read a number in {part.strip()!r}") from None
    if not math.isfinite(value):
        raise InputError(field, f"{part.strip()!r} is not a finite number")
    return value


@dataclass(frozen=True)
class Check:
    """How a run measured up: each target's bound percentile against its threshold."""

    achieved_s: dict[str, float]  # slo name → upper-bound percentile (s)
    goodput_fraction: float
    met: bool
    misses: tuple[str, ...]

    def margin(self, targets: Targets) -> float:
        """The smallest relative headroom, (threshold − achieved) / threshold."""
        return min((s.threshold_s - self.achieved_s[s.name]) / s.threshold_s for s in targets.slos)


def check_records(records: Records, targets: Targets) -> Check:
    """Whether `records` meet `targets` (see the module docstring); errors count as misses."""
    ok = records.ok
    good = ok.copy()
    achieved: dict[str, float] = {}
    misses: list[str] = []
    for slo in targets.slos:
        values = records.metric(slo.metric)
        good &= ~(values > slo.threshold_s)
        bound = _bound(np.where(ok, values, np.inf), slo.percentile / 100)
        achieved[slo.name] = bound
        if not bound <= slo.threshold_s:
            misses.append(f"{slo.name} {_ms(bound)} > {_ms(slo.threshold_s)}")
    fraction = float(good.mean()) if len(good) else 0.0
    want = targets.goodput_fraction
    if want is not None and fraction < want:
        misses.append(f"goodput {fraction:.2%} < {want:.2%}")
    return Check(achieved, fraction, not misses, tuple(misses))


def _bound(values: NDArray[np.float64], p: float) -> float:
    """The upper confidence bound of the p-quantile; requests without the metric (one
    output token has no TPOT) are left out."""
    present = values[~np.isnan(values)]
    if present.size == 0:
        return 0.0
    k = upper_quantile_index(present.size, p)
    return float(np.partition(present, k)[k])


def _ms(seconds: float) -> str:
    return "never" if not math.isfinite(seconds) else f"{seconds * 1e3:,.1f} ms"
