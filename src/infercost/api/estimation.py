"""`estimate` (one replica per accelerator, and the fleet for a traffic) and `reproduce` (a
scenario recomputed), both through the one pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from infercost.api.models import EstimateRequest, ReproduceRequest, parse
from infercost.api.options import REQUEST_FIELDS, calibration_choice
from infercost.errors import InputError, renamed
from infercost.evaluate.config import Config, resolve
from infercost.evaluate.pipeline import CostBasis, Evaluation, Serving, Workload, evaluate

FEASIBILITY_FIELDS = {"weights": "tp", "request": "tp", "kv": "concurrency"}


@dataclass(frozen=True)
class EstimateResult:
    evaluations: list[Evaluation]
    refused: list[dict[str, Any]] = field(default_factory=list)  # accelerators that don't fit

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimates": [e.to_dict() for e in self.evaluations],
            "refused": self.refused,
        }


def estimate(
    request: EstimateRequest | dict[str, Any] | None = None, **fields: Any
) -> EstimateResult:
    """One replica per accelerator: memory, latency, throughput, $/1M tokens; with traffic,
    the fleet and its cost. A configuration that does not fit is an error naming the binding
    limit (when comparing accelerators, it is listed as refused)."""
    req = parse(EstimateRequest, request, **fields)
    _check_estimate(req)
    cal = calibration_choice(req.calibration)
    tp = req.tp or (req.gpus // req.pp if req.gpus else 1)
    workload = Workload(req.input_tokens, req.output_tokens, req.cached_fraction, _traffic(req))
    serving = Serving(req.concurrency, req.target_interactivity)
    basis = CostBasis("catalog", req.price)
    evaluations: list[Evaluation] = []
    refused: list[dict[str, Any]] = []
    errors: list[InputError] = []
    names = {**REQUEST_FIELDS, **({"tp": "gpus"} if req.tp is None and req.gpus else {})}
    for gpu in dict.fromkeys(req.gpu):
        config = Config(
            model=req.model,
            gpu=gpu,
            tp=tp,
            pp=req.pp,
            weight_precision=req.precision,
            kv_precision=req.kv_precision,
            engine=req.engine,
            max_sequences=req.max_seqs,
        )
        with renamed(names):
            e = evaluate(resolve(config, cal), workload, serving, basis, cal)
        try:
            e.require_feasible(_feasibility_field(e))
        except InputError as exc:
            errors.append(exc)
            refused.append(
                {
                    "gpu": e.resolved.deployment.gpu.id,
                    **e.feasibility.to_dict(),
                    "error": exc.message,
                }
            )
            continue
        evaluations.append(e)
    if not evaluations:
        raise errors[0]
    return EstimateResult(evaluations, refused)


def _feasibility_field(e: Evaluation) -> str:
    binding = e.feasibility.binding
    if binding == "speed":
        return "target_interactivity"
    if binding == "sequences":
        return "max_seqs" if e.concurrency_basis == "stated" else "concurrency"
    return FEASIBILITY_FIELDS.get(binding or "", "concurrency")


def _check_estimate(req: EstimateRequest) -> None:
    if req.gpus is not None:
        if req.tp is not None and req.tp * req.pp != req.gpus:
            raise InputError("gpus", f"must equal tp × pp = {req.tp * req.pp}, got {req.gpus}")
        if req.gpus % req.pp:
            raise InputError("gpus", f"must be a multiple of pp ({req.pp}), got {req.gpus}")
    if req.qps is not None and req.queries_per_day is not None:
        raise InputError("qps", "give qps or queries_per_day, not both")
    if req.concurrency is not None and req.target_interactivity is not None:
        raise InputError("concurrency", "give concurrency or target_interactivity, not both")
    no_traffic = req.qps is None and req.queries_per_day is None
    for name in ("peak_to_average", "utilisation"):
        if no_traffic and getattr(req, name) is not None:
            raise InputError(name, "sizes a fleet: give qps or queries_per_day too")


def _traffic(req: EstimateRequest) -> Any:
    if req.qps is None and req.queries_per_day is None:
        return None
    from infercost.units import SECONDS_PER_DAY
    from infercost.workload.traffic import Traffic

    qps = req.qps if req.qps is not None else (req.queries_per_day or 0.0) / SECONDS_PER_DAY
    return Traffic(
        queries_per_s=qps,
        input_tokens_per_query=req.input_tokens,
        output_tokens_per_query=req.output_tokens,
        peak_to_average=req.peak_to_average or 1.0,
        target_utilisation=req.utilisation or 1.0,
        cached_input_fraction=req.cached_fraction,
    )


def _variant(scenario: Any, req: ReproduceRequest) -> Any:
    """The scenario with one of its variants applied, as the figures shown (its other
    variants dropped); the variant's provenance replaces the inputs' it changes."""
    from infercost.scenario.engine import apply_variant

    found = scenario.variants.get(req.variant)
    if found is None:
        names = ", ".join(scenario.variants) or "none"
        raise InputError("variant", f"{scenario.scenario} has no variant {req.variant!r}; "
                         f"its variants: {names}")  # fmt: skip
    if req.set:
        raise InputError("set", "with a variant, give the variant's changes only (set applies "
                         "before a variant, so a variant would undo it)")  # fmt: skip
    inputs = apply_variant(scenario, found.set)
    provenance = {**scenario.provenance, **found.provenance}
    title = f"{scenario.title} — variant {req.variant}" + (
        f": {found.title}" if found.title else ""
    )
    return scenario.model_copy(
        update={"inputs": inputs, "provenance": provenance, "variants": {}, "title": title}
    )


def reproduce(request: ReproduceRequest | dict[str, Any] | None = None, **fields: Any) -> Any:
    """A scenario recomputed from its assumptions: published against computed. With
    `samples`, its ranges (and `range`) are also sampled through the same pipeline: the
    quantiles of every figure and the tornado of the headline figure."""
    from dataclasses import replace

    from infercost.scenario.engine import run
    from infercost.scenario.loader import load
    from infercost.scenario.ranges import active_ranges

    req = parse(ReproduceRequest, request, **fields)
    for name in ("range", "headline"):
        if getattr(req, name) and req.samples is None:
            raise InputError(name, "applies to a Monte Carlo: give samples too")
    cal = calibration_choice(req.calibration)
    scenario = load(req.scenario, list(req.set))
    if req.variant is not None:
        scenario = _variant(scenario, req)
    ranges = None if req.samples is None else active_ranges(scenario, req.range, req.set)
    result = run(scenario, cal)
    if req.samples is None or ranges is None:
        return result
    from infercost.evaluate.config import calibration_of
    from infercost.scenario.uncertainty import headline_of, sample

    headline = req.headline or headline_of(scenario, result.computed)
    if not isinstance(result.computed.get(headline), int | float):
        numeric = [k for k, v in result.computed.items() if isinstance(v, int | float)]
        raise InputError("headline", f"{headline!r} is not a figure; figures: {', '.join(numeric)}")
    sampled = sample(scenario, ranges, req.samples, req.seed, calibration_of(cal), headline)
    return replace(result, sampled=sampled)
