"""Arrays of samples through the one pipeline give, sample by sample, what one sample
through it gives: the Monte Carlo of `reproduce --samples` relies on it."""

import numpy as np
import pytest

from infercost.elementwise import NotElementwise
from infercost.evaluate.config import Config, resolve
from infercost.evaluate.pipeline import CostBasis, Serving, Workload, evaluate
from infercost.workload.traffic import Traffic

CASES = [
    Config(model="llama-3.1-8b", gpu="h100"),  # dense, GQA
    Config(model="gpt-oss-120b", gpu="h100", tp=2, weight_precision="fp8"),  # MoE, windows
    Config(model="deepseek-v3", gpu="h200", tp=8, weight_precision="fp8"),  # MoE, MLA
    Config(model="llama-3.1-70b", gpu="a100", tp=4, pp=2),  # pipeline stages
]


def _figures(e):
    perf, cost = e.performance, e.cost
    return {
        "requests_per_s": perf.requests_per_s,
        "tpot_s": perf.tpot_s,
        "ttft_s": perf.ttft_s,
        "e2e_s": perf.e2e_s,
        "prefill_time_share": perf.prefill_time_share,
        "replicas": e.fleet.replicas,
        "servers": e.fleet.servers,
        "usd_per_day": cost.usd_per_day,
        "usd_per_million_tokens": cost.usd_per_million_tokens,
    }


@pytest.mark.parametrize("config", CASES, ids=lambda c: c.model)
def test_arrays_give_what_each_sample_gives(config):
    r = resolve(config, None)
    rng = np.random.default_rng(3)
    n = 40
    prompt = rng.uniform(50, 3000, n)
    answer = rng.uniform(20, 1500, n)
    batch = np.rint(rng.uniform(2, 24, n))
    qps = rng.uniform(1, 500, n)
    price = rng.uniform(1, 4, n)

    def run(i, o, c, q, p):
        w = Workload(i, o, 0.2, Traffic(q, i, o, 2.0, 0.7, 0.2))
        return _figures(evaluate(r, w, Serving(c), CostBasis("rent", p)))

    together = run(prompt, answer, batch, qps, price)
    for k in range(n):
        one = run(float(prompt[k]), float(answer[k]), int(batch[k]), float(qps[k]), float(price[k]))
        for name, value in one.items():
            assert together[name][k] == value, (name, k)


def test_a_sample_that_does_not_fit_is_named_with_how_many_do_not():
    r = resolve(Config(model="llama-3.1-70b", gpu="a100", tp=4), None)
    answer = np.array([500.0, 500.0, 2_000_000.0])  # the last one is longer than the KV cache
    w = Workload(1000.0, answer, 0.0, Traffic(10.0, 1000.0, answer))
    e = evaluate(r, w, Serving(8.0), CostBasis("rent", 2.0))
    assert not e.feasibility.fits
    assert e.feasibility.binding == "request"
    assert "(in 1 of 3 samples)" in e.feasibility.reason


def test_a_speed_target_is_searched_one_sample_at_a_time():
    r = resolve(Config(model="llama-3.1-8b", gpu="h100"), None)
    w = Workload(1000.0, np.array([100.0, 200.0]))
    with pytest.raises(NotElementwise):
        evaluate(r, w, Serving(target_interactivity_tokens_per_s=50.0))
