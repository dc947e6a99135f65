"""`plan`: the cheapest fleet that meets latency targets, from flags or a scenario.

The request is turned into the planner's question (`plan.planner.Question`) after the
checks its fields cannot make alone: one traffic volume, lengths or a trace, burstiness only
for gamma arrivals, a price or ownership, at least one target. A scenario supplies every
field the request leaves empty (`scenario.planning`). Output files are checked before the
search starts and written after it.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infercost.api.models import PlanRequest, parse
from infercost.api.options import REQUEST_FIELDS, calibration_choice, output_file
from infercost.errors import InputError, renamed
from infercost.limits import MAX_QUERIES_PER_S
from infercost.units import SECONDS_PER_DAY

TRAFFIC = ("qps", "queries_per_day", "daily_users", "queries_per_user", "trace")
TRAFFIC_PATHS = (
    "workload.daily_users",
    "workload.queries_per_user_per_day",
    "workload.queries_per_second",
    "workload.queries_per_day",
)
DOLLAR_OBJECTIVES = ("usd_per_month", "usd_per_million_tokens")


@dataclass(frozen=True)
class PlanOutcome:
    result: Any  # infercost.planning.planner.PlanResult
    frontier_path: Path | None = None
    plot_path: Path | None = None
    sampled: Any = None  # infercost.scenario.uncertainty.SampledPlan, with samples

    @property
    def feasible(self) -> bool:
        return bool(self.result.feasible)

    def to_dict(self) -> dict[str, Any]:
        from infercost.planning.plot import chosen_point

        out: dict[str, Any] = self.result.to_dict()
        out["chosen_point"] = chosen_point(self.result)  # where the fleet runs on the frontier
        out["files"] = {
            "frontier": None if self.frontier_path is None else str(self.frontier_path),
            "plot": None if self.plot_path is None else str(self.plot_path),
        }
        if self.sampled is not None:
            out.update(self.sampled.to_dict())
        return out


def plan(
    request: PlanRequest | dict[str, Any] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    **fields: Any,
) -> PlanOutcome:
    """The cheapest fleet that meets the targets, verified by simulation, with frontiers and
    (asked) the API comparison. Infeasible targets are a result (`feasible` false, with the
    closest candidates), not an error."""
    from infercost.planning.planner import plan as run_plan

    req = parse(PlanRequest, request, **fields)
    for name in (*req.gpu, *req.prices):
        if ":" in name:
            what = "a what-if accelerator (ID:NAME=VALUE) is for estimate, simulate, reproduce"
            raise InputError("gpu", f"{name!r}: plan searches catalog rows; {what}")
    frontier_path = output_file(req.frontier, "frontier", (".csv",))
    plot_path = output_file(req.plot, "plot", (".html", ".htm"))
    given = {k: v for k, v in req.model_dump().items() if v is not None and v != [] and v != {}}
    for name in ("samples", "range"):
        given.pop(name, None)
    efficiency: tuple[tuple[str, float], ...] = ()
    scenario = None
    if req.range and req.samples is None:
        raise InputError("range", "applies to a Monte Carlo: give samples too")
    if req.samples is not None and req.scenario is None:
        raise InputError("samples", "samples a scenario's ranges: give a scenario")
    if req.scenario is not None:
        from infercost.scenario.loader import load
        from infercost.scenario.planning import question_of

        scenario = load(req.scenario, list(req.set))
        asked = question_of(scenario)
        defaults = dict(asked.fields)
        if any(k in given for k in TRAFFIC):  # the user's traffic replaces the scenario's
            for key in ("qps", "peak_to_average"):
                defaults.pop(key, None)
        if "trace" in given:
            for key in ("input_tokens", "output_tokens"):
                defaults.pop(key, None)
        if "price" in given or given.get("own"):
            defaults.pop("prices", None)
        if "profile" in given or "profile" in defaults:  # the day's shape sets its peak
            defaults.pop("peak_to_average", None)
        given = {**defaults, **given}
        efficiency = asked.efficiency
    elif req.set:
        raise InputError("set", "overrides a scenario's inputs; give a scenario")
    merged = parse(PlanRequest, {**given, "scenario": None, "set": []})
    question = _question(merged, efficiency)
    uncertain = None if scenario is None or req.samples is None else _ranges(req, scenario)
    with renamed(REQUEST_FIELDS):
        result = run_plan(question, progress)
    if frontier_path is not None:
        _write_frontier(result, frontier_path)
    if plot_path is not None:
        from infercost.planning.plot import frontier_html

        _write(plot_path, frontier_html(result), "plot")
    sampled = None
    if uncertain is not None and req.samples is not None:
        sampled = _sample(req, scenario, uncertain, result, question)
    return PlanOutcome(result, frontier_path, plot_path, sampled)


# The request fields that replace a scenario's input a range may vary.
REPLACES = {
    "qps": TRAFFIC_PATHS,
    "queries_per_day": TRAFFIC_PATHS,
    "daily_users": TRAFFIC_PATHS,
    "queries_per_user": TRAFFIC_PATHS,
    "trace": (*TRAFFIC_PATHS, "workload.input_tokens", "workload.output_tokens"),
    "peak_to_average": ("workload.peak_to_average",),
    "input_tokens": ("workload.input_tokens",),
    "output_tokens": ("workload.output_tokens",),
    "cached_fraction": ("workload.cached_input_fraction",),
    "price": ("cost.usd_per_gpu_hour",),
    "prices": ("cost.usd_per_gpu_hour",),
    "own": ("cost.usd_per_gpu_hour",),
}


def _ranges(req: PlanRequest, scenario: Any) -> Any:
    """The scenario's ranges a plan samples, checked before the plan runs."""
    from infercost.scenario.ranges import active_ranges
    from infercost.scenario.uncertainty import plan_ranges

    ranges = active_ranges(scenario, req.range, req.set)
    given = {k for k, v in req.model_dump().items() if v not in (None, [], {}, False)}
    replaced = {
        path: "--" + name.replace("_", "-") for name in given for path in REPLACES.get(name, ())
    }
    return ranges, plan_ranges(ranges, req.range, replaced)


