"""Whole-fleet simulation: groups that divide the fleet, each shard's arrivals the every-G-th
of the fleet's stream, percentiles from merged histograms; a sharded fleet matches one
simulation of every replica and the sampled run; every backend gives the same figures."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from infercost.api import simulate as simulate_verb
from infercost.errors import InputError
from infercost.evaluate.config import Config, resolve
from infercost.planning import whole_fleet as wf
from infercost.planning.runner import Runner
from infercost.records import summarise
from infercost.sim.engine import Fleet, simulate
from infercost.workload.arrivals import arrivals

RATE = 4.0  # requests/s per replica: a busy but stable Llama-3.1-8B on one H100
REPLICAS = 64


@pytest.fixture(scope="module")
def deployment():  # type: ignore[no-untyped-def]
    return resolve(Config(model="llama-3.1-8b", gpu="h100"), "builtin").deployment


def flow(seconds: float, replicas: int = REPLICAS) -> wf.Traffic:
    return wf.Traffic(rate_per_s=RATE * replicas, duration_s=seconds, input_spec="800",
                      output_spec="150")  # fmt: skip


def test_groups_divide_the_fleet_and_respect_every_bound() -> None:
    assert wf.groups_for(3618, 195e6, workers=2, max_group=16) == 402  # 9 replicas a group
    assert wf.groups_for(64, 1000, workers=2, max_group=16) == 4
    assert wf.groups_for(64, 1000, workers=8, max_group=16) == 8
    g = wf.groups_for(3618, 195e6, workers=2, max_group=16)
    assert 3618 % g == 0
    assert 195e6 / g <= wf.SHARD_REQUESTS


def test_each_shard_draws_every_gth_arrival_of_the_fleets_stream(deployment) -> None:  # type: ignore[no-untyped-def]
    parts = wf.shards(deployment, Fleet(replicas=REPLICAS), flow(2000.0), workers=8)
    streams = [wf.arrivals(p)[0] for p in parts]
    total = sum(len(s) for s in streams)
    expected = RATE * REPLICAS * 2000.0  # 512,000
    assert abs(total - expected) < 4 * np.sqrt(expected)
    gaps = np.concatenate([np.diff(s) for s in streams])
    groups = len(parts)
    # Erlang-G gaps: mean G / λ, coefficient of variation 1 / √G
    assert gaps.mean() == pytest.approx(groups / (RATE * REPLICAS), rel=0.01)
    assert gaps.std() / gaps.mean() == pytest.approx(1 / np.sqrt(groups), rel=0.03)


def test_a_day_profile_shapes_the_arrivals_hour_by_hour(deployment) -> None:  # type: ignore[no-untyped-def]
    hourly = tuple([0.5] * 12 + [1.5] * 12)  # mean 1
    day = wf.Traffic(rate_per_s=20.0, duration_s=86_400.0, hourly=hourly)
    parts = wf.shards(deployment, Fleet(replicas=8), day, workers=2)
    times = np.concatenate([wf.arrivals(p)[0] for p in parts])
    night = (times < 12 * 3600).sum()
    assert (len(times) - night) / night == pytest.approx(3.0, rel=0.03)
    assert len(times) == pytest.approx(20.0 * 86_400, rel=0.01)


def test_round_robin_shards_match_one_simulation_of_every_replica(deployment) -> None:  # type: ignore[no-untyped-def]
    """The fleet sharded into groups against all 64 replicas behind one round-robin router
    fed one Poisson stream: the same percentiles, within sampling noise (3 %)."""
    seconds = 600.0
    sharded = wf.run(wf.shards(deployment, Fleet(replicas=REPLICAS), flow(seconds), 8), Runner())
    n = int(RATE * REPLICAS * seconds)
    times = arrivals("poisson", RATE * REPLICAS, n, 7)
    whole = simulate(deployment, times, np.full(n, 800), np.full(n, 150), Fleet(replicas=REPLICAS))
    one = summarise(whole.records)
    for metric in ("ttft_s", "tpot_s"):
        for p in ("p50", "p99"):
            assert sharded[metric][p] == pytest.approx(one[metric][p], rel=0.03), (metric, p)
    assert sharded["shards"]["exact"] is True


def test_the_sampled_run_against_the_whole_fleet_at_steady_load(deployment) -> None:  # type: ignore[no-untyped-def]
    """What `simulate SCENARIO` does (8 replicas fed a Poisson 8/N of the traffic,
    least-outstanding) against every replica (least-outstanding within groups of 8 behind a
    round-robin): TPOT p99 within 3 %; TTFT p99 not — a finding (BENCHMARKS.md): a group
    behind a fleet-wide router sees every 8th arrival, a smoother stream than Poisson, so
    the sampled run overstates the TTFT tail."""
    seconds = 600.0
    fleet = Fleet(replicas=REPLICAS, router="least-outstanding")
    whole = wf.run(wf.shards(deployment, fleet, flow(seconds), 8), Runner())
    n = int(RATE * 8 * seconds)
    times = arrivals("poisson", RATE * 8, n, 3)
    sampled = simulate(
        deployment, times, np.full(n, 800), np.full(n, 150), replace(fleet, replicas=8)
    )
    s = summarise(sampled.records)
    assert whole["tpot_s"]["p99"] == pytest.approx(s["tpot_s"]["p99"], rel=0.03)
    assert whole["ttft_s"]["p99"] < 0.9 * s["ttft_s"]["p99"]
    assert whole["shards"]["exact"] is False


def test_every_backend_gives_the_same_figures(deployment, ray_local: str) -> None:  # type: ignore[no-untyped-def]
    parts = wf.shards(deployment, Fleet(replicas=16), flow(120.0, 16), workers=2)
    inline = wf.run(parts, Runner())
    assert wf.run(parts, Runner(workers=2)) == inline
    assert wf.run(parts, Runner(workers=2, ray=ray_local)) == inline


def test_histogram_percentiles_are_within_a_bin_of_the_exact_ones() -> None:
    rng = np.random.default_rng(0)
    values = rng.lognormal(-3, 1, 100_000)
    hist = np.histogram(values, wf.EDGES)[0]
    got = wf._percentiles(hist, (50, 99))
    width = wf.EDGES[1] / wf.EDGES[0] - 1  # 0.12 %
    for p in (50, 99):
        assert got[f"p{p}"] == pytest.approx(np.percentile(values, p), rel=width)


def test_the_verb_runs_a_scenarios_whole_fleet_and_writes_shard_records(tmp_path: Path) -> None:
    doc = simulate_verb(scenario="chatgpt-2023-today", whole_fleet=True, hours=0.01,
                        workers=1, records=str(tmp_path)).to_dict()  # fmt: skip
    w = doc["whole_fleet"]
    assert doc["fleet"]["replicas_simulated"] == doc["fleet"]["replicas_in_fleet"]
    assert w["groups"] * w["replicas_per_group"] == doc["fleet"]["replicas_in_fleet"]
    assert len(list(tmp_path.glob("shard-*.parquet"))) == w["groups"]
    assert doc["requests"] == pytest.approx(w["rate_per_s"] * 36, rel=0.1)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"scenario": "chatgpt-2023", "hours": 1}, "hours"),
        ({"model": "llama-3.1-8b", "gpu": "h100", "whole_fleet": True}, "whole_fleet"),
        ({"scenario": "deepseek-2025", "whole_fleet": True}, "whole_fleet"),
        ({"scenario": "chatgpt-2023", "whole_fleet": True, "replicas": 4}, "replicas"),
        ({"scenario": "chatgpt-2023", "whole_fleet": True, "requests": 50}, "requests"),
        ({"scenario": "chatgpt-2023", "whole_fleet": True, "records": "x.csv"}, "records"),
    ],
)
def test_whole_fleet_options_are_checked_before_any_work(fields: dict, field: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(InputError) as err:
        simulate_verb(**fields)
    assert err.value.field == field
