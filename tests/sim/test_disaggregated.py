"""A prefill pool and a decode pool with the KV moving between them."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from infercost.perf.deployment import Efficiency, build
from infercost.perf.replica import replica_performance
from infercost.perf.transfer import kv_link
from infercost.sim.disaggregated import Pool, simulate_disaggregated
from infercost.sim.engine import Fleet, simulate
from infercost.workload.arrivals import arrivals

DEP = build("llama-3.1-8b", "h100-sxm", efficiency=Efficiency())


def _free(link):  # type: ignore[no-untyped-def]
    return replace(link, bandwidth_bytes_per_s=1e30, latency_s=0.0)


def test_with_a_free_transfer_the_decode_pool_decodes_as_the_decode_only_model_says() -> None:
    # Sixteen prompts prefilled side by side (one prefill replica each) reach one decode
    # replica together; with a free transfer it runs them as one batch of 16 from start to
    # end, and their TPOT is the decode-only replica's.
    n, prompt, output = 16, 1000, 200
    prefill = Pool(DEP, Fleet(replicas=n))
    decode = Pool(DEP, Fleet(replicas=1, max_seqs=n))
    result = simulate_disaggregated(
        prefill, decode, np.zeros(n), np.full(n, prompt), np.full(n, output),
        link=_free(kv_link(DEP, DEP)),
    )  # fmt: skip
    analytic = replica_performance(DEP, n, prompt, output, include_prefill=False)
    assert result.records.tpot_s == pytest.approx(np.full(n, analytic.tpot_s), rel=0.01)
    assert np.all(result.records.prefill_replica == np.arange(n))


def test_ttft_is_the_prefill_pools_plus_the_transfer() -> None:
    n = 400
    times = arrivals("poisson", 20.0, n, 3)
    rng = np.random.default_rng(3)
    prompts = rng.integers(200, 4000, n)
    outputs = rng.integers(20, 300, n)
    prefill = Pool(DEP, Fleet(replicas=2))
    decode = Pool(DEP, Fleet(replicas=4, max_seqs=256))  # room for everyone at once
    slow = replace(kv_link(DEP, DEP), bandwidth_bytes_per_s=2e9, colocated=False)
    result = simulate_disaggregated(prefill, decode, times, prompts, outputs, link=slow)
    alone = simulate(DEP, times, prompts, np.ones(n, np.int64), Fleet(replicas=2))
    transfer = slow.seconds(prompts.astype(float))
    assert transfer.max() > 0.05  # the transfer is part of what is checked
    # A decode replica admits at its step boundaries: a request that finishes its prefill
    # mid-step waits for that step to end, never longer, before its KV starts to move.
    late = result.records.ttft_s - (alone.records.ttft_s + transfer)
    assert late.min() >= -1e-9
    step = result.decode.summary()["itl_s"]["p99"]
    assert late.max() <= 1.2 * step
    assert np.mean(late) < step


def test_a_slow_link_holds_decode_memory_while_the_kv_arrives() -> None:
    n = 300
    times = arrivals("poisson", 10.0, n, 5)
    prompts, outputs = np.full(n, 3000), np.full(n, 100)
    prefill = Pool(DEP, Fleet(replicas=2))
    decode = Pool(DEP, Fleet(replicas=1, max_seqs=256))
    link = kv_link(DEP, DEP)
    narrow = replace(link, bandwidth_bytes_per_s=1e9)
    fast = simulate_disaggregated(prefill, decode, times, prompts, outputs, link=link)
    slow = simulate_disaggregated(prefill, decode, times, prompts, outputs, link=narrow)
    # Little's law: the KV a slower link keeps in the decode pool is the arrival rate ×
    # the prompt's tokens × the extra time each prompt's KV spends arriving.
    cap = fast.decode.kv_capacity_tokens
    held = [r.decode.replica_stats["kv_utilisation"] * cap for r in (fast, slow)]
    records = slow.decode.records
    rate = n / (records.finish_s.max() - records.arrival_s.min())
    extra = rate * 3000 * (narrow.seconds(3000.0) - link.seconds(3000.0))
    assert held[1] - held[0] == pytest.approx(extra, rel=0.1)
    # Tokens are conserved and every request is served once by each pool.
    for r in (fast, slow):
        assert r.records.ok.all()
        assert np.all(r.records.finish_s >= r.records.first_token_s)
        assert r.decode.records.output_tokens.sum() == outputs.sum()


def test_a_full_decode_pool_makes_requests_wait_after_their_prefill() -> None:
    n = 200
    times = np.zeros(n)
    prefill = Pool(DEP, Fleet(replicas=8))
    tight = Pool(DEP, Fleet(replicas=1, max_seqs=8))
    roomy = Pool(DEP, Fleet(replicas=1, max_seqs=256))
    args = (times, np.full(n, 500), np.full(n, 200))
    waited = simulate_disaggregated(prefill, tight, *args).summary()
    free = simulate_disaggregated(prefill, roomy, *args).summary()
    assert waited["ttft_s"]["p50"] > 5 * free["ttft_s"]["p50"]
    assert waited["pools"]["decode"]["wait_s"]["p90"] > 1.0
    assert waited["pools"]["prefill"]["ttft_s"] == free["pools"]["prefill"]["ttft_s"]


def test_the_transfer_crosses_nvlink_in_one_server_and_the_network_across_two() -> None:
    tp4 = build("llama-3.1-70b", "h100-sxm", tp=4)
    tp8 = build("llama-3.1-70b", "h100-sxm", tp=8)
    near, far = kv_link(tp4, tp4), kv_link(tp8, tp8)
    assert near.colocated
    assert not far.colocated
    # Llama-3.1-70B: 80 layers × 8 KV heads × 128 × 2 (K and V) × 2 bytes = 327,680 B a token
    assert near.kv_bytes(1.0) == pytest.approx(327_680)
    # 4 shards of 8 KV heads: each sender moves a quarter; 8 shards move an eighth each.
    assert near.share_per_sender == pytest.approx(1 / 4)
    assert far.share_per_sender == pytest.approx(1 / 8)
    assert far.seconds(8000.0) > near.seconds(8000.0)


def test_a_share_of_the_prefilled_requests_goes_on_to_a_smaller_decode_subset() -> None:
    n = 2000
    times = arrivals("poisson", 40.0, n, 9)
    prefill = Pool(DEP, Fleet(replicas=2))
    decode = Pool(DEP, Fleet(replicas=1, max_seqs=128))
    args = (times, np.full(n, 800), np.full(n, 50))
    half = simulate_disaggregated(prefill, decode, *args, decode_share=0.5, seed=4)
    whole = simulate_disaggregated(prefill, decode, *args)
    assert len(half.records) == pytest.approx(n / 2, rel=0.1)
    assert len(half.prefill.records) == len(whole.prefill.records) == n  # the load it carried
    # The decode replica carries half the load: it keeps fewer sequences in its batch.
    half_batch = half.decode.replica_stats["mean_batch_size"]
    assert half_batch < 0.7 * whole.decode.replica_stats["mean_batch_size"]
    assert np.all(np.diff(half.records.arrival_s) >= 0)
