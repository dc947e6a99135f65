"""Recompute a scenario: deployment → replica performance → fleet size → cost → economics.

The engine reads `inputs` only. `published` figures are attached afterwards for comparison.
When one input is *calibrated*, the scenario is also run with that input at its default, so
the output shows what the roofline alone predicts next to the fitted result.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from pydantic import ValidationError

from infercost.catalog.hardware import Server, accelerator, server_for
from infercost.catalog.hardware import server as find_server
from infercost.catalog.prices import owner_profiles
from infercost.cost.fleet import FleetCost
from infercost.cost.gpu_hour import GpuHourCost, own, rent
from infercost.errors import InputError
from infercost.perf.calibration import Calibration, load_calibration
from infercost.perf.deployment import Deployment, Efficiency, build
from infercost.perf.replica import (
    ReplicaPerformance,
    max_concurrency,
    prefill_seconds_per_token,
    replica_performance,
)
from infercost.scenario.loader import schema_default, set_path, validate
from infercost.scenario.schema import EfficiencyIn, Inputs, ParallelIn, Scenario
from infercost.units import DAYS_PER_YEAR, SECONDS_PER_DAY
from infercost.workload.traffic import Traffic, size_fleet


@dataclass(frozen=True)
class ScenarioResult:
    scenario: Scenario
    computed: dict[str, Any]
    details: dict[str, Any]
    uncalibrated: dict[str, Any] | None = None
    variants: dict[str, dict[str, Any]] = field(default_factory=dict)

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
        eff = self.details.get("efficiency", {})
        group = eff.get("calibration_group", "default")
        for path, prov in sorted(self.scenario.provenance.items()):
            value = _get(dumped, path)
            if value is None and path.startswith("efficiency."):  # resolved from calibration
                value = eff.get(path.removeprefix("efficiency."))
            out.append({"path": path, "value": value, **prov.model_dump()})
        for name, value in dumped["efficiency"].items():
            if f"efficiency.{name}" in self.scenario.provenance:
                continue
            if value is None and name in eff:  # not stated: came from calibration or defaults
                basis = "default" if group == "default" else "calibrated"
                source = "infercost" if group == "default" else "calibration.yaml"
                note = "perf default" if group == "default" else f"fitted group {group}"
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


def efficiency(
    inputs: Inputs, eff: EfficiencyIn | None = None, calibration: Calibration | None = None
) -> tuple[Efficiency, str]:
    """Stated efficiency fields over calibrated ones (or the defaults); and the group used."""
    given = {k: v for k, v in (eff or inputs.efficiency).model_dump().items() if v is not None}
    base, group = Efficiency(), "default"
    if calibration is not None:
        calibration.check_engine(inputs.serving.engine, "serving.engine")
        base, group = calibration.resolve(accelerator(inputs.hardware.gpu), inputs.serving.engine)
    return replace(base, **given), group


def deployment(
    inputs: Inputs,
    parallel: ParallelIn | None = None,
    eff: EfficiencyIn | None = None,
    calibration: Calibration | None = None,
) -> Deployment:
    m = inputs.model
    p = parallel or inputs.parallelism
    return build(
        m.name,
        inputs.hardware.gpu,
        tp=p.tp,
        pp=p.pp,
        dp_attention=p.dp_attention,
        ep=p.ep,
        precision_name=m.weight_precision,
        kv_precision_name=m.kv_precision,
        compute_precision_name=m.compute_precision,
        efficiency=efficiency(inputs, eff, calibration)[0],
    )


def choose_concurrency(dep: Deployment, inputs: Inputs, include_prefill: bool = True) -> int:
    """The stated concurrency, else the largest that fits memory and meets the target speed."""
    s, w = inputs.serving, inputs.workload
    if s.concurrency is not None:
        return s.concurrency
    ceiling = max_concurrency(dep, w.input_tokens, w.output_tokens, s.max_concurrency)
    if ceiling < 1:
        raise InputError(
            "serving.concurrency",
            f"{dep.model.id} leaves no room for KV cache on {dep.gpus}× {dep.gpu.id}; "
            "use more accelerators (tp/pp) or a smaller weight precision",
        )
    target = s.target_interactivity_tokens_per_s
    if target is None:
        return ceiling
    lo, hi = 1, ceiling
    while lo < hi:  # largest concurrency whose interactivity still meets the target
        mid = (lo + hi + 1) // 2
        perf = _perf(dep, inputs, mid, include_prefill)
        lo, hi = (mid, hi) if perf.interactivity_tokens_per_s >= target else (lo, mid - 1)
    return lo


def _perf(
    dep: Deployment, inputs: Inputs, concurrency: int, include_prefill: bool
) -> ReplicaPerformance:
    w = inputs.workload
    return replica_performance(
        dep,
        concurrency,
        w.input_tokens,
        w.output_tokens,
        include_prefill=include_prefill,
        cached_fraction=w.cached_input_fraction,
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
    assert w.output_tokens_per_day is not None  # schema guarantees one volume
    return Traffic(
        queries_per_s=w.output_tokens_per_day / w.output_tokens / SECONDS_PER_DAY, **common
    )


def gpu_hour_rate(inputs: Inputs) -> GpuHourCost:
    c = inputs.cost
    if c.mode == "rent":
        assert c.usd_per_gpu_hour is not None  # schema guarantees it
        return rent(c.usd_per_gpu_hour)
    return own(_server(inputs), owner_profiles().get(c.owner_profile), c.server_price_usd)


def _server(inputs: Inputs) -> Server:
    if inputs.hardware.server:
        return find_server(inputs.hardware.server)
    node = server_for(accelerator(inputs.hardware.gpu))
    if node is None:
        raise InputError("hardware.server", f"no server in the catalog holds {inputs.hardware.gpu}")
    return node


def run_inputs(
    inputs: Inputs, calibration: Calibration | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Computed figures and supporting details for one set of inputs."""
    if inputs.prefill is not None:
        computed, details = _run_disaggregated(inputs, calibration)
    else:
        computed, details = _run_fleet(inputs, calibration)
    eff, group = efficiency(inputs, calibration=calibration)
    details["efficiency"] = {**asdict(eff), "calibration_group": group}
    return computed, details


