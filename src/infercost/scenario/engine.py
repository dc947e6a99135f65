"""Recompute a scenario: deployment → replica performance → fleet size → cost → economics.

The engine reads `inputs` only. `published` figures are attached afterwards for comparison.
When one input is *calibrated*, the scenario is also run with that input at its default, so
the output shows what the roofline alone predicts next to the fitted result.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ValidationError

from infercost.cost.fleet import FleetCost
from infercost.elementwise import is_array, scalar
from infercost.errors import InputError, renamed
from infercost.evaluate.config import Config, Resolved, resolve, stated
from infercost.evaluate.disaggregated import Disaggregated, disaggregated
from infercost.evaluate.pipeline import CostBasis, Evaluation, Serving, Workload, evaluate
from infercost.perf.calibration import FITTED, Calibration, load_calibration
from infercost.scenario.loader import schema_default, set_path
from infercost.scenario.schema import EfficiencyIn, Inputs, ParallelIn, Scenario
from infercost.units import DAYS_PER_YEAR, SECONDS_PER_DAY
from infercost.workload.traffic import Traffic

if TYPE_CHECKING:
    from infercost.scenario.uncertainty import SampledRun


@dataclass(frozen=True)
class ScenarioResult:
    scenario: Scenario
    computed: dict[str, Any]
    details: dict[str, Any]
    uncalibrated: dict[str, Any] | None = None
    variants: dict[str, dict[str, Any]] = field(default_factory=dict)
    sampled: SampledRun | None = None  # with --samples: quantiles, tornado
    implied: list[dict[str, Any]] = field(default_factory=list)  # scenario.implied, solved

    def comparisons(self) -> list[dict[str, Any]]:
        """Published against computed, key by key, with the difference in percent."""
        rows = []
        for key, pub in self.scenario.published.items():
            value = self.computed.get(key)
            diff = None if value is None else (value - pub.value) / pub.value * 100
            roofline = (self.uncalibrated or {}).get(key)
            rows.append(
                {
                    "key": key,
                    "published": pub.value,
                    "computed": value,
                    "diff_pct": diff,
                    "uncalibrated": roofline,
                    "source": pub.source,
                }
            )
        return rows

    def assumptions(self) -> list[dict[str, Any]]:
        out = []
        dumped = self.scenario.inputs.model_dump()
        plan = self.scenario.plan
        paths = {**dumped, "plan": plan.model_dump() if plan else {}}
        eff = self.details.get("efficiency", {})
        group = eff.get("calibration_group", "default")
        for path, prov in sorted(self.scenario.provenance.items()):
            value = _get(paths, path)
            if value is None and path.startswith("efficiency."):  # resolved from calibration
                value = eff.get(path.removeprefix("efficiency."))
            out.append({"path": path, "value": value, **prov.model_dump()})
        engine = self.details.get("deployment", self.details.get("decode_deployment", {}))
        for name, value in dumped["efficiency"].items():
            if f"efficiency.{name}" in self.scenario.provenance:
                continue
            if value is None and eff.get(name) is None:  # not stated, nothing resolved
                continue  # (attention_compute: the matmuls' compute)
            if value is None and name in eff:  # not stated: calibration, engine or defaults
                if name not in FITTED:
                    basis, source = "default", "engines.yaml"
                    note = f"the {engine.get('engine', 'other')} engine's setting"
                elif group == "default":
                    basis, source, note = "default", "infercost", "perf default"
                else:
                    basis, source, note = "calibrated", "calibration.yaml", f"fitted group {group}"
                out.append(
                    {
                        "path": f"efficiency.{name}",
                        "value": eff[name],
                        "basis": basis,
                        "source": source,
                        "note": note,
                    }
                )
        return out

    def to_dict(self) -> dict[str, Any]:
        s = self.scenario
        return {
            "scenario": {"name": s.scenario, "title": s.title, "description": s.description},
            "computed": self.computed,
            "published": {k: v.model_dump() for k, v in s.published.items()},
            "comparison": self.comparisons(),
            "assumptions": self.assumptions(),
            "calibration": self.calibration(),
            "variants": self.variants,
            "variant_assumptions": {
                name: {p: {"value": v.set[p], **v.provenance[p].model_dump()} for p in v.set}
                for name, v in s.variants.items()
            },
            "details": self.details,
            "sources": [src.model_dump() for src in s.sources],
            "notes": s.notes,
            **({"implied": self.implied} if self.implied else {}),
            **(self.sampled.to_dict() if self.sampled is not None else {}),
        }

    def calibration(self) -> dict[str, Any] | None:
        path = self.scenario.calibrated_path
        if path is None:
            return None
        value = _get(self.scenario.inputs.model_dump(), path)
        return {"parameter": path, "value": value, "uncalibrated": self.uncalibrated}


def _get(tree: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(tree, dict):
            return None
        tree = tree.get(part)
    return tree


CONFIG_FIELDS = {
    "model": "inputs.model.name",
    "weight_precision": "inputs.model.weight_precision",
    "kv_precision": "inputs.model.kv_precision",
    "compute_precision": "inputs.model.compute_precision",
    "gpu": "inputs.hardware.gpu",
    "server": "inputs.hardware.server",
    "tp": "inputs.parallelism.tp",
    "pp": "inputs.parallelism.pp",
    "dp_attention": "inputs.parallelism.dp_attention",
    "ep": "inputs.parallelism.ep",
    "engine": "inputs.serving.engine",
    "max_sequences": "inputs.serving.max_concurrency",
    "concurrency": "inputs.serving.concurrency",
    "efficiency.": "inputs.efficiency.",
    "usd_per_gpu_hour": "inputs.cost.usd_per_gpu_hour",
    "owner_profile": "inputs.cost.owner_profile",
    "tco profile": "inputs.cost.owner_profile",
}


def config_of(
    inputs: Inputs, parallel: ParallelIn | None = None, eff: EfficiencyIn | None = None
) -> Config:
    """The scenario's replica (or one pool of it) as the pipeline's configuration."""
    m, p = inputs.model, parallel or inputs.parallelism
    given = (eff or inputs.efficiency).model_dump()
    spec = inputs.serving.speculative
    return Config(
        model=m.name,
        gpu=inputs.hardware.gpu,
        server=inputs.hardware.server,
        tp=p.tp,
        pp=p.pp,
        dp_attention=p.dp_attention,
        ep=p.ep,
        weight_precision=m.weight_precision,
        kv_precision=m.kv_precision,
        compute_precision=m.compute_precision,
        engine=inputs.serving.engine,
        max_sequences=inputs.serving.max_concurrency,
        efficiency=stated(**given),
        expert_balance=p.expert_balance,
        spec_method=spec.method if spec else None,
        spec_draft_tokens=spec.draft_tokens if spec else 0,
        spec_acceptance_length=spec.acceptance_length if spec else None,
        spec_acceptance_rate=spec.acceptance_rate if spec else None,
        spec_draft_cost=spec.draft_cost if spec else None,
    )


def traffic(inputs: Inputs) -> Traffic:
    w = inputs.workload
    common = {
        "input_tokens_per_query": w.input_tokens,
        "output_tokens_per_query": w.output_tokens,
        "peak_to_average": w.peak_to_average,
        "target_utilisation": w.target_utilisation,
        "cached_input_fraction": w.cached_input_fraction,
    }
    if w.daily_users is not None and w.queries_per_user_per_day is not None:
        return Traffic.from_users(w.daily_users, w.queries_per_user_per_day, **common)
    if w.queries_per_second is not None:
        return Traffic(queries_per_s=w.queries_per_second, **common)
    if w.queries_per_day is not None:
        return Traffic(queries_per_s=w.queries_per_day / SECONDS_PER_DAY, **common)
    if w.output_tokens_per_day is None:  # the schema guarantees one volume
        raise InputError("inputs.workload", "no traffic volume")
    return Traffic(
        queries_per_s=w.output_tokens_per_day / w.output_tokens / SECONDS_PER_DAY, **common
    )


def workload_of(inputs: Inputs) -> Workload:
    w = inputs.workload
    return Workload(w.input_tokens, w.output_tokens, w.cached_input_fraction, traffic(inputs))


def serving_of(inputs: Inputs, include_prefill: bool = True) -> Serving:
    s = inputs.serving
    return Serving(s.concurrency, s.target_interactivity_tokens_per_s, include_prefill)


def cost_basis_of(inputs: Inputs) -> CostBasis:
    c = inputs.cost
    return CostBasis(c.mode, c.usd_per_gpu_hour, c.owner_profile, c.server_price_usd)


def resolve_inputs(
    inputs: Inputs,
    calibration: Calibration | None,
    parallel: ParallelIn | None = None,
    eff: EfficiencyIn | None = None,
) -> Resolved:
    with renamed(CONFIG_FIELDS):
        return resolve(config_of(inputs, parallel, eff), calibration)


def evaluate_inputs(inputs: Inputs, calibration: Calibration | None) -> Evaluation:
    """The scenario's fleet through the pipeline; an infeasible one is an error."""
    r = resolve_inputs(inputs, calibration)
    with renamed(CONFIG_FIELDS):
        result = evaluate(
            r, workload_of(inputs), serving_of(inputs), cost_basis_of(inputs), calibration
        )
        return result.require_feasible("concurrency")


