"""`simulate`: a fleet from flags, or a scenario's fleet at its peak, request by request."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from infercost.api.models import SimulateRequest, parse
from infercost.api.options import REQUEST_FIELDS, calibration_choice, output_file
from infercost.errors import InputError, renamed
from infercost.evaluate.config import CalibrationChoice, Config, resolve
from infercost.records import shape


@dataclass(frozen=True)
class SimulationResult:
    summary: dict[str, Any]
    records: Any  # infercost.records.Records
    records_path: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return self.summary


SCENARIO_SETS = {
    "tp": "parallelism.tp",
    "precision": "model.weight_precision",
    "kv_precision": "model.kv_precision",
    "engine": "serving.engine",
}
SCENARIO_REFUSES = {
    "model": "the scenario names its model; use set model.name=…",
    "gpu": "the scenario names its hardware; use set hardware.gpu=…",
    "gpus": "the scenario states its layout; use tp (or set parallelism.tp=…)",
    "pp": "the scenario states its layout; use set parallelism.pp=…",
    "ep": "the scenario states its layout; use set parallelism.ep=…",
    "dp_attention": "the scenario states its layout; use set parallelism.dp_attention=…",
    "rate": "the scenario sets its own traffic; use set workload.queries_per_second=…",
    "trace": "the scenario sets its own traffic; replay a trace with a model and a gpu",
    "input_tokens": "the scenario sets its lengths; use set workload.input_tokens=…",
    "output_tokens": "the scenario sets its lengths; use set workload.output_tokens=…",
}


def simulate(
    request: SimulateRequest | dict[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
    **fields: Any,
) -> SimulationResult:
    """A fleet simulated request by request: latency percentiles, goodput, queues, KV."""
    from dataclasses import replace

    from infercost.records import parse_slos
    from infercost.sim.engine import Fleet
    from infercost.sim.engine import simulate as run_simulation

    req = parse(SimulateRequest, request, **fields)
    records_path = None if req.whole_fleet else output_file(req.records, "records",
                                                            (".csv", ".parquet"))  # fmt: skip
    slos = parse_slos(req.slo)
    cal = calibration_choice(req.calibration)
    fleet_replicas: int | None = None
    scenario = _scenario(req) if req.scenario is not None else None
    _check_whole_fleet(req, scenario)
    if req.whole_fleet:
        return _whole_fleet(req, scenario, cal, slos, progress)
    if scenario is not None and scenario.inputs.prefill is not None:
        return _pools(req, scenario, cal, slos, records_path, progress)
    if req.prefill_replicas is not None:
        raise InputError("prefill_replicas", "sizes the prefill pool of a disaggregated scenario")
    if scenario is not None:
        plan = _scenario_simulation(req, scenario, cal)
        r, reqs, fleet, fleet_replicas = (
            plan.resolved,
            plan.requests,
            plan.fleet,
            plan.fleet_replicas,
        )
        slos = slos or plan.slos
    else:
        r, reqs = _flag_simulation(req, cal)
        fleet = Fleet.of(
            r, req.replicas or 1, req.router or "round-robin", req.cached_fraction or 0
        )
    if req.scheduler_steps is not None:
        fleet = replace(fleet, scheduler_steps=req.scheduler_steps)
    if req.prefill_apart is not None:
        fleet = replace(fleet, mixed_prefill=not req.prefill_apart)
    if req.max_seqs is not None:
        fleet = replace(fleet, max_seqs=req.max_seqs)
    result = run_simulation(
        r.deployment, reqs.arrival_s, reqs.input_tokens, reqs.output_tokens, fleet, progress
    )
    summary = result.summary(slos)
    summary["offered_rate_rps"] = reqs.rate_per_s
    summary["distributions"] = shape(result.records)
    summary["deployment"] = r.to_dict()
    if _not_simulated(r.deployment):
        summary["warnings"] = [*summary.get("warnings", []), *_not_simulated(r.deployment)]
    summary["fleet"] = {
        "replicas_simulated": fleet.replicas,
        "replicas_in_fleet": fleet_replicas or fleet.replicas,
        "router": fleet.router,
        "max_seqs": fleet.max_seqs,
        "scheduler_steps": fleet.scheduler_steps,
        "mixed_prefill": fleet.mixed_prefill,
        "gpus_per_replica": r.gpus,
    }
    if records_path is not None:
        _write_records(result.records, records_path)
    return SimulationResult(summary, result.records, records_path)


def _scenario(req: SimulateRequest) -> Any:
    """The scenario, its overrides applied; the options it sets itself refused."""
    from infercost.scenario.loader import load

    for name, why in SCENARIO_REFUSES.items():
        if getattr(req, name) is not None:
            raise InputError(name, why)
    sets = [f"{path}={getattr(req, name)}" for name, path in SCENARIO_SETS.items()]
    sets = [
        s for s, name in zip(sets, SCENARIO_SETS, strict=True) if getattr(req, name) is not None
    ]
    assert req.scenario is not None
    return load(req.scenario, [*req.set, *sets])


POOLS_REFUSE = {
    "max_seqs": "sets one replica's batch; each pool of a disaggregated scenario has its own",
    "scheduler_steps": "applies to one pool; a disaggregated scenario has two",
    "prefill_apart": "applies to one pool; a disaggregated scenario's prefill pool only prefills",
    "cached_fraction": "the scenario states its hits: set workload.cached_input_fraction=…",
}


def _pools(
    req: SimulateRequest,
    scenario: Any,
    cal: CalibrationChoice,
    slos: list[Any],
    records_path: Path | None,
    progress: Callable[[int, int], None] | None,
) -> SimulationResult:
    """A disaggregated scenario at its peak: its prefill pool and its decode pool."""
    from infercost.perf.calibration import load_calibration
    from infercost.scenario.simulation import pools_simulation
    from infercost.sim.disaggregated import simulate_disaggregated

    for name, why in POOLS_REFUSE.items():
        if getattr(req, name) is not None:
            raise InputError(name, why)
    plan = pools_simulation(
        scenario,
        load_calibration() if cal == "builtin" else cal,
        n=req.requests,
        seed=req.seed,
        prefill_replicas=req.prefill_replicas,
        decode_replicas=req.replicas,
        router=req.router or "least-outstanding",
        arrival=req.arrival,
        burstiness=req.burstiness,
    )
    reqs = plan.requests
    result = simulate_disaggregated(
        plan.prefill, plan.decode, reqs.arrival_s, reqs.input_tokens, reqs.output_tokens,
        progress, decode_share=plan.decode_share, seed=req.seed,
    )  # fmt: skip
    summary = result.summary(slos or plan.slos)
    summary["offered_rate_rps"] = reqs.rate_per_s
    fleet = plan.fleet_dict()
    for name, pool in (("prefill", plan.prefill), ("decode", plan.decode)):
        summary["pools"][name] = {
            **pool.to_dict(),
            "replicas": fleet[name]["replicas_in_fleet"],
            **{k: v for k, v in fleet[name].items() if k != "replicas_in_fleet"},
            **{k: v for k, v in summary["pools"][name].items() if k != "replicas"},
        }
    summary["deployment"] = {
        "prefill": plan.prefill_resolved.to_dict(),
        "decode": plan.decode_resolved.to_dict(),
    }
    filling = _pool_warnings(summary, reqs, plan)
    summary["distributions"] = shape(result.records)
    summary["warnings"] = filling + _growing(result.records, decode=not filling)
    summary["warnings"] += _not_simulated(plan.decode_resolved.deployment)
    if records_path is not None:
        _write_records(result.records, records_path)
    return SimulationResult(summary, result.records, records_path)


def _not_simulated(dep: Any) -> list[str]:
    """What the deployment states that the simulator does not model, said rather than
    silently dropped: speculative decoding (the simulator decodes one token a step)."""
    spec = dep.speculation
    if spec.draft_tokens <= 0:
        return []
    return [
        f"the deployment speculates ({spec.method}, {spec.draft_tokens} draft token(s), "
        f"{spec.acceptance_length:g} tokens a verify step) but the simulator decodes one token "
        "a step: its TPOT is without speculation (estimate and reproduce include it)"
    ]


def _pool_warnings(summary: dict[str, Any], reqs: Any, plan: Any) -> list[str]:
    """A run too short for the decode pool to fill is said to be one."""
    e2e = summary["e2e_s"]["p50"]
    span = float(reqs.arrival_s.max() - reqs.arrival_s.min())
    if e2e is not None and span < 3 * e2e:
        need = int(len(reqs.arrival_s) * 3 * e2e / max(span, 1e-9)) + 1
        return [
            f"the arrivals span {span:.0f} s, under three request lifetimes "
            f"({3 * e2e:.0f} s): the decode pool was still filling; give --requests ≥ {need:,} "
            "for its steady state"
        ]
    return []


GROWTH = 1.5  # the last third's median over the first's that says a queue is growing


def _growing(records: Any, decode: bool = True) -> list[str]:
    """A pool whose queue grows through the run (its load at or past what it serves) has no
    steady state: its percentiles are the run's length, not the fleet's. Said when the median
    TTFT (prefill) or time per output token (decode) of the last third of arrivals is 1.5 ×
    the first third's (decode's only once the run is long enough for the pool to fill)."""
    order = np.argsort(records.arrival_s, kind="stable")
    ok = records.ok[order]
    third = len(order) // 3
    out = []
    for pool, metric, fix in (("prefill", records.ttft_s, "--prefill-replicas"),
                              ("decode", records.tpot_s, "--replicas")):  # fmt: skip
        values = metric[order]
        first = values[:third][ok[:third]]
        last = values[-third:][ok[-third:]]
        first, last = first[np.isfinite(first)], last[np.isfinite(last)]
        if third < 100 or not len(first) or not len(last) or (pool == "decode" and not decode):
            continue
        a, b = float(np.median(first)), float(np.median(last))
        if a > 0 and b >= GROWTH * a:
            out.append(
                f"the {pool} pool's queue grows through the run (median "
                f"{'TTFT' if pool == 'prefill' else 'TPOT'} {a:.3g} s in the first third of "
                f"arrivals, {b:.3g} s in the last): its load is at or past what it serves, so "
                f"its percentiles depend on the run's length; add replicas ({fix})"
            )
    return out


WHOLE_FLEET_ONLY = ("hours", "profile", "workers", "ray")


def _check_whole_fleet(req: SimulateRequest, scenario: Any) -> None:
    """The whole-fleet options go together, with a colocated scenario, before any work."""
    if not req.whole_fleet:
        for name in WHOLE_FLEET_ONLY:
            if getattr(req, name) is not None:
                raise InputError(name, "applies to a whole-fleet run: add --whole-fleet")
        return
    if scenario is None:
        raise InputError("whole_fleet", "simulates a scenario's fleet: give a scenario")
    if scenario.inputs.prefill is not None:
        raise InputError("whole_fleet", "simulates colocated fleets; this one is disaggregated")
    for name in ("replicas", "scheduler_steps", "trace"):
        if getattr(req, name) is not None:
            raise InputError(name, "a whole-fleet run takes the scenario's fleet as it is")
    if req.arrival != "poisson":
        raise InputError("arrival", "a whole-fleet run draws Poisson arrivals (with a profile)")
    if req.requests != SimulateRequest.model_fields["requests"].default:
        raise InputError("requests", "a whole fleet's requests are its traffic over the hours")
    if req.records is not None and not Path(req.records).is_dir():
        raise InputError("records", f"a whole fleet writes one Parquet file per shard into a "
                         f"folder; {req.records} is not one")  # fmt: skip


def _whole_fleet(
    req: SimulateRequest,
    scenario: Any,
    cal: CalibrationChoice,
    slos: list[Any],
    progress: Callable[[int, int], None] | None,
) -> SimulationResult:
    """Every replica of the scenario's fleet (planning.whole_fleet): the day's traffic with
    a profile (its mean the scenario's daily average), else flat at its peak."""
    import time

    from infercost.planning import whole_fleet
    from infercost.planning.day import profile_of
    from infercost.planning.runner import Runner
    from infercost.scenario.engine import traffic
    from infercost.units import SECONDS_PER_HOUR

    runner = Runner(workers=req.workers or (os.cpu_count() or 1), ray=req.ray)
    runner.check()
    plan = _scenario_simulation(req.model_copy(update={"requests": 1000}), scenario, cal)
    w = scenario.inputs.workload
    profile = profile_of(req.profile)
    average = traffic(scenario.inputs).queries_per_s
    hours = req.hours or (24.0 if profile is not None else 1.0)
    flow = whole_fleet.Traffic(
        rate_per_s=average if profile is not None else average * w.peak_to_average,
        duration_s=hours * SECONDS_PER_HOUR,
        hourly=None if profile is None else profile.hourly,
        input_spec=str(w.input_tokens),
        output_spec=str(w.output_tokens),
    )
    fleet = replace(plan.fleet, replicas=plan.fleet_replicas)
    parts = whole_fleet.shards(plan.resolved.deployment, fleet, flow, runner.workers, req.seed,
                               tuple(slos or plan.slos), req.records)  # fmt: skip
    clock = time.perf_counter()
    summary = whole_fleet.run(parts, runner, progress)
    seconds = time.perf_counter() - clock
    summary["deployment"] = plan.resolved.to_dict()
    summary["fleet"] = {"replicas_simulated": fleet.replicas, "replicas_in_fleet": fleet.replicas,
                        "router": fleet.router, "max_seqs": fleet.max_seqs,
                        "gpus_per_replica": plan.resolved.gpus}  # fmt: skip
    summary["whole_fleet"] = {
        **summary.pop("shards"),
        "hours": hours,
        "profile": None if profile is None else profile.source,
        "rate_per_s": flow.rate_per_s,
        "runner": runner.name,
        "seconds": seconds,
        "requests_per_s_per_worker": summary["requests"] / seconds / runner.workers,
    }
    if not summary["whole_fleet"]["exact"]:
        summary["warnings"] = [
            f"least-outstanding routing needs every replica's queue: here it is round-robin "
            f"across {summary['whole_fleet']['groups']} groups, then least-outstanding among "
            f"each group's {fleet.replicas // summary['whole_fleet']['groups']} replicas"
        ]
    return SimulationResult(summary, None)


def _scenario_simulation(req: SimulateRequest, scenario: Any, cal: CalibrationChoice) -> Any:
    from infercost.perf.calibration import load_calibration
    from infercost.scenario.simulation import simulation_of

    return simulation_of(
        scenario,
        load_calibration() if cal == "builtin" else cal,
        n=req.requests,
        seed=req.seed,
        replicas=req.replicas,
        router=req.router or "least-outstanding",
        arrival=req.arrival,
        burstiness=req.burstiness,
        cached_fraction=req.cached_fraction,
    )


def _flag_simulation(req: SimulateRequest, cal: CalibrationChoice) -> Any:
    from infercost.workload.requests import make_requests

    if req.set:
        raise InputError("set", "overrides a scenario's inputs; give a scenario")
    if req.model is None or req.gpu is None:
        raise InputError(
            "model" if req.model is None else "gpu", "give a scenario, or a model and a gpu"
        )
    pp, dp = req.pp or 1, req.dp_attention or 1
    tp = req.tp or (req.gpus // (pp * dp) if req.gpus else 1)
    if req.gpus is not None and req.gpus != tp * pp * dp:
        raise InputError(
            "gpus", f"must equal tp × pp × dp_attention ({tp} × {pp} × {dp} = {tp * pp * dp})"
        )
    if req.trace is not None and req.rate is not None:
        raise InputError("rate", "a trace sets its own schedule; drop the rate")
    if req.trace is not None and (req.input_tokens or req.output_tokens):
        raise InputError("input_tokens", "a trace sets its own lengths")
    config = Config(
        model=req.model,
        gpu=req.gpu,
        tp=tp,
        pp=pp,
        ep=req.ep or 1,
        dp_attention=dp,
        weight_precision=req.precision or "bf16",
        kv_precision=req.kv_precision,
        engine=req.engine,
        max_sequences=req.max_seqs,
    )
    with renamed(REQUEST_FIELDS):
        r = resolve(config, cal)
    reqs = make_requests(
        rate=req.rate,
        n=req.requests,
        input_spec=req.input_tokens or "1000",
        output_spec=req.output_tokens or "200",
        arrival=req.arrival,
        burstiness=req.burstiness,
        seed=req.seed,
        trace=Path(req.trace) if req.trace else None,
    )
    return r, reqs


def _write_records(records: Any, path: Path) -> None:
    try:
        if path.suffix.lower() == ".csv":
            records.write_csv(path)
        else:
            records.write_parquet(path)
    except OSError as exc:
        raise InputError("records", f"cannot write {path}: {exc.strerror or exc}") from None
