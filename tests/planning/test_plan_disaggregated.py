"""Disaggregated candidates in the plan: a prefill pool sized to the TTFT targets, a decode
pool to the TPOT targets, the pair verified by simulation and ranked with the rest."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import numpy as np
import pytest

import infercost
from infercost.errors import InputError
from infercost.planning.planner import Candidate, Load, PairCandidate, PlanResult, Question, plan
from infercost.planning.space import Constraints, Pricing
from infercost.planning.targets import parse_targets

# Llama-3.1-70B at 4,000 → 500 tokens with a 10 ms TPOT: a colocated replica must keep its
# batches small, because every prompt's prefill stalls its decodes; apart, they do not.
SLO = "ttft_p90=1s,tpot_p90=12ms"


def question(disaggregated: bool | None = None, slo: str = SLO, rate: float = 10.0) -> Question:
    return Question(
        constraints=Constraints(
            models=("llama-3.1-70b",),
            gpus=("h200",),
            precisions=("fp8",),
            kv_precisions=("fp8",),
            pricing=Pricing(per_gpu=(("h200", 3.0),)),
        ),
        load=Load(rate, "4000", "500"),
        targets=parse_targets(slo),
        verify=3,
        requests=6000,
        disaggregated=disaggregated,
    )


@cache
def planned(disaggregated: bool | None = None) -> PlanResult:
    return plan(question(disaggregated))


def _cost(c: Candidate | PairCandidate | None) -> float:
    assert c is not None
    if isinstance(c, PairCandidate):
        hour = c.pair.usd_per_hour
    else:
        hour = None if c.sized.priced is None else c.sized.priced.usd_per_hour
    assert hour is not None
    return hour


def test_each_pool_is_sized_to_its_own_target() -> None:
    result = planned()
    pairs = [c for c in result.candidates if isinstance(c, PairCandidate)]
    assert pairs
    targets = result.question.targets
    for c in pairs:
        d = c.to_dict(targets)
        # The prefill pool answers the TTFT target (less the KV transfer), the decode pool
        # the TPOT target: each predicted within its own.
        assert d["prefill"]["predicted_s"].keys() == {"ttft_p90"}
        assert d["decode"]["predicted_s"].keys() == {"tpot_p90"}
        assert d["predicted_s"]["ttft_p90"] <= 1.0
        assert d["predicted_s"]["tpot_p90"] <= 0.012
        assert d["prefill_to_decode_replicas"] == pytest.approx(
            d["prefill"]["replicas"] / d["decode"]["replicas"]
        )
        assert d["gpus"] == d["prefill"]["gpus"] + d["decode"]["gpus"]


def test_considering_pairs_never_costs_more_and_here_disaggregation_wins() -> None:
    both, colocated = planned(), planned(False)
    assert both.feasible
    assert colocated.feasible
    assert _cost(both.best) <= _cost(colocated.best) + 1e-6
    assert isinstance(both.best, PairCandidate)
    assert both.best.met
    assert _cost(colocated.best) > 1.3 * _cost(both.best)
    # The README quotes these two fleets.
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    quoted = re.search(r"\((\d+)\s+H200s\s+against\s+(\d+)\s+at", readme)
    assert quoted is not None
    assert isinstance(colocated.best, Candidate)
    assert (int(quoted[1]), int(quoted[2])) == (both.best.gpus, colocated.best.sized.gpus)


def test_the_chosen_pair_simulated_afresh_with_another_seed_meets_the_targets() -> None:
    best = planned().best
    assert isinstance(best, PairCandidate)
    fresh = replace(question(), seed=987, verify=1)
    requests = fresh.load.requests(6000, fresh.seed)
    from infercost.planning.disaggregated import _trial
    from infercost.planning.targets import check_records
    from infercost.planning.verify import after_warmup

    trial = _trial(best.pair, best.pair.prefill.replicas, best.pair.decode.replicas, requests,
                   fresh.targets, fresh.router, fresh.seed)  # fmt: skip
    check = check_records(after_warmup(trial.result.records), fresh.targets)
    assert check.met, check.misses


def test_a_pair_needs_a_target_for_each_pool() -> None:
    result = plan(question(slo="e2e_p90=20s"))
    assert result.disaggregation.startswith("left out")
    assert not any(isinstance(c, PairCandidate) for c in result.candidates)
    with pytest.raises(InputError, match="TTFT target and a TPOT"):
        plan(question(True, slo="e2e_p90=20s"))


def test_the_plan_json_reports_both_pools_and_their_ratio() -> None:
    doc = infercost.plan(
        model=["llama-3.1-70b"], gpu=["h200"], precision=["fp8"], kv_precision=["fp8"],
        price=3.0, qps=10.0, input_tokens="4000", output_tokens="500", slo=SLO,
        requests=6000, verify=2, disaggregated=True,
    ).to_dict()  # fmt: skip
    pairs = [c for c in doc["candidates"] if c.get("disaggregated")]
    assert pairs
    first = pairs[0]
    assert {"prefill", "decode", "prefill_to_decode_replicas", "kv_link"} <= first.keys()
    for pool in ("prefill", "decode"):
        assert first[pool]["gpu"] == "h200"
        assert first[pool]["replicas"] >= 1
    assert "screened" in doc["search"]["disaggregated"]
    if first["verified"]:
        sim = first["simulated"]
        assert set(sim["replicas_in_fleet"]) == {"prefill", "decode"}
        assert np.isfinite(sim["upper_bound_s"]["ttft_p90"])


def test_the_readme_quotes_the_chatgpt_pair_the_plan_gives() -> None:
    import re
    from pathlib import Path

    best = infercost.plan(scenario="chatgpt-2023", server=["hgx-a100-80gb"], verify=2).result.best
    assert isinstance(best, PairCandidate)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    quoted = re.search(r"a\s+disaggregated\s+fleet\s+of\s+([\d,]+)\s+A100s", readme)
    assert quoted is not None
    assert int(quoted.group(1).replace(",", "")) == best.gpus


def test_pairs_keep_one_precision_and_one_vendor_and_nvlink_needs_one_accelerator() -> None:
    """A prefill pool on one vendor's GPUs and a decode pool on another's, or the two pools
    at different precisions, are not offered; two accelerator types never share NVLink."""
    doc = infercost.plan(
        model=["llama-3.1-8b"], gpu=["h100", "a100-80gb", "mi300x"], qps=20.0,
        input_tokens="2000", output_tokens="200", slo=SLO, verify=0, disaggregated=True,
        max_gpus_per_replica=1,
    ).to_dict()  # fmt: skip
    pairs = [c for c in doc["candidates"] if c.get("disaggregated")]
    assert pairs
    vendor = {"h100": "nvidia", "a100-80gb": "nvidia", "mi300x": "amd"}
    for p in pairs:
        a, b = p["prefill"], p["decode"]
        assert vendor[a["gpu"]] == vendor[b["gpu"]]
        assert (a["weight_precision"], a["kv_precision"]) == (b["weight_precision"],
                                                              b["kv_precision"])  # fmt: skip
        if a["gpu"] != b["gpu"]:
            assert p["kv_link"]["link"] == "scale-out network"


def test_two_accelerator_types_never_share_nvlink() -> None:
    from infercost.evaluate.config import Config, resolve
    from infercost.perf.transfer import kv_link

    h100 = resolve(Config(model="llama-3.1-8b", gpu="h100"), "builtin").deployment
    h200 = resolve(Config(model="llama-3.1-8b", gpu="h200"), "builtin").deployment
    assert kv_link(h100, h100).colocated
    assert not kv_link(h100, h200).colocated