def run_inputs(
    inputs: Inputs, calibration: Calibration | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Computed figures and supporting details for one set of inputs."""
    if inputs.prefill is not None:
        return _run_disaggregated(inputs, calibration)
    return _run_fleet(inputs, calibration)


def figures(inputs: Inputs, calibration: Calibration | None = None) -> dict[str, Any]:
    """The computed figures of `run_inputs`, without the details.

    Inputs that hold numpy arrays of samples (a Monte Carlo, `scenario/uncertainty.py`) give
    an array for every figure, through the same code; a step that cannot take a whole array
    raises `NotElementwise`, and so does a disaggregated deployment.
    """
    if inputs.prefill is not None:
        scalar(*_values(inputs))  # the pools are sized one sample at a time
        return _run_disaggregated(inputs, calibration)[0]
    return fleet_figures(inputs, evaluate_inputs(inputs, calibration))


def _values(model: BaseModel) -> list[Any]:
    """Every leaf value of a model, nested models included."""
    out: list[Any] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        out.extend(_values(value) if isinstance(value, BaseModel) else [value])
    return out


def _run_fleet(
    inputs: Inputs, calibration: Calibration | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    e = evaluate_inputs(inputs, calibration)
    perf, r, load = e.performance, e.resolved, e.workload.traffic
    assert e.fleet is not None
    assert e.gpu_hour is not None
    assert load is not None
    details = {
        "deployment": r.to_dict(),
        "replica": perf.to_dict(),
        "fleet": e.fleet.to_dict(),
        "traffic": load.to_dict(),
        "gpu_hour": e.gpu_hour.to_dict(),
        "server": r.server.id if r.server else None,
        "efficiency": r.efficiency_dict(),
    }
    return fleet_figures(inputs, e), details


def fleet_figures(inputs: Inputs, e: Evaluation) -> dict[str, Any]:
    """GPUs, servers, $ per day, query and token, speeds and latencies of an evaluated fleet
    (arrays for arrays of samples, which leave out the decode step's bound, a label)."""
    perf, r = e.performance, e.resolved
    assert e.fleet is not None
    assert e.cost is not None
    assert e.gpu_hour is not None
    load, fleet, cost = e.workload.traffic, e.fleet, e.cost
    assert load is not None
    per_server = r.gpus_per_server
    bound = {} if is_array(perf.decode.total_s) else {"decode_bound": perf.decode.bound}
    computed: dict[str, Any] = {
        "gpus": fleet.gpus,
        "servers": fleet.servers,
        "replicas": fleet.replicas,
        **{k: v for k, v in cost.to_dict().items() if k not in ("gpus", "usd_per_gpu_hour")},
        "usd_per_gpu_hour": e.gpu_hour.usd_per_gpu_hour,
        "queries_per_day": load.queries_per_day,
        "concurrency_per_replica": perf.concurrency,
        "output_tokens_per_s_per_gpu": perf.output_tokens_per_s / r.gpus,
        "queries_per_s_per_server": perf.requests_per_s * per_server / r.gpus,
        "interactivity_tokens_per_s": perf.interactivity_tokens_per_s,
        "tpot_s": perf.tpot_s,
        "ttft_s": perf.ttft_s,
        "e2e_s": perf.e2e_s,
        **bound,
        "capex_usd": _capex(inputs, r, fleet.servers),
    }
    pod = r.server.pod_accelerators if r.server else None
    if pod:  # TPU pods: the whole ICI domains the chips fill
        computed["pods"] = -(-fleet.gpus // pod)  # elementwise for samples too
        computed["pod_accelerators"] = pod
    if inputs.economics is not None:
        computed.update(_search_economics(inputs, cost, load))
    return computed


def _capex(inputs: Inputs, r: Resolved, servers: Any) -> Any:
    """The servers' purchase price; None for a host that is not sold (a Cloud TPU host: its
    price is not published, and none is guessed) unless the scenario states one."""
    if inputs.cost.server_price_usd is not None:
        return servers * inputs.cost.server_price_usd
    if r.server is None:
        raise InputError(
            "inputs.hardware.server", f"no server in the catalog holds {r.deployment.gpu.id}"
        )
    return None if r.server.price_usd is None else servers * r.server.price_usd


def _search_economics(inputs: Inputs, cost: FleetCost, load: Traffic) -> dict[str, Any]:
    """Search revenue and cost per query before and after adding the LLM."""
    e = inputs.economics
    assert e is not None
    assert cost.usd_per_query is not None
    per_year = load.queries_per_s * SECONDS_PER_DAY * DAYS_PER_YEAR
    revenue = e.revenue_usd_per_year / per_year
    with_llm = e.existing_cost_usd_per_query + cost.usd_per_query
    added = cost.usd_per_query * per_year
    out: dict[str, Any] = {
        "queries_per_year": per_year,
        "revenue_usd_per_query": revenue,
        "existing_cost_usd_per_query": e.existing_cost_usd_per_query,
        "cost_with_llm_usd_per_query": with_llm,
        "margin_before": (revenue - e.existing_cost_usd_per_query) / revenue,
        "margin_after": (revenue - with_llm) / revenue,
        "added_cost_usd_per_year": added,
        "added_cost_after_tax_usd_per_year": added * (1 - e.tax_rate),
    }
    for name, queries in e.alternative_queries_per_year.items():
        out[f"{name}.added_cost_usd_per_year"] = cost.usd_per_query * queries
        out[f"{name}.revenue_usd_per_query"] = e.revenue_usd_per_year / queries
        out[f"{name}.gpus"] = cost.gpus * queries / per_year
    return out


def pools_of(inputs: Inputs, calibration: Calibration | None) -> Disaggregated:
    """A disaggregated scenario's prefill and decode pools, sized for the day's tokens."""
    pre = inputs.prefill
    if pre is None:
        raise InputError("prefill", "the scenario has one pool: it states no prefill block")
    w = inputs.workload
    load = traffic(inputs)
    decode = resolve_inputs(inputs, calibration)
    prefill = resolve_inputs(inputs, calibration, pre.parallelism, pre.efficiency)
    inputs_per_s = (w.input_tokens_per_day or load.input_tokens_per_day) / SECONDS_PER_DAY
    outputs_per_s = (w.output_tokens_per_day or load.output_tokens_per_day) / SECONDS_PER_DAY
    with renamed(CONFIG_FIELDS):
        return disaggregated(
            prefill,
            decode,
            workload_of(inputs),
            inputs_per_s,
            outputs_per_s,
            serving_of(inputs),
            cost_basis_of(inputs),
        )


def _run_disaggregated(
    inputs: Inputs, calibration: Calibration | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Prefill and decode pools sized separately from the day's input and output tokens."""
    w = inputs.workload
    pools = pools_of(inputs, calibration)
    prefill, decode = pools.prefill, pools.decode.resolved
    inputs_per_s, outputs_per_s = pools.input_tokens_per_s, pools.output_tokens_per_s
    computed = pools.to_dict()
    if inputs.pricing is not None:
        p = inputs.pricing
        day_in = inputs_per_s * SECONDS_PER_DAY
        revenue = (
            day_in * w.cached_input_fraction * p.usd_per_million_input_cached
            + day_in * (1 - w.cached_input_fraction) * p.usd_per_million_input_uncached
            + outputs_per_s * SECONDS_PER_DAY * p.usd_per_million_output
        ) / 1e6
        computed["revenue_usd_per_day"] = revenue
        computed["cost_profit_margin"] = revenue / pools.usd_per_day - 1
    details = {
        "decode_deployment": decode.to_dict(),
        "decode_replica": pools.decode.performance.to_dict(),
        "prefill_deployment": prefill.to_dict(),
        "prefill_seconds_per_token": pools.prefill_s_per_token,
        "gpu_hour": pools.rate.to_dict(),
        "efficiency": decode.efficiency_dict(),
    }
    return computed, details


def _check_published(scenario: Scenario, computed: dict[str, Any]) -> None:
    """A published figure must name something the engine computes, or it is a typo."""
    import difflib

    for key in scenario.published:
        if key not in computed:
            close = difflib.get_close_matches(key, list(computed), n=3, cutoff=0.5)
            hint = f"closest: {', '.join(close)}" if close else f"figures: {', '.join(computed)}"
            raise InputError(f"published.{key}", f"not a figure infercost computes; {hint}")


def with_default(scenario: Scenario, path: str) -> Inputs:
    """The scenario's inputs with `path` put back to its schema default."""
    raw = scenario.inputs.model_dump()
    set_path(raw, path, schema_default(path))
    try:
        return Inputs.model_validate(raw)
    except ValidationError as exc:
        message = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise InputError(
            f"provenance.{path}", f"cannot be calibrated: at its default, {message}"
        ) from None


def apply_variant(scenario: Scenario, overrides: dict[str, Any]) -> Inputs:
    raw = copy.deepcopy(scenario.inputs.model_dump())
    for path, value in overrides.items():
        set_path(raw, path, value)
    try:
        return Inputs.model_validate(raw)
    except Exception as exc:  # pydantic's error, turned into one line
        raise InputError(f"variants of {scenario.scenario}", str(exc).splitlines()[0]) from None


def run(
    scenario: Scenario, calibration: Calibration | Literal["builtin"] | None = "builtin"
) -> ScenarioResult:
    """Run a scenario, its variants and (when one input is calibrated) its uncalibrated twin.

    Efficiency factors the scenario does not state come from `calibration`: the built-in
    fitted factors by default, a loaded file, or None for the raw perf defaults.
    """
    cal = load_calibration() if calibration == "builtin" else calibration
    computed, details = run_inputs(scenario.inputs, cal)
    _check_published(scenario, computed)
    uncalibrated = None
    if scenario.calibrated_path:
        uncalibrated, _ = run_inputs(with_default(scenario, scenario.calibrated_path), cal)
    variants = {}
    for name, variant in scenario.variants.items():
        variants[name], _ = run_inputs(apply_variant(scenario, variant.set), cal)
    from infercost.scenario.implied import implied

    return ScenarioResult(
        scenario, computed, details, uncalibrated, variants, implied=implied(scenario, cal)
    )


__all__ = ["ScenarioResult", "reproduce", "run"]


def reproduce(
    name_or_path: str,
    overrides: list[str] | None = None,
    calibration: Calibration | Literal["builtin"] | None = "builtin",
) -> ScenarioResult:
    """Load a built-in or user scenario, apply `--set`-style overrides, and run it."""
    from infercost.scenario.loader import load

    return run(load(name_or_path, overrides), calibration)
