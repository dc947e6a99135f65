"""The simulator against queueing theory, conservation laws and the analytic model."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from infercost.perf.deployment import Efficiency, build
from infercost.perf.step import decode_step, prefill_step
from infercost.sim.engine import Fleet, SimResult, simulate
from infercost.sim.steps import step_table
from infercost.workload.arrivals import arrivals
from infercost.workload.lengths import lengths

DEP = build("llama-3.1-8b", "h100-sxm", efficiency=Efficiency())


def run(
    rate: float, n: int, prompt: str = "200", output: str = "100", seed: int = 7, **fleet: object
) -> SimResult:
    rng = np.random.default_rng(seed)
    return simulate(
        DEP,
        arrivals("poisson", rate, n, seed),
        lengths(prompt, n, rng, "input", 0),
        lengths(output, n, rng, "output"),
        Fleet(**fleet),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    "eff",
    [
        Efficiency(),
        Efficiency(compute=0.45, memory=0.5, attention_memory=0.9, token_overhead_s=2e-5),
    ],
)
def test_step_table_agrees_with_the_analytic_step(eff: Efficiency) -> None:
    dep = replace(DEP, efficiency=eff)
    table = step_table(dep, 512)
    for batch, context in ((1, 10), (32, 1500), (256, 600), (512, 50)):
        expected = decode_step(dep, batch, context).total_s
        assert table.decode_s(batch, batch * context) == pytest.approx(expected, rel=1e-3)


def test_step_table_agrees_with_the_analytic_step_across_attention_ranks() -> None:
    # DeepSeek-V3 decode as DeepSeek runs it: 144 attention-DP ranks, EP 144. Each rank
    # runs its share of the sequences, so their per-sequence overhead is paid 1/144 as often.
    dep = build(
        "deepseek-v3", "h800", ep=144, dp_attention=144, precision_name="fp8",
        efficiency=Efficiency(token_overhead_s=2e-5, comm_overlap=1.0),
    )  # fmt: skip
    table = step_table(dep, 20_001)
    for batch, context in ((144, 4000), (5000, 5000), (20_000, 5000)):
        expected = decode_step(dep, batch, context).total_s
        assert table.decode_s(batch, batch * context) == pytest.approx(expected, rel=1e-3)


def test_littles_law_holds() -> None:
    result = run(30.0, 20_000, prompt="lognormal:300:0.8", output="lognormal:150:0.8")
    s = result.summary()
    arrival_rate = len(result.records) / float(np.ptp(result.records.arrival_s))
    # Time-averaged requests in the system (the engine's own clock) against λ · W.
    assert s["mean_in_system"] == pytest.approx(arrival_rate * s["e2e_s"]["mean"], rel=0.03)


def test_tokens_are_conserved() -> None:
    result = run(60.0, 5_000, output="uniform:1:300", max_seqs=64)
    r = result.records
    assert np.all(r.finish_s >= r.first_token_s)
    assert np.all(r.first_token_s >= r.arrival_s)
    # Every output token is a prompt's last chunk (first token, or the first after a
    # recompute) or one decode step's token.
    from_prefills = len(r) + int(r.preemptions.sum())
    assert result.itl_counts.sum() + from_prefills == r.output_tokens.sum()


def test_single_slot_constant_service_matches_md1() -> None:
    # One slot, one output token, fixed prompt: every request is one prefill step of D s.
    service = prefill_step(DEP, 1, 512).total_s
    rho = 0.7
    result = run(rho / service, 200_000, prompt="512", output="1", max_seqs=1, seed=3)
    wait = result.records.ttft_s - service
    expected = rho * service / (2 * (1 - rho))  # Pollaczek–Khinchine, deterministic service
    assert float(wait.mean()) == pytest.approx(expected, rel=0.05)


def test_preemption_happens_when_and_only_when_kv_runs_out() -> None:
    roomy = run(40.0, 3_000, prompt="500", output="500")
    assert roomy.records.preemptions.sum() == 0
    assert roomy.summary()["kv_utilisation"] < 1
    # The same traffic on a replica that keeps back 70 % of its memory preempts.
    tight = replace(DEP, efficiency=replace(DEP.efficiency, memory_reserve_fraction=0.7))
    rng = np.random.default_rng(1)
    n = 3_000
    squeezed = simulate(
        tight,
        arrivals("poisson", 40.0, n, 1),
        lengths("500", n, rng, "input"),
        lengths("500", n, rng, "output"),
    )
    assert squeezed.records.preemptions.sum() > 0
    assert squeezed.records.ok.all()  # preempted requests still finish


def test_same_seed_same_result() -> None:
    a, b = run(20.0, 2_000, seed=11), run(20.0, 2_000, seed=11)
    assert np.array_equal(a.records.finish_s, b.records.finish_s)
    assert a.summary() == b.summary()
    c = run(20.0, 2_000, seed=12)
    assert not np.array_equal(a.records.finish_s, c.records.finish_s)


@pytest.mark.parametrize("router", ["round-robin", "least-outstanding"])
def test_a_subset_of_replicas_stands_for_the_fleet(router: str) -> None:
    per_replica = 25.0
    full = run(64 * per_replica, 64 * 3_000, prompt="lognormal:300:1", output="lognormal:200:1",
               replicas=64, router=router)  # fmt: skip
    subset = run(8 * per_replica, 8 * 3_000, prompt="lognormal:300:1", output="lognormal:200:1",
                 replicas=8, router=router, seed=8)  # fmt: skip
    for metric in ("ttft_s", "e2e_s"):
        assert subset.summary()[metric]["p99"] == pytest.approx(
            full.summary()[metric]["p99"], rel=0.05
        )


def test_least_outstanding_beats_round_robin_on_the_tail() -> None:
    rr = run(8 * 30.0, 20_000, output="lognormal:200:1.2", replicas=8, router="round-robin")
    lor = run(8 * 30.0, 20_000, output="lognormal:200:1.2", replicas=8, router="least-outstanding")
    assert lor.summary()["e2e_s"]["p99"] <= rr.summary()["e2e_s"]["p99"]


def test_multi_step_scheduling_delays_joins_but_not_decoding() -> None:
    one = run(10.0, 3_000, seed=5).summary()
    ten = run(10.0, 3_000, seed=5, scheduler_steps=10).summary()
    assert ten["ttft_s"]["mean"] > 2 * one["ttft_s"]["mean"]
    assert ten["tpot_s"]["p50"] == pytest.approx(one["tpot_s"]["p50"], rel=0.15)


def test_prefill_apart_pauses_the_decodes() -> None:
    mixed = run(20.0, 3_000, prompt="2000", seed=6)
    apart = run(20.0, 3_000, prompt="2000", seed=6, mixed_prefill=False)
    # Decodes wait while a long prompt runs alone: the slowest token gaps grow.
    assert apart.summary()["tpot_s"]["p99"] > mixed.summary()["tpot_s"]["p99"]
    r = apart.records
    assert apart.itl_counts.sum() + len(r) + int(r.preemptions.sum()) == r.output_tokens.sum()


def test_a_lone_request_waits_exactly_one_prefill_step() -> None:
    one = simulate(DEP, np.array([0.0]), np.array([512]), np.array([1]), Fleet(max_seqs=1))
    assert one.records.ttft_s[0] == pytest.approx(prefill_step(DEP, 1, 512).total_s, rel=1e-3)


def test_a_pipeline_replica_runs_its_micro_batches_in_parallel() -> None:
    # Saturated, a pp-stage replica completes what the analytic model says it does: its
    # micro-batches are in flight at once, so it is not pp times slower than one pass.
    from infercost.perf.replica import replica_performance

    dep = build("llama-3.1-70b", "h100-sxm", tp=4, pp=2, efficiency=Efficiency())
    n = 4_000
    rng = np.random.default_rng(1)
    result = simulate(
        dep,
        np.zeros(n),
        lengths("500", n, rng, "input", 0),
        lengths("200", n, rng, "output"),
        Fleet(replicas=1, max_seqs=64),
    )
    r = result.records
    assert set(np.unique(r.replica)) == {0}
    simulated = float(r.output_tokens.sum() / (r.finish_s.max() - r.arrival_s.min()))
    analytic = replica_performance(dep, 64, 500, 200).output_tokens_per_s
    assert simulated == pytest.approx(analytic, rel=0.15)
