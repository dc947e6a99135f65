"""GPUs and dollars against traffic: a verb rerun at multiples of the traffic it was given.

The same request, its traffic scaled by each factor (¼× to 4× by default) and nothing else
changed, through the same verb: what a report draws as "what if traffic moved". A scenario's
traffic is whichever of its volume inputs it states (queries per second, per day, daily
users, or tokens per day), each scaled by the factor.
"""

from __future__ import annotations

from typing import Any

from infercost.api.estimation import estimate, reproduce
from infercost.api.models import EstimateRequest, ReproduceRequest, parse
from infercost.errors import InputError

FACTORS = (0.25, 0.5, 1.0, 2.0, 4.0)
# A scenario's traffic volume, in the order one is scaled; tokens per day come in pairs.
SCENARIO_TRAFFIC = (
    ("workload.queries_per_second",),
    ("workload.queries_per_day",),
    ("workload.daily_users",),
    ("workload.input_tokens_per_day", "workload.output_tokens_per_day"),
)


def estimate_curve(
    request: EstimateRequest | dict[str, Any], factors: tuple[float, ...] = FACTORS
) -> list[dict[str, Any]]:
    """The fleet (first accelerator) at each multiple of the request's traffic; empty when
    the request gives no traffic."""
    req = parse(EstimateRequest, request)
    if req.qps is None and req.queries_per_day is None:
        return []
    points = []
    for factor in factors:
        scaled = {"qps": None if req.qps is None else req.qps * factor}
        if req.queries_per_day is not None:
            scaled = {"queries_per_day": req.queries_per_day * factor}
        try:
            doc = estimate(req, gpu=req.gpu[:1], **scaled).to_dict()["estimates"][0]
        except InputError:
            continue  # past a bound: the curve stops there
        points.append(_point(factor, doc["traffic"], doc["fleet"], doc["fleet_cost"]))
    return points


def reproduce_curve(
    request: ReproduceRequest | dict[str, Any],
    assumptions: list[dict[str, Any]],
    factors: tuple[float, ...] = FACTORS,
) -> list[dict[str, Any]]:
    """The scenario's fleet at each multiple of its traffic (`assumptions`: the reproduce
    result's, to read the traffic it states); empty when it states none."""
    req = parse(ReproduceRequest, request)
    stated = {a["path"]: a["value"] for a in assumptions}
    paths = next(
        (group for group in SCENARIO_TRAFFIC if all(_number(stated.get(p)) for p in group)), ()
    )
    points = []
    for factor in factors if paths else ():
        sets = [f"{p}={float(stated[p]) * factor!r}" for p in paths]
        try:
            doc = reproduce(req, set=[*req.set, *sets], samples=None).to_dict()
        except InputError:
            continue
        computed = doc["computed"]
        points.append(_point(factor, {"queries_per_day": computed.get("queries_per_day")},
                             computed, computed))  # fmt: skip
    return points


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _point(
    factor: float, traffic: dict[str, Any] | None, fleet: dict[str, Any] | None, cost: Any
) -> dict[str, Any]:
    cost = cost or {}
    return {
        "traffic_factor": factor,
        "queries_per_day": (traffic or {}).get("queries_per_day"),
        "gpus": (fleet or {}).get("gpus"),
        "servers": (fleet or {}).get("servers"),
        "usd_per_day": cost.get("usd_per_day"),
    }
