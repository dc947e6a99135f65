"""The scenario file format, validated with pydantic at the border.

A scenario holds `inputs` (everything the engine reads), `provenance` (for every input the
file sets: stated by a source, derived by arithmetic, calibrated to a measurement, or a
default we chose), `published` (figures a source reported, only ever compared against),
`sources`, optional `variants` (named sets of dotted-path overrides, e.g. the same
traffic on other hardware) and optional `ranges` (uncertain inputs by dotted path, each a
distribution with its sources, sampled by `--samples`). `base: NAME` starts from another
scenario and overrides it (a base's ranges are not inherited: they belong to its inputs).
Unknown keys are errors, so a typo fails loudly.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from infercost.errors import InputError
from infercost.limits import MAX_BATCHED_TOKENS, MAX_REPLICA_GPUS, MAX_SEQUENCES, MAX_TOKENS
from infercost.perf.deployment import Efficiency

BASES = ("stated", "derived", "calibrated", "default", "override")
_EFF = Efficiency()


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ModelIn(Strict):
    name: str
    weight_precision: str = "bf16"
    kv_precision: str | None = None
    compute_precision: str | None = None


class HardwareIn(Strict):
    gpu: str
    server: str | None = None


class ParallelIn(Strict):
    tp: int = Field(1, ge=1, le=MAX_REPLICA_GPUS)
    pp: int = Field(1, ge=1, le=MAX_REPLICA_GPUS)
    dp_attention: int = Field(1, ge=1, le=MAX_REPLICA_GPUS)
    ep: int = Field(1, ge=1, le=MAX_REPLICA_GPUS)
    # MoE routing across the EP ranks (perf/moe.py): a balancer, none, or even (unset).
    expert_balance: Literal["balanced", "none"] | None = None


class SpeculativeIn(Strict):
    """Speculative decoding (perf/speculative.py): k drafts, τ (or a) accepted, draft cost."""

    method: Literal["mtp", "eagle", "draft", "ngram"]
    draft_tokens: int = Field(ge=1, le=16)
    acceptance_length: float | None = Field(None, ge=1)
    acceptance_rate: float | None = Field(None, ge=0, le=1)
    draft_cost: float | None = Field(None, ge=0, le=1)


class EfficiencyIn(Strict):
    # Fitted factors: None means "from the calibration file for this GPU and engine" (or
    # the perf defaults when calibration is off).
    compute: float | None = Field(None, gt=0, le=1)
    memory: float | None = Field(None, gt=0, le=1)
    attention_memory: float | None = Field(None, gt=0, le=1)
    attention_compute: float | None = Field(None, gt=0, le=1)  # None: the matmuls' compute
    step_overhead_s: float | None = Field(None, ge=0)
    token_overhead_s: float | None = Field(None, ge=0)
    link: float = Field(_EFF.link, gt=0, le=1)
    collective_latency_s: float = Field(_EFF.collective_latency_s, ge=0)
    comm_overlap: float = Field(_EFF.comm_overlap, ge=0, le=1)
    # Engine settings: None means the engine's default (see `infercost catalog engines`).
    memory_reserve_fraction: float | None = Field(None, ge=0, lt=1)
    max_batched_tokens: int | None = Field(None, ge=1, le=MAX_BATCHED_TOKENS)


class ServingIn(Strict):
    engine: str | None = None  # engine family for calibrated factors (vllm, sglang, ...)
    concurrency: int | None = Field(None, ge=1, le=MAX_SEQUENCES)
    target_interactivity_tokens_per_s: float | None = Field(None, gt=0)
    # The engine's batch cap per replica; None: the engine's (per attention-DP copy).
    max_concurrency: int | None = Field(None, ge=1, le=MAX_SEQUENCES)
    slo: str | None = None  # latency targets `infercost simulate` checks: "ttft_p99=2s,..."
    speculative: SpeculativeIn | None = None

    @field_validator("slo")
    @classmethod
    def _readable_slo(cls, value: str | None) -> str | None:
        from infercost.records import parse_slos

        try:
            parse_slos(value)
        except InputError as exc:
            raise ValueError(exc.message) from None
        return value


class WorkloadIn(Strict):
    daily_users: float | None = Field(None, gt=0)
    queries_per_user_per_day: float | None = Field(None, gt=0)
    queries_per_second: float | None = Field(None, gt=0)
    queries_per_day: float | None = Field(None, gt=0)
    input_tokens: float = Field(ge=0, le=MAX_TOKENS)
    output_tokens: float = Field(ge=1, le=MAX_TOKENS)
    input_tokens_per_day: float | None = Field(None, gt=0)
    output_tokens_per_day: float | None = Field(None, gt=0)
    peak_to_average: float = Field(1.0, ge=1)
    target_utilisation: float = Field(1.0, gt=0, le=1)
    cached_input_fraction: float = Field(0.0, ge=0, lt=1)

    @model_validator(mode="after")
    def _one_volume(self) -> WorkloadIn:
        by_users = self.daily_users is not None or self.queries_per_user_per_day is not None
        if by_users and (self.daily_users is None or self.queries_per_user_per_day is None):
            raise ValueError("daily_users and queries_per_user_per_day go together")
        given = [
            by_users,
            self.queries_per_second is not None,
            self.queries_per_day is not None,
            self.output_tokens_per_day is not None,
        ]
        if sum(given) != 1:
            raise ValueError(
                "give exactly one volume: daily_users + queries_per_user_per_day, "
                "queries_per_second, queries_per_day, or input_tokens_per_day + "
                "output_tokens_per_day"
            )
        return self


class CostIn(Strict):
    mode: Literal["rent", "own"] = "rent"
    usd_per_gpu_hour: float | None = Field(None, gt=0)
    owner_profile: str = "hyperscaler-2023"
    server_price_usd: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _price(self) -> CostIn:
        if self.mode == "rent" and self.usd_per_gpu_hour is None:
            raise ValueError("usd_per_gpu_hour is required when mode is rent")
        return self


class EconomicsIn(Strict):
    """Search economics: what a query earns and costs before the LLM is added."""

    revenue_usd_per_year: float = Field(gt=0)
    existing_cost_usd_per_query: float = Field(ge=0)
    tax_rate: float = Field(0.0, ge=0, lt=1)
    alternative_queries_per_year: dict[str, float] = Field(default_factory=dict)


class PricingIn(Strict):
    """API list prices, to turn served tokens into revenue."""

    usd_per_million_input_cached: float = Field(ge=0)
    usd_per_million_input_uncached: float = Field(ge=0)
    usd_per_million_output: float = Field(ge=0)


class PrefillPoolIn(Strict):
    """The prefill pool of a disaggregated deployment (decode uses the top-level layout)."""

    parallelism: ParallelIn = ParallelIn()
    efficiency: EfficiencyIn = EfficiencyIn()


class PlanIn(Strict):
    """The question `infercost plan SCENARIO` asks of the scenario's model and traffic.

    Each field is a default the command line can override; an empty list allows every
    option that applies. The traffic, lengths (as means, unless given as length specs
    here), engine, cost mode and prices come from `inputs`.
    """

    slo: str | None = None  # default: serving.slo
    goodput: float | None = Field(None, gt=0, lt=1)
    min_interactivity: float | None = Field(None, gt=0)
    gpus: list[str] = Field(default_factory=list)
    servers: list[str] = Field(default_factory=list)
    precisions: list[str] = Field(default_factory=list)
    kv_precisions: list[str] = Field(default_factory=list)
    gpus_per_replica: int | None = Field(None, ge=1, le=MAX_REPLICA_GPUS)
    max_gpus_per_replica: int | None = Field(None, ge=1, le=MAX_REPLICA_GPUS)
    max_gpus: int | None = Field(None, ge=1)
    prices: dict[str, float] = Field(default_factory=dict)  # accelerator → $/GPU-hour
    objective: Literal["usd_per_month", "gpus", "energy", "usd_per_million_tokens"] | None = None
    arrival: Literal["poisson", "gamma"] | None = None
    burstiness: float | None = Field(None, gt=0, le=100)
    input_tokens: str | None = None  # a length spec: N, uniform:A:B, lognormal:MEAN:SIGMA
    output_tokens: str | None = None
    router: Literal["round-robin", "least-outstanding"] | None = None
    verify: int | None = Field(None, ge=0)
    seed: int | None = Field(None, ge=0)
    # A day of traffic: diurnal, sinusoid:AMPLITUDE[:PEAK_HOUR], a file, or 24 hourly rates
    profile: str | list[float] | None = None
    min_replicas: int | None = Field(None, ge=1)  # autoscaling over that day
    scale_up_delay: float | None = Field(None, ge=0, le=3600)  # s, a replica's cold start
    headroom: float | None = Field(None, ge=0, le=10)

    @field_validator("prices")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        for gpu, price in value.items():
            if not price > 0:
                raise ValueError(f"{gpu}: a price must be > 0 $/GPU-hour")
        return value


class Inputs(Strict):
    model: ModelIn
    hardware: HardwareIn
    parallelism: ParallelIn = ParallelIn()
    efficiency: EfficiencyIn = EfficiencyIn()
    serving: ServingIn = ServingIn()
    workload: WorkloadIn
    cost: CostIn
    economics: EconomicsIn | None = None
    pricing: PricingIn | None = None
    prefill: PrefillPoolIn | None = None


class ProvenanceIn(Strict):
    basis: Literal["stated", "derived", "calibrated", "default", "override"]
    source: str = Field(min_length=1)
    note: str = ""


BOUNDS = ("low", "mode", "high", "median", "p90")
RangeKind = Literal["uniform", "triangular", "lognormal"]
SHAPES: dict[tuple[str, ...], RangeKind] = {
    ("high", "low"): "uniform",
    ("high", "low", "mode"): "triangular",
    ("median", "p90"): "lognormal",
}


class RangeIn(Strict):
    """An uncertain input: {low, high} (uniform), {low, mode, high} (triangular) or
    {median, p90} (lognormal), with its source (one id, or one per bound) and a note."""

    low: float | None = None
    mode: float | None = None
    high: float | None = None
    median: float | None = None
    p90: float | None = None
    source: str | dict[str, str]
    note: str = Field(min_length=1)

    @property
    def given(self) -> tuple[str, ...]:
        return tuple(sorted(b for b in BOUNDS if getattr(self, b) is not None))

    @property
    def kind(self) -> RangeKind:
        return SHAPES[self.given]

    @model_validator(mode="after")
    def _shape(self) -> RangeIn:
        if self.given not in SHAPES:
            got = ", ".join(self.given) or "no bound"
            raise ValueError(
                "give {low, high} (uniform), {low, mode, high} (triangular) or {median, p90} "
                f"(lognormal), not {got}"
            )
        low, high = self.low, self.high
        if low is not None and high is not None and not low <= high:
            raise ValueError(f"low ({low:g}) must be ≤ high ({high:g})")
        mode = self.mode
        if mode is not None and low is not None and high is not None and not low <= mode <= high:
            raise ValueError(f"mode ({mode:g}) must be within [{low:g}, {high:g}]")
        if self.median is not None and self.p90 is not None:
            if not self.median > 0:
                raise ValueError(f"a lognormal's median must be > 0, got {self.median:g}")
            if not self.p90 > self.median:
                raise ValueError(f"p90 ({self.p90:g}) must be > the median ({self.median:g})")
        if isinstance(self.source, dict) and set(self.source) != set(self.given):
            raise ValueError(f"source: name one per bound ({', '.join(self.given)})")
        return self

    @property
    def sources(self) -> dict[str, str]:
        """Each bound's source id."""
        if isinstance(self.source, dict):
            return dict(self.source)
        return dict.fromkeys(self.given, self.source)


