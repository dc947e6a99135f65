"""Self-hosting against an API, worked by hand on one case."""

from __future__ import annotations

import pytest

import infercost
from infercost.catalog.prices import api_prices


def test_break_even_is_one_replica_against_the_api_bill() -> None:
    # One H100 at $2/GPU-hour: a replica costs 2 × 730 h = $1,460 a month. Through Together,
    # a 1,000 → 200-token query costs (1,000 + 200) × $0.18 / 1e6 = $0.000216; one query/s
    # for a month (730 h × 3,600 s = 2,628,000 queries) is $567.65. The bills meet at
    # 1,460 / 567.65 = 2.572 queries/s, 222,222 a day.
    outcome = infercost.plan(
        model=["llama-3.1-8b"], qps=10, input_tokens="1000", output_tokens="200",
        slo="ttft_p99=2s,tpot_p99=50ms", gpu=["h100"], gpus_per_replica=1,
        prices={"h100": 2.0}, verify=1, requests=4000, compare_api=True,
    )  # fmt: skip
    api = outcome.result.api
    assert api.replica_usd_per_month == pytest.approx(1460.0)
    together = next(o for o in api.options if o.price.provider == "together")
    assert together.usd_per_query == pytest.approx(0.000216)
    assert together.usd_per_month == pytest.approx(10 * 567.648)
    assert together.breakeven_queries_per_s == pytest.approx(2.572, rel=1e-3)
    best = outcome.result.best
    assert together.versus_self_host == pytest.approx(5676.48 / best.sized.usd_per_month)


def test_an_api_cheaper_than_any_full_replica_never_breaks_even() -> None:
    # At $40/GPU-hour a replica costs $29,200 a month; DeepInfra's $0.03 / $0.05 bill for
    # 1,000 → 200 tokens is $0.00004 a query: 278 queries/s to match it, far beyond what one
    # H100 serves within 50 ms a token.
    outcome = infercost.plan(
        model=["llama-3.1-8b"], qps=10, input_tokens="1000", output_tokens="200",
        slo="ttft_p99=2s,tpot_p99=50ms", gpu=["h100"], gpus_per_replica=1,
        prices={"h100": 40.0}, verify=1, requests=4000, compare_api=True,
    )  # fmt: skip
    deepinfra = next(o for o in outcome.result.api.options if o.price.provider == "deepinfra")
    assert deepinfra.breakeven_queries_per_s is None
    assert api_prices().get("llama-3.1-8b-deepinfra").usd_per_million_input == 0.03
