"""A replica's configuration, resolved in exactly one place into a deployment.

A `Config` names what a replica is: the model, the accelerator (and the server that holds
it), the layout (tensor, pipeline, expert and attention-data parallelism), the precisions,
the engine and its batch cap. `resolve` turns it into a checked `Deployment` with the
efficiency factors every verb uses, layered in this order:

    perf defaults (or a base given by the caller, as validation's fit does)
    → factors fitted for this hardware family and engine (the calibration, when one is used)
    → the engine's scheduler defaults (memory kept back, tokens per step)
    → whatever the configuration states

and records which calibration group supplied the fitted factors.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

from infercost.catalog.engines import Engine, engine
from infercost.catalog.hardware import Server, accelerator, server, server_for
from infercost.catalog.models import model
from infercost.errors import InputError
from infercost.limits import MAX_SCHEDULER_STEPS, MAX_SEQUENCES
from infercost.perf.calibration import Calibration, load_calibration
from infercost.perf.deployment import Deployment, Efficiency, build
from infercost.perf.speculative import NONE, Speculation, speculation

EFFICIENCY_FIELDS = tuple(f.name for f in fields(Efficiency))

CalibrationChoice = Calibration | Literal["builtin"] | None


def calibration_of(choice: CalibrationChoice) -> Calibration | None:
    """The calibration a choice names: the built-in fit, a loaded one, or none."""
    return load_calibration() if choice == "builtin" else choice


@dataclass(frozen=True)
class Config:
    """What one replica is (see the module docstring); names are catalog ids or aliases."""

    model: str
    gpu: str
    server: str | None = None
    tp: int = 1
    pp: int = 1
    dp_attention: int = 1
    ep: int = 1
    weight_precision: str = "bf16"
    kv_precision: str | None = None
    compute_precision: str | None = None
    engine: str | None = None
    max_sequences: int | None = None  # per replica; None: the engine's, per attention copy
    scheduler_steps: int = 1  # vLLM multi-step: decode steps planned at once
    mixed_prefill: bool | None = None  # None: the engine's
    efficiency: tuple[tuple[str, float], ...] = ()  # stated factors, over any calibration
    # Speculative decoding (perf/speculative.py); no method: none.
    spec_method: str | None = None  # mtp | eagle | draft | ngram
    spec_draft_tokens: int = 0  # k, tokens drafted per verify step
    spec_acceptance_length: float | None = None  # τ, tokens emitted per verify step
    spec_acceptance_rate: float | None = None  # a, when τ is not stated
    spec_draft_cost: float | None = None  # the drafter's step ÷ the target's (None: method's)
    expert_balance: str | None = None  # perf/moe.py: balanced | none; None: even routing

    @property
    def gpus(self) -> int:
        return self.tp * self.pp * self.dp_attention

    def with_(self, **changes: Any) -> Config:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["efficiency"] = dict(self.efficiency)
        return out


def stated(**factors: float | None) -> tuple[tuple[str, float], ...]:
    """Efficiency factors for `Config.efficiency`, the None ones left out."""
    unknown = sorted(set(factors) - set(EFFICIENCY_FIELDS))
    if unknown:
        allowed = ", ".join(EFFICIENCY_FIELDS)
        raise InputError("efficiency", f"unknown factor {unknown[0]!r}; allowed: {allowed}")
    return tuple((k, float(v)) for k, v in factors.items() if v is not None)


@dataclass(frozen=True)
class Resolved:
    """A configuration with everything looked up: the deployment and the engine's rules."""

    config: Config
    deployment: Deployment
    engine: Engine
    server: Server | None
    calibration_group: str  # the fitted group that supplied factors, or "default"
    max_sequences: int
    mixed_prefill: bool
    scheduler_steps: int
    uncalibrated: str | None = None  # why the factors are not this hardware's own, or None

    @property
    def gpus(self) -> int:
        return self.deployment.gpus

    @property
    def gpus_per_server(self) -> int:
        return self.server.accelerators_per_server if self.server else self.deployment.gpus_per_node

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.deployment.to_dict(),
            "server": self.server.id if self.server else None,
            "engine": self.engine.id,
            "max_sequences": self.max_sequences,
            "mixed_prefill": self.mixed_prefill,
            "scheduler_steps": self.scheduler_steps,
        }

    def efficiency_dict(self) -> dict[str, Any]:
        return {**asdict(self.deployment.efficiency), "calibration_group": self.calibration_group}