class PublishedIn(Strict):
    value: float
    source: str = ""
    note: str = ""


class SourceIn(Strict):
    id: str
    url: str
    title: str = ""
    as_of: str = ""

    @field_validator("as_of", mode="before")
    @classmethod
    def _date_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, date) else value


class VariantIn(Strict):
    """Dotted-path overrides of the scenario's inputs, each with its provenance."""

    title: str = ""
    set: dict[str, Any]
    provenance: dict[str, ProvenanceIn] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _sourced(self) -> VariantIn:
        missing = sorted(set(self.set) - set(self.provenance))
        if missing:
            raise ValueError(f"no provenance for {', '.join(missing)}")
        return self


class ImpliedIn(Strict):
    """A published figure and the inputs to solve for, one at a time, so that the computation
    gives that figure (`scenario.implied`)."""

    figure: str
    inputs: list[str] = Field(min_length=1, max_length=8)


class Scenario(Strict):
    scenario: str
    title: str
    description: str = ""
    base: str | None = None
    inputs: Inputs
    provenance: dict[str, ProvenanceIn] = Field(default_factory=dict)
    published: dict[str, PublishedIn] = Field(default_factory=dict)
    sources: list[SourceIn] = Field(default_factory=list)
    variants: dict[str, VariantIn] = Field(default_factory=dict)
    plan: PlanIn | None = None
    ranges: dict[str, RangeIn] = Field(default_factory=dict)  # uncertain inputs, by path
    implied: ImpliedIn | None = None  # what a published figure needs each input to be
    notes: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _implied_names_a_published_figure(self) -> Scenario:
        if self.implied is not None and self.implied.figure not in self.published:
            known = ", ".join(self.published) or "none"
            raise ValueError(
                f"implied.figure {self.implied.figure!r} is not a published figure ({known})"
            )
        return self

    @model_validator(mode="after")
    def _one_calibration(self) -> Scenario:
        calibrated = self._fitted_here()
        if len(calibrated) > 1:
            raise ValueError(f"at most one calibrated input is allowed, got {calibrated}")
        return self

    def _fitted_here(self) -> list[str]:
        """Inputs this scenario fitted to its published figures.

        A calibrated efficiency factor left empty (null) comes from the calibration file,
        fitted to benchmarks rather than to this scenario, and is not counted.
        """
        dumped = self.inputs.model_dump()
        out = []
        for path, prov in self.provenance.items():
            if prov.basis != "calibrated":
                continue
            node: Any = dumped
            for part in path.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            if node is not None or not path.startswith("efficiency."):
                out.append(path)
        return out

    @property
    def calibrated_path(self) -> str | None:
        fitted = self._fitted_here()
        return fitted[0] if fitted else None