def _sample(req: PlanRequest, scenario: Any, uncertain: Any, result: Any, q: Any) -> Any:
    """The plan's chosen fleet re-sized for each sample of its ranges (planning/sampled)."""
    from infercost.planning.planner import Candidate
    from infercost.planning.sampled import Planned
    from infercost.planning.verify import MAX_VERIFY_REQUESTS
    from infercost.scenario.uncertainty import sample_plan

    best = result.best
    if best is None:
        raise InputError("samples", "the plan found no fleet that meets the targets to sample")
    if not isinstance(best, Candidate):
        raise InputError(
            "samples",
            "the plan's answer is a disaggregated pair; --samples re-sizes a colocated fleet: "
            "add --no-disaggregated",
        )
    s = best.sized
    planned = Planned(
        sized=s,
        demand=result.demand,
        requests=q.load.requests(q.requests or MAX_VERIFY_REQUESTS, q.seed),
        targets=q.targets,
        basis=q.constraints.pricing.basis(s.config.gpu),
        router=q.router,
        peak_to_average=q.load.peak_to_average,
        calibration=q.calibration,
    )
    ranges, not_sampled = uncertain
    assert req.samples is not None
    with renamed(REQUEST_FIELDS):
        return sample_plan(
            scenario, ranges, planned, not_sampled, req.samples, q.seed, s.config.gpu
        )