def _run_fleet(
    inputs: Inputs, calibration: Calibration | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    dep = deployment(inputs, calibration=calibration)
    perf = _perf(dep, inputs, choose_concurrency(dep, inputs), True)
    load = traffic(inputs)
    node = _server(inputs)
    fleet = size_fleet(
        load.capacity_queries_per_s, perf.requests_per_s, dep.gpus, node.accelerators_per_server
    )
    rate = gpu_hour_rate(inputs)
    cost = FleetCost(
        gpus=fleet.gpus,
        rate=rate,
        queries_per_day=load.queries_per_day,
        input_tokens_per_day=load.input_tokens_per_day,
        output_tokens_per_day=load.output_tokens_per_day,
        prefill_time_share=perf.prefill_time_share,
        watts_per_gpu=node.power_w / node.accelerators_per_server,
        power_utilisation=_power_utilisation(inputs),
        pue=_pue(inputs),
    )
    computed: dict[str, Any] = {
        "gpus": fleet.gpus,
        "servers": fleet.servers,
        "replicas": fleet.replicas,
        **{k: v for k, v in cost.to_dict().items() if k not in ("gpus", "usd_per_gpu_hour")},
        "usd_per_gpu_hour": rate.usd_per_gpu_hour,
        "queries_per_day": load.queries_per_day,
        "concurrency_per_replica": perf.concurrency,
        "output_tokens_per_s_per_gpu": perf.output_tokens_per_s / dep.gpus,
        "queries_per_s_per_server": perf.requests_per_s * node.accelerators_per_server / dep.gpus,
        "interactivity_tokens_per_s": perf.interactivity_tokens_per_s,
        "tpot_s": perf.tpot_s,
        "ttft_s": perf.ttft_s,
        "e2e_s": perf.e2e_s,
        "decode_bound": perf.decode.bound,
        "fits_in_memory": perf.fits,
        "capex_usd": fleet.servers * (inputs.cost.server_price_usd or node.price_usd),
    }
    if inputs.economics is not None:
        computed.update(_search_economics(inputs, cost, load))
    details = {
        "deployment": dep.to_dict(),
        "replica": perf.to_dict(),
        "fleet": fleet.to_dict(),
        "traffic": load.to_dict(),
        "gpu_hour": rate.to_dict(),
        "server": node.id,
    }
    return computed, details


def _owner_value(inputs: Inputs, name: str, default: float) -> float:
    if inputs.cost.mode != "own":
        return default
    return float(getattr(owner_profiles().get(inputs.cost.owner_profile), name))


def _power_utilisation(inputs: Inputs) -> float:
    return _owner_value(inputs, "power_utilisation", 0.7)


def _pue(inputs: Inputs) -> float:
    return _owner_value(inputs, "pue", 1.2)


def _search_economics(inputs: Inputs, cost: FleetCost, load: Traffic) -> dict[str, Any]:
    """Search revenue and cost per query before and after adding the LLM."""
    e = inputs.economics
    assert e is not None
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


def _run_disaggregated(
    inputs: Inputs, calibration: Calibration | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Prefill and decode pools sized separately from the day's input and output tokens."""
    pre = inputs.prefill
    assert pre is not None
    w = inputs.workload
    node = _server(inputs)
    g = node.accelerators_per_server
    decode_dep = deployment(inputs, calibration=calibration)
    decode = _perf(decode_dep, inputs, choose_concurrency(decode_dep, inputs, False), False)
    prefill_dep = deployment(inputs, pre.parallelism, pre.efficiency, calibration)
    fresh = w.input_tokens * (1 - w.cached_input_fraction)
    s_per_token = prefill_seconds_per_token(prefill_dep, fresh, w.input_tokens - fresh)
    # Per node, counting cache hits as DeepSeek does: fresh tokens/s ÷ fresh share.
    prefill_node = 1 / s_per_token / (prefill_dep.gpus / g) / (1 - w.cached_input_fraction)
    decode_node = decode.output_tokens_per_s / (decode_dep.gpus / g)
    load = traffic(inputs)
    inputs_per_s = (w.input_tokens_per_day or load.input_tokens_per_day) / SECONDS_PER_DAY
    outputs_per_s = (w.output_tokens_per_day or load.output_tokens_per_day) / SECONDS_PER_DAY
    capacity = w.peak_to_average / w.target_utilisation
    nodes_prefill = inputs_per_s / prefill_node * capacity
    nodes_decode = outputs_per_s / decode_node * capacity
    nodes = nodes_prefill + nodes_decode
    rate = gpu_hour_rate(inputs)
    usd_per_day = nodes * g * 24 * rate.usd_per_gpu_hour
    computed: dict[str, Any] = {
        "prefill_input_tokens_per_s_per_node": prefill_node,
        "decode_output_tokens_per_s_per_node": decode_node,
        "decode_interactivity_tokens_per_s": decode.interactivity_tokens_per_s,
        "decode_concurrency_per_gpu": decode.concurrency / decode_dep.gpus,
        "nodes_prefill": nodes_prefill,
        "nodes_decode": nodes_decode,
        "nodes": nodes,
        "gpus": nodes * g,
        "usd_per_gpu_hour": rate.usd_per_gpu_hour,
        "usd_per_day": usd_per_day,
        "usd_per_million_output_tokens": usd_per_day / (outputs_per_s * SECONDS_PER_DAY) * 1e6,
        "usd_per_million_tokens": usd_per_day
        / ((inputs_per_s + outputs_per_s) * SECONDS_PER_DAY)
        * 1e6,
    }
    if inputs.pricing is not None:
        p = inputs.pricing
        day_in = inputs_per_s * SECONDS_PER_DAY
        revenue = (
            day_in * w.cached_input_fraction * p.usd_per_million_input_cached
            + day_in * (1 - w.cached_input_fraction) * p.usd_per_million_input_uncached
            + outputs_per_s * SECONDS_PER_DAY * p.usd_per_million_output
        ) / 1e6
        computed["revenue_usd_per_day"] = revenue
        computed["cost_profit_margin"] = revenue / usd_per_day - 1
    details = {
        "decode_deployment": decode_dep.to_dict(),
        "decode_replica": decode.to_dict(),
        "prefill_deployment": prefill_dep.to_dict(),
        "prefill_seconds_per_token": s_per_token,
        "gpu_hour": rate.to_dict(),
    }
    return computed, details


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
    uncalibrated = None
    if scenario.calibrated_path:
        uncalibrated, _ = run_inputs(with_default(scenario, scenario.calibrated_path), cal)
    variants = {}
    for name, variant in scenario.variants.items():
        variants[name], _ = run_inputs(apply_variant(scenario, variant.set), cal)
    return ScenarioResult(scenario, computed, details, uncalibrated, variants)


__all__ = ["ScenarioResult", "reproduce", "run", "validate"]


def reproduce(
    name_or_path: str,
    overrides: list[str] | None = None,
    calibration: Calibration | Literal["builtin"] | None = "builtin",
) -> ScenarioResult:
    """Load a built-in or user scenario, apply `--set`-style overrides, and run it."""
    from infercost.scenario.loader import load

    return run(load(name_or_path, overrides), calibration)
