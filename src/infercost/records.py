"""Per-request records and their statistics, for simulated and measured requests alike.

One record per request: when it arrived, when its first content token came, when it
finished, its token counts, the replica that served it, how often it was preempted, and an
error (empty when it succeeded). The metrics follow `vllm bench serve`:

    TTFT  = first token − arrival
    E2E   = finish − arrival
    TPOT  = (E2E − TTFT) / (output tokens − 1)        (requests with one output token: none)
    output throughput = output tokens / (last finish − first arrival)
    goodput           = requests meeting every SLO / the same duration

An SLO is written `ttft_p99=2s,tpot_p99=100ms,e2e_p90=30s`: a request is good when each of its
metrics is within the threshold; the report also says whether each percentile is met.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from infercost.errors import InputError

PERCENTILES = (50, 90, 95, 99)
METRICS = ("ttft", "tpot", "e2e")
_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6}


@dataclass(frozen=True)
class Slo:
    metric: str  # ttft | tpot | e2e
    percentile: float
    threshold_s: float

    @property
    def name(self) -> str:
        return f"{self.metric}_p{self.percentile:g}"


def parse_slos(text: str | None) -> list[Slo]:
    """`ttft_p99=2s,tpot_p99=100ms` → SLOs (see the module docstring)."""
    if not text:
        return []
    out = []
    for part in text.split(","):
        m = re.fullmatch(
            r"\s*(ttft|tpot|e2e)_p(\d+(?:\.\d+)?)\s*=\s*([\d.]+)\s*(s|ms|us|µs)\s*", part
        )
        if not m:
            raise InputError(
                "slo", f"cannot read {part.strip()!r}; write e.g. ttft_p99=2s,tpot_p99=100ms"
            )
        metric, pct, value, unit = m.groups()
        if not 0 < float(pct) <= 100:
            raise InputError("slo", f"percentile must be in (0, 100], got {pct}")
        out.append(Slo(metric, float(pct), float(value) * _UNITS[unit]))
    return out


@dataclass(frozen=True)
class Records:
    """Columns of per-request records (times in seconds)."""

    arrival_s: NDArray[np.float64]
    first_token_s: NDArray[np.float64]
    finish_s: NDArray[np.float64]
    input_tokens: NDArray[np.int64]
    output_tokens: NDArray[np.int64]
    replica: NDArray[np.int64]
    preemptions: NDArray[np.int64]
    error: NDArray[np.str_] = field(default_factory=lambda: np.array([], dtype=str))
    prefill_replica: NDArray[np.int64] | None = None  # a disaggregated fleet's prefill pool

    def take(self, index: NDArray[np.intp]) -> Records:
        """The records at `index`, every column."""
        whole = len(self.error) == len(self)
        return Records(
            arrival_s=self.arrival_s[index],
            first_token_s=self.first_token_s[index],
            finish_s=self.finish_s[index],
            input_tokens=self.input_tokens[index],
            output_tokens=self.output_tokens[index],
            replica=self.replica[index],
            preemptions=self.preemptions[index],
            error=self.error[index] if whole else self.error,
            prefill_replica=None if self.prefill_replica is None else self.prefill_replica[index],
        )

    def __len__(self) -> int:
        return len(self.arrival_s)

    @property
    def ok(self) -> NDArray[np.bool_]:
        if len(self.error) == len(self):
            return np.asarray(self.error == "")
        return np.ones(len(self), dtype=bool)

    @property
    def ttft_s(self) -> NDArray[np.float64]:
        return self.first_token_s - self.arrival_s

    @property
    def e2e_s(self) -> NDArray[np.float64]:
        return self.finish_s - self.arrival_s

    @property
    def tpot_s(self) -> NDArray[np.float64]:
        decode = (self.output_tokens - 1).astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(decode > 0, (self.e2e_s - self.ttft_s) / decode, np.nan)

    def metric(self, name: str) -> NDArray[np.float64]:
        return {"ttft": self.ttft_s, "tpot": self.tpot_s, "e2e": self.e2e_s}[name]

    def write_csv(self, path: Path) -> None:
        columns = self._columns()
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(columns)
            writer.writerows(zip(*columns.values(), strict=True))

    def write_parquet(self, path: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table(self._columns()), path)

    def _columns(self) -> dict[str, Any]:
        errors = self.error if len(self.error) == len(self) else np.full(len(self), "")
        return {
            "id": np.arange(len(self)),
            "arrival_s": self.arrival_s,
            "first_token_s": self.first_token_s,
            "finish_s": self.finish_s,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "replica": self.replica,
            **({} if self.prefill_replica is None else {"prefill_replica": self.prefill_replica}),
            "preemptions": self.preemptions,
            "error": errors,
        }


def distribution(values: NDArray[np.float64]) -> dict[str, float | None]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return {**{f"p{p}": None for p in PERCENTILES}, "mean": None}
    points = np.percentile(finite, PERCENTILES)
    return {
        **{f"p{p}": float(v) for p, v in zip(PERCENTILES, points, strict=True)},
        "mean": float(finite.mean()),
    }


# A run's shape for charts: its latency CDFs on a fixed percent grid (the tail resolved to
# 0.1 %), and percentiles over time in equal windows of arrival time.
CDF_PERCENTS = (*range(0, 100), 99.5, 99.9, 100)
TIMELINE_WINDOWS = 48


def shape(records: Records, windows: int = TIMELINE_WINDOWS) -> dict[str, Any]:
    """The latency CDFs (`cdf`: the value at each of `percent`) and TTFT/TPOT p50 and p99 per
    window of arrival time (`timeline`, windows that received no request hold None) of the
    requests that succeeded: what a report or a page draws, without the records."""
    ok = records.ok
    cdf: dict[str, list[float | None]] = {}
    for name in METRICS:
        values = records.metric(name)[ok]
        finite = values[np.isfinite(values)]
        points = np.percentile(finite, CDF_PERCENTS) if finite.size else None
        cdf[f"{name}_s"] = [None] * len(CDF_PERCENTS) if points is None else points.tolist()
    arrival = records.arrival_s[ok]
    timeline: dict[str, list[float | None]] = {"t_s": [], "requests": []}
    if arrival.size:
        start, end = float(arrival.min()), float(arrival.max())
        edges = np.linspace(start, end if end > start else start + 1.0, windows + 1)
        window = np.clip(np.searchsorted(edges, arrival, side="right") - 1, 0, windows - 1)
        timeline["t_s"] = (edges[:-1] - start).tolist()
        timeline["requests"] = np.bincount(window, minlength=windows).astype(float).tolist()
        order = np.argsort(window, kind="stable")
        bounds = np.searchsorted(window[order], np.arange(windows + 1))
        for name in ("ttft", "tpot"):
            values = records.metric(name)[ok][order]
            parts = [values[bounds[w] : bounds[w + 1]] for w in range(windows)]
            for pct in (50, 99):
                timeline[f"{name}_s_p{pct}"] = [_percentile(part, pct) for part in parts]
    return {"percent": list(CDF_PERCENTS), "cdf": cdf, "timeline": timeline}


def _percentile(values: NDArray[np.float64], pct: float) -> float | None:
    finite = values[np.isfinite(values)]
    return float(np.percentile(finite, pct)) if finite.size else None


def summarise(records: Records, slos: list[Slo] | None = None) -> dict[str, Any]:
    """The report of a run: counts, duration, throughput, goodput, latency percentiles."""
    ok = records.ok
    done = records.finish_s[ok]
    duration = float(done.max() - records.arrival_s.min()) if done.size else 0.0
    good = ok.copy()
    slo_report = {}
    for slo in slos or []:
        values = records.metric(slo.metric)
        # A request with no TPOT (one output token) cannot break a TPOT target.
        good &= ~(values > slo.threshold_s)
        present = values[ok][~np.isnan(values[ok])]
        achieved = float(np.percentile(present, slo.percentile)) if present.size else None
        slo_report[slo.name] = {
            "threshold_s": slo.threshold_s,
            "achieved_s": achieved,
            # Met when no request broke it: also when none has the metric, but not when
            # every request failed (then none was served at all).
            "met": bool(ok.any()) and (achieved is None or achieved <= slo.threshold_s),
        }
    output = float(records.output_tokens[ok].sum())
    per_s = 1.0 / duration if duration > 0 else 0.0
    return {
        "requests": len(records),
        "completed": int(ok.sum()),
        "errors": int((~ok).sum()),
        "duration_s": duration,
        "throughput_output_tok_s": output * per_s,
        "throughput_requests_per_s": float(ok.sum()) * per_s,
        "goodput_rps": float(good.sum()) * per_s,
        "mean_concurrency": float(records.e2e_s[ok].sum()) * per_s,
        "preemptions": int(records.preemptions.sum()),
        "ttft_s": distribution(records.ttft_s[ok]),
        "tpot_s": distribution(records.tpot_s[ok]),
        "e2e_s": distribution(records.e2e_s[ok]),
        "slo": slo_report,
    }