def _question(req: PlanRequest, efficiency: tuple[tuple[str, float], ...]) -> Any:
    from infercost.planning.planner import Question
    from infercost.planning.space import DEFAULT_MAX_GPUS_PER_REPLICA, Constraints
    from infercost.planning.targets import parse_targets

    if not req.model:
        raise InputError("model", "give at least one model (or a scenario)")
    targets = parse_targets(req.slo, req.goodput, req.min_interactivity)
    widest, exact = req.max_gpus_per_replica, req.gpus_per_replica
    if widest is not None and exact is not None and exact > widest:
        raise InputError(
            "max_gpus_per_replica", f"is {widest}, below gpus_per_replica ({exact}); drop one"
        )
    pricing = _pricing(req)
    objective = req.objective or "usd_per_month"
    constraints = Constraints(
        models=tuple(dict.fromkeys(req.model)),
        gpus=tuple(req.gpu),
        servers=tuple(req.server),
        gpus_per_replica=req.gpus_per_replica,
        max_gpus_per_replica=req.max_gpus_per_replica or DEFAULT_MAX_GPUS_PER_REPLICA,
        max_gpus=req.max_gpus,
        precisions=tuple(req.precision),
        kv_precisions=tuple(req.kv_precision),
        engine=req.engine,
        efficiency=efficiency,
        pricing=pricing,
        priced_only=objective in DOLLAR_OBJECTIVES,
        max_candidates=req.max_candidates,
    )
    return Question(
        constraints=constraints,
        load=_load(req),
        targets=targets,
        objective=objective,
        verify=10 if req.verify is None else req.verify,
        seed=req.seed or 0,
        requests=req.requests,
        router=req.router or "round-robin",
        calibration=calibration_choice(req.calibration),
        compare_api=req.compare_api,
        disaggregated=req.disaggregated,
        **_day(req),
    )


def _day(req: PlanRequest) -> dict[str, Any]:
    """A traffic profile and the autoscaling policy, checked (none: an empty dict)."""
    from infercost.planning.day import Autoscale, profile_of

    scaling = {"min_replicas": req.min_replicas, "scale_up_delay": req.scale_up_delay,
               "headroom": req.headroom}  # fmt: skip
    if req.profile is None:
        given = [k for k, v in scaling.items() if v is not None]
        if given:
            raise InputError(given[0], "sets how a day is autoscaled: give a profile too")
        return {}
    policy = Autoscale(
        min_replicas=req.min_replicas or 1,
        scale_up_delay_s=300.0 if req.scale_up_delay is None else req.scale_up_delay,
        headroom=0.1 if req.headroom is None else req.headroom,
    )
    policy.check()
    return {"profile": profile_of(req.profile), "autoscale": policy}


def _pricing(req: PlanRequest) -> Any:
    """Rent (a price for all, prices per accelerator, else the catalog's) or own."""
    from infercost.catalog.hardware import accelerator
    from infercost.catalog.prices import owner_profiles
    from infercost.errors import UnknownNameError
    from infercost.planning.space import Pricing

    if req.own and (req.price is not None or req.prices):
        raise InputError("price", "is a rental price; owning (own) costs the catalog server")
    if req.owner_profile is not None and not req.own:
        raise InputError("owner_profile", "applies when owning the servers (own)")
    with renamed({"tco profile": "owner_profile"}):
        profile = owner_profiles().get(req.owner_profile or "hyperscaler-2025").id
    per_gpu: dict[str, float] = {}
    for name, price in req.prices.items():
        try:
            gpu = accelerator(name).id
        except UnknownNameError as exc:
            raise InputError("price", exc.message) from None
        if gpu in per_gpu and per_gpu[gpu] != price:
            raise InputError("price", f"{gpu} is given twice, at {per_gpu[gpu]:g} and {price:g}")
        per_gpu[gpu] = price
    return Pricing(
        mode="own" if req.own else "rent",
        usd_per_gpu_hour=req.price,
        per_gpu=tuple(per_gpu.items()),
        owner_profile=profile,
    )