def resolve(
    config: Config, calibration: CalibrationChoice = "builtin", base: Efficiency | None = None
) -> Resolved:
    """The one place a configuration becomes a deployment (see the module docstring)."""
    arch = model(config.model)
    gpu = accelerator(config.gpu)
    node = server(config.server) if config.server else server_for(gpu)
    eng = engine(config.engine)
    eff = base or Efficiency()
    group = "default"
    cal = calibration_of(calibration)
    uncalibrated = None
    if cal is not None:
        eff, group = cal.resolve(gpu, eng.id if config.engine else None, eff)
        uncalibrated = _uncalibrated(gpu.family, group, cal.provenance)
    eff = _over(eff, config, eng)
    _check_counts(config)
    dep = build(
        arch,
        gpu,
        tp=config.tp,
        pp=config.pp,
        dp_attention=config.dp_attention,
        ep=config.ep,
        precision_name=config.weight_precision,
        kv_precision_name=config.kv_precision,
        compute_precision_name=config.compute_precision,
        efficiency=eff,
        server=node if config.server else None,
        speculation=_speculation(config, arch.num_layers),
        expert_balance=config.expert_balance,
    )
    cap = config.max_sequences or eng.max_sequences * config.dp_attention
    return Resolved(
        config=config,
        deployment=dep,
        engine=eng,
        server=node,
        calibration_group=group,
        max_sequences=min(cap, MAX_SEQUENCES),
        mixed_prefill=eng.mixed_prefill if config.mixed_prefill is None else config.mixed_prefill,
        scheduler_steps=config.scheduler_steps,
        uncalibrated=uncalibrated,
    )


def _uncalibrated(family: str, group: str, provenance: dict[str, Any]) -> str | None:
    """A calibrated prediction for hardware the calibration has no group for: said, with how
    far such predictions miss on the hardware that was measured (validate, out of sample)."""
    if group.endswith(f"/{family}"):
        return None
    miss = provenance.get("out_of_sample_mdape_percent") or {}
    error = ", ".join(f"{v:g} % ({k})" for k, v in miss.items())
    return (
        f"uncalibrated for {family} hardware: the calibration has no group fitted on it, so "
        f"its efficiency factors are the {group!r} group's, fitted on other hardware"
        + (f", where validate's out-of-sample median error is {error}" if error else "")
        + "; expect at least that error here"
    )


def rebase(r: Resolved, base: Efficiency) -> Resolved:
    """`resolve(r.config, None, base)` without looking anything up again, for a caller that
    resolves one configuration over many trial factors (validation's fit): `r` must have been
    resolved without fitted factors, and only the efficiency changes."""
    if r.calibration_group != "default":
        raise ValueError(f"rebase needs a configuration resolved without a calibration, not {r}")
    eff = _over(base, r.config, r.engine)
    eff.check()
    return replace(r, deployment=replace(r.deployment, efficiency=eff))


def _over(eff: Efficiency, config: Config, eng: Engine) -> Efficiency:
    """`eff` under the engine's scheduler defaults and the factors the configuration states."""
    eff = replace(
        eff,
        memory_reserve_fraction=eng.memory_reserve_fraction,
        max_batched_tokens=eng.max_batched_tokens,
    )
    given: dict[str, Any] = dict(config.efficiency)
    if "max_batched_tokens" in given:
        given["max_batched_tokens"] = int(given["max_batched_tokens"])
    if given:
        eff = replace(eff, **given)
    return eff


def _speculation(config: Config, num_layers: int) -> Speculation:
    """The configuration's speculative decoding, or none."""
    if config.spec_method is None or config.spec_draft_tokens == 0:
        return NONE
    return speculation(
        config.spec_method,
        config.spec_draft_tokens,
        num_layers,
        length=config.spec_acceptance_length,
        rate=config.spec_acceptance_rate,
        draft_step_fraction=config.spec_draft_cost,
    )


def _check_counts(config: Config) -> None:
    if config.max_sequences is not None and not 1 <= config.max_sequences <= MAX_SEQUENCES:
        raise InputError(
            "max_sequences", f"must be in [1, {MAX_SEQUENCES:,}], got {config.max_sequences:,}"
        )
    if not 1 <= config.scheduler_steps <= MAX_SCHEDULER_STEPS:
        raise InputError(
            "scheduler_steps",
            f"must be in [1, {MAX_SCHEDULER_STEPS}], got {config.scheduler_steps}",
        )
