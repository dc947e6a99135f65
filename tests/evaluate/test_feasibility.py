"""One answer to "does it fit", with the binding limit and the nearest layouts that do.

Paper values: Llama-2-7B in bf16 holds 524,288 KV bytes per token (32 layers × 2 × 32 heads ×
128 × 2 B); on one A100-80GB with vLLM's 10 % kept back, 57.86 GB are left for KV, which is
26 sequences of 2,048 + 4,096 / 2 = 4,096 tokens (2.147 GB each). GPT-3 175B in bf16 is
87.3 GB of weights per GPU at tp 4 (too much for 80 GB), 58.2 GB at tp 6, and tp 5 does not
split its 96 heads.
"""

from __future__ import annotations

import pytest

from infercost.errors import InputError
from infercost.evaluate.config import Config, resolve
from infercost.evaluate.feasibility import check, max_concurrency, smallest_layout
from infercost.evaluate.pipeline import Serving, Workload, evaluate

LLAMA_7B = Config("llama-2-7b", "a100-80gb")
GPT3 = Config("gpt3-175b", "a100-80gb")


def test_kv_at_the_requested_concurrency_on_paper() -> None:
    r = resolve(LLAMA_7B, None)
    assert max_concurrency(r, 2048, 4096) == 26
    assert check(r, 2048, 4096, 26).fits
    refused = check(r, 2048, 4096, 27)
    assert (refused.fits, refused.binding) == (False, "kv")
    assert "26" in refused.reason
    assert refused.alternatives == ("concurrency ≤ 26",)


def test_weights_that_do_not_fit_name_the_smallest_layout_that_does() -> None:
    r = resolve(GPT3.with_(tp=4), None)
    refused = check(r, 161, 2000)
    assert (refused.fits, refused.binding) == (False, "weights")
    assert "87.3 GB" in refused.reason
    layout = smallest_layout(GPT3.with_(tp=4), 161, 2000, None)
    assert layout is not None
    assert (layout.tp, layout.pp) == (6, 1)


def test_a_tensor_parallel_degree_must_split_the_heads() -> None:
    with pytest.raises(InputError) as err:
        resolve(GPT3.with_(tp=5), None)
    assert err.value.field == "tp"
    assert "96 attention heads" in err.value.message
    assert "6" in err.value.message.split("allowed:")[1]


def test_one_request_longer_than_the_cache_can_never_be_served() -> None:
    r = resolve(LLAMA_7B, None)
    refused = check(r, 200_000, 100)
    assert (refused.fits, refused.binding) == (False, "request")


def test_the_engines_batch_cap_binds_before_memory() -> None:
    r = resolve(Config("llama-3.1-8b", "h100-sxm", engine="vllm"), None)
    assert r.max_sequences == 256  # vLLM's max_num_seqs, from the engine table
    refused = check(r, 100, 100, 300)
    assert (refused.fits, refused.binding) == (False, "sequences")


def test_an_infeasible_evaluation_is_never_priced() -> None:
    r = resolve(GPT3.with_(tp=6), None)
    from infercost.workload.traffic import Traffic

    load = Traffic(10.0, 161, 2000)
    e = evaluate(r, Workload(161, 2000, traffic=load), Serving(concurrency=100))
    assert not e.feasibility.fits
    assert e.fleet is None
    assert e.cost is None
    assert any(a.startswith("tp 8") for a in e.feasibility.alternatives)
    with pytest.raises(InputError) as err:
        e.require_feasible()
    assert "KV cache" in err.value.message


def test_a_server_must_hold_the_accelerator() -> None:
    with pytest.raises(InputError) as err:
        resolve(Config("llama-3.1-8b", "a100-80gb", server="hgx-h100"), None)
    assert err.value.field == "server"


def test_every_verb_agrees_on_the_smallest_layout() -> None:
    """estimate's hint, the pipeline's search and the simulator agree on what fits."""
    import numpy as np

    from infercost.sim.engine import Fleet, simulate

    layout = smallest_layout(Config("llama-3.1-70b", "h100-sxm"), 1000, 200, 64)
    assert layout is not None
    r = resolve(layout, None)
    assert check(r, 1000, 200, 64).fits
    smaller = resolve(layout.with_(tp=layout.tp // 2), None)
    assert not check(smaller, 1000, 200, 64).fits
    run = simulate(r.deployment, np.arange(5.0), np.full(5, 1000), np.full(5, 200), Fleet.of(r))
    assert run.records.ok.all()
