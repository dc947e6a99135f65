"""A mixed fleet: the integer program against brute force, against the homogeneous answer,
and end to end through `plan --classes`."""

from __future__ import annotations

import itertools
from functools import cache

import numpy as np
import pytest
from scipy.optimize import linprog

from infercost.planning.mix import MixResult, best_single, offers, plan_mix, solve_mix
from infercost.planning.planner import Load
from infercost.planning.space import Constraints, Pricing, build_space
from infercost.planning.targets import parse_targets
from infercost.workload.classes import RequestClass, class_requests

INF = np.inf


def brute_force(costs: np.ndarray, need: np.ndarray, bound: int = 8) -> float:
    """The cheapest whole replica counts for which some shares serve every class: each
    candidate count vector checked by a linear program over the shares."""
    classes, configs = need.shape
    best = INF
    for counts in itertools.product(range(bound + 1), repeat=configs):
        cost = float(np.dot(costs, counts))
        if cost >= best:
            continue
        serve = np.isfinite(need)
        # variables f[k, c]; Σ_c f = 1 per class; Σ_k need f ≤ N_c per config
        a_eq = np.zeros((classes, classes * configs))
        for k in range(classes):
            a_eq[k, k * configs : (k + 1) * configs] = 1
        a_ub = np.zeros((configs, classes * configs))
        for c in range(configs):
            for k in range(classes):
                a_ub[c, k * configs + c] = need[k, c] if serve[k, c] else 0
        bounds = [(0, 1 if serve[k, c] else 0) for k in range(classes) for c in range(configs)]
        lp = linprog(np.zeros(classes * configs), A_ub=a_ub, b_ub=np.array(counts, float),
                     A_eq=a_eq, b_eq=np.ones(classes), bounds=bounds)  # fmt: skip
        if lp.status == 0:
            best = cost
    return best


@pytest.mark.parametrize(
    ("costs", "need"),
    [
        # A cheap card that serves short requests well and long ones badly, a dear one that
        # serves both: the cheap one takes the short class, the dear one the long.
        (np.array([1.0, 3.0]), np.array([[2.6, 1.1], [INF, 0.9]])),
        # Leftover capacity: one dear replica can also take a slice of the short class.
        (np.array([1.0, 2.5]), np.array([[3.2, 1.6], [5.5, 0.7]])),
        # Three configurations, one that cannot serve the second class at all.
        (np.array([1.0, 1.7, 4.0]), np.array([[1.8, 1.3, 0.4], [INF, 2.2, 0.9]])),
    ],
)
def test_the_program_finds_the_brute_force_optimum(costs: np.ndarray, need: np.ndarray) -> None:
    solution = solve_mix(costs, need, np.ones(len(costs), dtype=np.int64))
    assert solution is not None
    assert solution.usd_per_month == pytest.approx(brute_force(costs, need))
    # and the shares it returns do serve every class within the replicas it chose
    served = np.where(np.isfinite(need), need, 0) * solution.shares
    assert np.allclose(solution.shares.sum(axis=1), 1.0)
    assert np.all(served.sum(axis=0) <= solution.replicas + 1e-6)


def test_a_gpu_bound_is_kept_or_the_mix_is_infeasible() -> None:
    costs, need = np.array([1.0, 3.0]), np.array([[2.6, 1.1], [INF, 0.9]])
    gpus = np.array([1, 8], dtype=np.int64)
    bounded = solve_mix(costs, need, gpus, max_gpus=11)
    assert bounded is not None
    assert int(gpus @ bounded.replicas) <= 11
    assert solve_mix(costs, need, gpus, max_gpus=5) is None


PRICES = (("h100-sxm", 2.0), ("a100-80gb", 1.2))
CHAT = RequestClass("chat", 0.7, "300", "150", "ttft_p99=800ms,tpot_p99=40ms")
RAG = RequestClass("rag", 0.3, "6000", "200", "ttft_p99=5s,tpot_p99=80ms")


def _space() -> tuple[Constraints, object]:
    constraints = Constraints(
        models=("llama-3.1-8b",), gpus=("h100", "a100-80gb"), max_gpus_per_replica=1,
        precisions=("bf16",), kv_precisions=("bf16",), pricing=Pricing(per_gpu=PRICES),
    )  # fmt: skip
    return constraints, build_space(constraints)


@cache
def mixed(classes: tuple[RequestClass, ...], rate: float = 30.0) -> MixResult:
    constraints, space = _space()
    mix = class_requests(classes, rate, 6000, seed=1)
    return plan_mix(classes, mix, space, parse_targets("ttft_p99=2s,tpot_p99=60ms"),  # type: ignore[arg-type]
                    constraints.pricing, "builtin", "round-robin", None, True, 1)  # fmt: skip


def test_the_mix_is_never_costlier_than_the_best_homogeneous_fleet() -> None:
    result = mixed((CHAT, RAG))
    assert result.mix is not None
    assert result.single is not None
    assert result.single.met
    assert result.mix.met
    assert result.mix.usd_per_month <= result.single.usd_per_month + 1e-6
    doc = result.to_dict()
    # Every class is served in full by the pools of the mix.
    for name in ("chat", "rag"):
        shares = [c["share"] for c in doc["mix"]["classes"] if c["class"] == name]
        assert sum(shares) == pytest.approx(1.0)
        for pool in doc["mix"]["pools"]:
            if name in pool["shares"]:
                assert pool["simulated"][name]["met"]


def test_with_one_class_the_mix_is_the_homogeneous_answer() -> None:
    alone = RequestClass("chat", 1.0, "300", "150", "ttft_p99=800ms,tpot_p99=40ms")
    constraints, space = _space()
    mix = class_requests((alone,), 30.0, 6000, seed=1)
    from infercost.planning.mix import class_loads
    from infercost.planning.mix import mixed as program

    loads = class_loads((alone,), mix, parse_targets("ttft_p99=1s"))
    offered = offers(space, loads, constraints.pricing, "builtin", "round-robin")  # type: ignore[arg-type]
    single, chosen = best_single(offered, loads), program(offered, loads, None)
    assert single is not None
    assert chosen is not None
    assert chosen.usd_per_month == pytest.approx(single.usd_per_month)


def test_classes_are_drawn_at_their_shares_with_their_own_lengths() -> None:
    mix = class_requests((CHAT, RAG), 50.0, 20_000, seed=3)
    share = float((mix.label == 1).mean())
    assert share == pytest.approx(0.3, abs=0.015)
    rag = mix.of(1)
    assert np.all(rag.input_tokens == 6000)
    assert rag.rate_per_s == pytest.approx(50.0 * share)
    assert Load(50.0, classes=(CHAT, RAG)).requests(100, 3).input_tokens.max() == 6000