def _load(req: PlanRequest) -> Any:
    from infercost.planning.planner import Load

    volumes = [
        name
        for name, given in (
            ("qps", req.qps is not None),
            ("queries_per_day", req.queries_per_day is not None),
            ("daily_users", req.daily_users is not None or req.queries_per_user is not None),
            ("trace", req.trace is not None),
        )
        if given
    ]
    if len(volumes) != 1:
        what = "two volumes: " + ", ".join(volumes) if volumes else "no traffic"
        raise InputError(
            volumes[1] if len(volumes) > 1 else "qps",
            f"give exactly one of qps, queries_per_day, daily_users × queries_per_user or a "
            f"trace ({what})",
        )
    if (req.daily_users is None) != (req.queries_per_user is None):
        missing = "queries_per_user" if req.queries_per_user is None else "daily_users"
        raise InputError(missing, "daily_users and queries_per_user go together")
    arrival = req.arrival or "poisson"
    if req.burstiness is not None and arrival != "gamma":
        raise InputError("burstiness", "applies to gamma arrivals (arrival gamma)")
    p2a = req.peak_to_average or 1.0
    if req.profile is not None:
        from infercost.planning.day import profile_of

        for name in ("peak_to_average", "trace", "classes"):
            if getattr(req, name) is not None:
                raise InputError(name, "a profile sets the day's shape and its peak; drop it")
        profile = profile_of(req.profile)
        assert profile is not None
        p2a = profile.peak_to_average
    if req.trace is not None:
        for name in ("input_tokens", "output_tokens", "arrival", "peak_to_average", "classes"):
            if getattr(req, name) is not None:
                raise InputError(name, "a trace sets its own schedule and lengths; drop it")
        return Load(None, trace=req.trace, cached_fraction=req.cached_fraction or 0.0)
    classes = _classes(req)
    average = req.qps
    if req.queries_per_day is not None:
        average = req.queries_per_day / SECONDS_PER_DAY
    if req.daily_users is not None and req.queries_per_user is not None:
        average = req.daily_users * req.queries_per_user / SECONDS_PER_DAY
    assert average is not None
    if average * p2a > MAX_QUERIES_PER_S:
        raise InputError(
            "peak_to_average",
            f"puts the peak at {average * p2a:.3g} queries/s, over {MAX_QUERIES_PER_S:g}",
        )
    return Load(
        rate_per_s=average * p2a,
        input_spec=req.input_tokens or "1000",
        output_spec=req.output_tokens or "200",
        arrival=arrival,
        burstiness=req.burstiness or (2.0 if arrival == "gamma" else 1.0),
        cached_fraction=req.cached_fraction or 0.0,
        peak_to_average=p2a,
        classes=classes,
    )


def _classes(req: PlanRequest) -> tuple[Any, ...]:
    """The request classes of a `classes` file, checked (their lengths replace the plan's)."""
    from infercost.api.models import ClassesFile
    from infercost.files import read_yaml
    from infercost.workload.classes import RequestClass, check_classes

    if req.classes is None:
        return ()
    for name in ("input_tokens", "output_tokens"):
        if getattr(req, name) is not None:
            raise InputError(name, "each request class sets its own lengths; drop it")
    raw = read_yaml(Path(req.classes), "classes")
    doc = parse(ClassesFile, raw if isinstance(raw, dict) else {"classes": raw})
    out = tuple(
        RequestClass(c.name, c.share, str(c.input_tokens), str(c.output_tokens), c.slo)
        for c in doc.classes
    )
    check_classes(out)
    return out


FRONTIER_COLUMNS = (
    "model",
    "gpu",
    "tp",
    "pp",
    "ep",
    "dp_attention",
    "weight_precision",
    "kv_precision",
    "engine",
    "concurrency",
    "output_tokens_per_s_per_gpu",
    "interactivity_tokens_per_s",
    "ttft_s",
    "usd_per_gpu_hour",
    "usd_per_million_output_tokens",
    "on_cost_frontier",
)


def _write_frontier(result: Any, path: Path) -> None:
    try:
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, FRONTIER_COLUMNS, extrasaction="ignore")
            writer.writeheader()
            for point in result.frontier:
                writer.writerow(point.to_dict())
    except OSError as exc:
        raise InputError("frontier", f"cannot write {path}: {exc.strerror or exc}") from None


def _write(path: Path, text: str, field: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(field, f"cannot write {path}: {exc.strerror or exc}") from None
