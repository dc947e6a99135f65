"""`plan --samples`: the plan's chosen fleet re-sized by its screen for each sample."""

import pytest

import infercost
from infercost.errors import InputError

PINNED = [  # the chatgpt-2023 ranges a test does not sample, pinned at their points
    "workload.output_tokens=2000",
    "workload.target_utilisation=0.5",
    "serving.concurrency=132",
]
QUICK = {"scenario": "chatgpt-2023", "disaggregated": False, "verify": 0}


def test_degenerate_ranges_give_the_plans_own_screen_answer():
    point = infercost.plan(**QUICK).result.best
    out = infercost.plan(
        **QUICK,
        samples=20,
        set=PINNED,
        range=["workload.queries_per_user_per_day=15:15", "cost.usd_per_gpu_hour=1:1"],
    )
    doc = out.to_dict()
    assert doc["best"]["replicas"] == point.sized.replicas
    u = doc["uncertainty"]
    assert u["point"]["replicas"] == point.sized.replicas
    assert u["point"]["usd_per_month"] == point.sized.usd_per_month
    for key, value in u["point"].items():
        q = doc["quantiles"][key]
        assert q["p10"] == q["p50"] == q["p90"] == value, key


def test_more_traffic_never_makes_the_fleet_cheaper():
    doc = infercost.plan(
        **QUICK, samples=200, set=PINNED, range=["workload.queries_per_user_per_day=10:20"]
    ).to_dict()
    q, point = doc["quantiles"], doc["uncertainty"]["point"]
    assert q["replicas"]["p10"] < point["replicas"] < q["replicas"]["p90"]
    assert q["usd_per_month"]["p10"] < q["usd_per_month"]["p50"] < q["usd_per_month"]["p90"]
    row = next(r for r in doc["tornado"] if r["input"] == "workload.queries_per_user_per_day")
    assert row["low"] < point["usd_per_month"] < row["high"]
    assert set(doc["uncertainty"]["not_sampled"]) == set()  # pinned, so not listed


def test_ranges_a_plan_does_not_read_are_listed_or_refused():
    doc = infercost.plan(**QUICK, samples=5, set=["workload.output_tokens=2000"]).to_dict()
    assert set(doc["uncertainty"]["not_sampled"]) == {
        "workload.target_utilisation",
        "serving.concurrency",
    }
    with pytest.raises(InputError, match="a plan cannot sample it"):
        infercost.plan(**QUICK, samples=5, range=["serving.concurrency=100:140"])
    with pytest.raises(InputError, match="--qps replaces it"):
        infercost.plan(**QUICK, samples=5, qps=1000.0)
    with pytest.raises(InputError, match="give a scenario"):
        infercost.plan(model=["llama-3.1-8b"], qps=10.0, samples=5, slo="ttft_p99=1s")
    with pytest.raises(InputError, match="give samples too"):
        infercost.plan(**QUICK, range=["workload.queries_per_user_per_day=10:20"])


def test_a_disaggregated_answer_is_refused_with_the_way_out():
    with pytest.raises(InputError, match="--no-disaggregated"):
        infercost.plan(scenario="chatgpt-2023", verify=1, samples=5, set=PINNED)
