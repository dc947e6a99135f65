"""A whole fleet simulated replica by replica, sharded across workers (a process pool or
Ray), instead of a representative subset.

The router is two-level: requests go round-robin across `G` equal groups of replicas, then
to a replica within the group by the fleet's router. Each group is one shard, simulated by
one worker with nothing shared:

- **round-robin** is exact: under one global round-robin over R = G × L replicas, group g
  receives every G-th arrival, so each shard draws that stream itself — in the arrival
  process's own time (Λ, the expected arrivals so far), gaps of Gamma(G, 1) after a first
  arrival of Gamma(g + 1, 1), mapped to seconds through Λ⁻¹ — and round-robin within the
  group then gives every replica every R-th arrival, as the global router would. Shards are
  exact in distribution, not sample for sample (their streams are drawn independently; a
  global stream would correlate them, which no replica's latency can see);
- **least-outstanding** needs global state (every replica's queue at each arrival): here
  it is least-outstanding within a group after round-robin across groups, an approximation
  that sends a request to the shortest of L queues instead of R (documented beside the
  result; it matters only when L is small).

The day's traffic is a rate shaped by 24 hourly multipliers (a profile), or flat. Each shard
streams its records to Parquet when asked, and returns only histograms and sums, so a
worker's memory is bounded by its shard (`SHARD_REQUESTS`) and the driver's by the number of
shards. Fleet percentiles come from merged log-spaced histograms (`BINS` bins from 10 µs to
10⁵ s: 0.12 % wide), never from the records.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from infercost.errors import InputError
from infercost.limits import MAX_REPLICAS, MAX_SLOTS
from infercost.perf.deployment import Deployment
from infercost.planning.runner import Runner
from infercost.records import METRICS, PERCENTILES, Slo
from infercost.sim.engine import Fleet, simulate
from infercost.units import SECONDS_PER_HOUR
from infercost.workload.lengths import lengths

SHARD_REQUESTS = 2_000_000  # requests one worker simulates at once (~1–2 GB of state)
# Replicas in a group: the simulator finds each next event among a group's replicas, so a
# step costs more the more replicas share a simulation; 16 keeps it near the sampled run's.
GROUP_REPLICAS = 16
MAX_WHOLE_FLEET_REQUESTS = 1_000_000_000  # a day of 11,000 queries/s
BINS = 20_000
LOW_S, HIGH_S = 1e-5, 1e5
EDGES = np.geomspace(LOW_S, HIGH_S, BINS + 1)


@dataclass(frozen=True)
class Traffic:
    """The fleet's arrivals: `rate_per_s` (the mean, with a profile) for `duration_s`."""

    rate_per_s: float
    duration_s: float
    hourly: tuple[float, ...] | None = None  # 24 multipliers of the mean (mean 1), repeating
    input_spec: str = "1000"
    output_spec: str = "200"

    def expected(self, t: NDArray[np.float64]) -> NDArray[np.float64]:
        """Λ(t): the arrivals expected by time t (piecewise linear through the hours)."""
        knots_t, knots_u = self._knots()
        return np.interp(t, knots_t, knots_u)

    def time_of(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        """Λ⁻¹(u): when the u-th expected arrival happens."""
        knots_t, knots_u = self._knots()
        return np.interp(u, knots_u, knots_t)

    def _knots(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        if self.hourly is None:
            return np.array([0.0, self.duration_s]), np.array(
                [0.0, self.rate_per_s * self.duration_s]
            )
        hours = math.ceil(self.duration_s / SECONDS_PER_HOUR)
        shape = np.array([self.hourly[h % len(self.hourly)] for h in range(hours)])
        t = np.arange(hours + 1, dtype=np.float64) * SECONDS_PER_HOUR
        u: NDArray[np.float64] = np.concatenate(
            [[0.0], np.cumsum(self.rate_per_s * shape * SECONDS_PER_HOUR)]
        )
        return t, u


@dataclass(frozen=True)
class Shard:
    """One group of replicas and everything it needs to draw and simulate its own traffic."""

    deployment: Deployment
    fleet: Fleet  # its `replicas` are the group's
    traffic: Traffic
    group: int
    groups: int
    seed: int
    slos: tuple[Slo, ...] = ()
    records_dir: str | None = None


def groups_for(replicas: int, expected_requests: float, workers: int, max_group: int) -> int:
    """The fewest equal groups (a divisor of `replicas`) that keep a shard under
    `SHARD_REQUESTS` and `max_group` replicas, and give every worker one."""
    need = max(
        math.ceil(expected_requests / SHARD_REQUESTS),
        math.ceil(replicas / max_group),
        min(workers, replicas),
        1,
    )
    return next(g for g in range(need, replicas + 1) if replicas % g == 0)


def shards(
    deployment: Deployment,
    fleet: Fleet,
    traffic: Traffic,
    workers: int,
    seed: int = 0,
    slos: tuple[Slo, ...] = (),
    records_dir: str | None = None,
) -> list[Shard]:
    """The fleet as groups (see `groups_for`), each a shard; sizes checked before any work."""
    total = float(traffic.expected(np.array([traffic.duration_s]))[0])
    if total > MAX_WHOLE_FLEET_REQUESTS:
        raise InputError(
            "requests", f"{total:,.0f} expected; a whole fleet takes at most "
            f"{MAX_WHOLE_FLEET_REQUESTS:,}: shorten the hours"
        )  # fmt: skip
    max_group = min(GROUP_REPLICAS, MAX_REPLICAS, MAX_SLOTS // max(fleet.max_seqs, 1))
    g = groups_for(fleet.replicas, total, workers, max_group)
    group_fleet = Fleet(
        replicas=fleet.replicas // g, router=fleet.router, max_seqs=fleet.max_seqs,
        cached_fraction=fleet.cached_fraction, scheduler_steps=fleet.scheduler_steps,
        mixed_prefill=fleet.mixed_prefill,
    )  # fmt: skip
    group_fleet.check()
    return [
        Shard(deployment, group_fleet, traffic, i, g, seed, slos, records_dir) for i in range(g)
    ]


def arrivals(shard: Shard) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """The shard's requests: every G-th arrival of the fleet's stream (module docstring)."""
    rng = np.random.default_rng([shard.seed, shard.group])
    t = shard.traffic
    end = float(t.expected(np.array([t.duration_s]))[0])
    first = rng.gamma(shard.group + 1, 1.0)
    n = max(int((end - first) / shard.groups * 1.05) + 64, 1)
    u = first + np.concatenate([[0.0], np.cumsum(rng.gamma(shard.groups, 1.0, n))])
    while u[-1] < end:  # rare: the stream ran past its expected count
        u = np.concatenate([u, u[-1] + np.cumsum(rng.gamma(shard.groups, 1.0, n))])
    u = u[u < end]
    times = t.time_of(u)
    prompts = lengths(t.input_spec, len(u), rng, "input_tokens", minimum=0)
    outputs = lengths(t.output_spec, len(u), rng, "output_tokens", minimum=1)
    return times, prompts, outputs


def run_shard(shard: Shard) -> dict[str, Any]:
    """Simulate one group: its histograms, sums and counts (and its records, to Parquet)."""
    times, prompts, outputs = arrivals(shard)
    if len(times) == 0:
        return {"requests": 0}
    result = simulate(shard.deployment, times, prompts, outputs, shard.fleet)
    r = result.records
    if shard.records_dir is not None:
        r.write_parquet(Path(shard.records_dir) / f"shard-{shard.group:05d}.parquet")
    ok = r.ok
    good = ok.copy()
    out: dict[str, Any] = {"requests": len(r), "completed": int(ok.sum())}
    for name in METRICS:
        values = r.metric(name)[ok]
        values = values[np.isfinite(values)]
        out[f"{name}_hist"] = np.histogram(np.clip(values, LOW_S, HIGH_S), EDGES)[0]
        out[f"{name}_sum"] = float(values.sum())
        out[f"{name}_count"] = len(values)
    for slo in shard.slos:
        good &= ~(r.metric(slo.metric) > slo.threshold_s)
    out.update(
        good=int(good.sum()),
        output_tokens=int(r.output_tokens[ok].sum()),
        first_arrival_s=float(r.arrival_s.min()),
        last_finish_s=float(r.finish_s[ok].max()) if ok.any() else float(r.arrival_s.max()),
        preemptions=int(r.preemptions.sum()),
        busy_fraction=float(result.replica_stats["busy_fraction"]),
        engine_steps=int(result.replica_stats["engine_steps"]),
    )
    return out


def run(
    parts: list[Shard], runner: Runner, progress: Callable[[int, int], None] | None = None
) -> dict[str, Any]:
    """Every shard through `runner`, merged into the fleet's statistics as they arrive."""
    merged: dict[str, Any] = {}
    for done, (_, stats) in enumerate(runner.map(run_shard, parts), start=1):
        _merge(merged, stats)
        if progress:
            progress(done, len(parts))
    return summary(merged, parts)


def _merge(into: dict[str, Any], stats: dict[str, Any]) -> None:
    for key, value in stats.items():
        if key == "first_arrival_s":
            into[key] = min(into.get(key, math.inf), value)
        elif key == "last_finish_s":
            into[key] = max(into.get(key, -math.inf), value)
        elif key == "busy_fraction":
            into.setdefault("busy_fractions", []).append(value)
        else:
            into[key] = into[key] + value if key in into else value


def summary(m: dict[str, Any], parts: list[Shard]) -> dict[str, Any]:
    """The fleet's figures, as `simulate` reports them (percentiles from the histograms)."""
    duration = max(m.get("last_finish_s", 0.0) - m.get("first_arrival_s", 0.0), 1e-12)
    out: dict[str, Any] = {
        "requests": m.get("requests", 0),
        "completed": m.get("completed", 0),
        "errors": m.get("requests", 0) - m.get("completed", 0),
        "duration_s": duration,
        "throughput_output_tok_s": m.get("output_tokens", 0) / duration,
        "throughput_requests_per_s": m.get("completed", 0) / duration,
        "goodput_rps": m.get("good", 0) / duration,
        "preemptions": m.get("preemptions", 0),
        "busy_fraction": float(np.mean(m.get("busy_fractions") or [0.0])),
        "engine_steps": m.get("engine_steps", 0),
    }
    for name in METRICS:
        hist = m.get(f"{name}_hist")
        count = m.get(f"{name}_count", 0)
        points = _percentiles(hist, PERCENTILES) if hist is not None and count else {}
        mean = m[f"{name}_sum"] / count if count else None
        out[f"{name}_s"] = {**points, "mean": mean}
    shard = parts[0]
    out["offered_rate_rps"] = shard.traffic.rate_per_s
    out["mean_concurrency"] = m.get("e2e_sum", 0.0) / duration
    out["slo"] = {}
    for slo in shard.slos:
        hist = m.get(f"{slo.metric}_hist")
        achieved = None
        if hist is not None and m.get(f"{slo.metric}_count"):
            achieved = _percentiles(hist, (slo.percentile,))[f"p{slo.percentile:g}"]
        out["slo"][slo.name] = {
            "threshold_s": slo.threshold_s,
            "achieved_s": achieved,
            "met": out["completed"] > 0 and (achieved is None or achieved <= slo.threshold_s),
        }
    out["shards"] = {
        "groups": shard.groups,
        "replicas_per_group": shard.fleet.replicas,
        "router_across_groups": "round-robin",
        "router_within": shard.fleet.router,
        "exact": shard.fleet.router == "round-robin" or shard.fleet.replicas == 1,
    }
    return out


def _percentiles(hist: NDArray[np.int64], percents: tuple[float, ...]) -> dict[str, float]:
    """Percentiles of a log-binned histogram, interpolated geometrically within a bin."""
    cum = np.cumsum(hist)
    total = cum[-1]
    out = {}
    for p in percents:
        rank = p / 100 * total
        i = int(np.searchsorted(cum, rank))
        before = cum[i - 1] if i > 0 else 0
        frac = (rank - before) / hist[i] if hist[i] else 0.5
        out[f"p{p:g}"] = float(EDGES[i] * (EDGES[i + 1] / EDGES[i]) ** frac)
    return out
