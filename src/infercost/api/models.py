"""What each verb accepts: pydantic request models, validated strictly at the border.

The same models serve the command line (options → request) and, next, a web API (a JSON
body → request). Unknown fields are errors, numbers must be finite, and every size has a
stated upper bound, so a bad request fails before any work starts with one message naming
the field and what is allowed (`parse`). Cross-field rules (two ways of giving the same
thing, an option that does not apply) are the verbs' own checks, in `verbs.py`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from infercost.errors import InputError
from infercost.limits import (
    MAX_CLASSES,
    MAX_DURATION_S,
    MAX_FLEET_GPUS,
    MAX_FLEET_REPLICAS,
    MAX_LEVELS,
    MAX_MEASURE_REQUESTS,
    MAX_MEASURE_TOKENS,
    MAX_OVERRIDES,
    MAX_PLAN_CANDIDATES,
    MAX_PLAN_MODELS,
    MAX_PLAN_REQUESTS,
    MAX_PLAN_SAMPLES,
    MAX_PLAN_VERIFY,
    MAX_PRICE_USD_PER_GPU_HOUR,
    MAX_QUERIES_PER_S,
    MAX_REPLICA_GPUS,
    MAX_REQUESTS,
    MAX_SAMPLES,
    MAX_SCHEDULER_STEPS,
    MAX_SEED,
    MAX_SEQUENCES,
    MAX_SIM_SEQUENCES,
    MAX_SWEEP_CELLS,
    MAX_TIMEOUT_S,
    MAX_TOKENS,
    MAX_TURNS,
    MAX_WHOLE_FLEET_HOURS,
)
from infercost.units import SECONDS_PER_DAY

Calibration = str | None  # "builtin", a path, or None for the raw perf defaults


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class EstimateRequest(Request):
    """One replica (or one per accelerator, to compare), and optionally the fleet."""

    model: str = Field(min_length=1)
    gpu: list[str] = Field(min_length=1, max_length=32)
    gpus: int | None = Field(None, ge=1, le=MAX_REPLICA_GPUS)
    tp: int | None = Field(None, ge=1, le=MAX_REPLICA_GPUS)
    pp: int = Field(1, ge=1, le=MAX_REPLICA_GPUS)
    precision: str = "bf16"
    kv_precision: str | None = None
    engine: str | None = None
    max_seqs: int | None = Field(None, ge=1, le=MAX_SEQUENCES)
    input_tokens: float = Field(1000, ge=0, le=MAX_TOKENS)
    output_tokens: float = Field(200, ge=1, le=MAX_TOKENS)
    cached_fraction: float = Field(0.0, ge=0, lt=1)
    concurrency: int | None = Field(None, ge=1, le=MAX_SEQUENCES)
    target_interactivity: float | None = Field(None, gt=0, le=1e6)
    price: float | None = Field(None, gt=0, le=MAX_PRICE_USD_PER_GPU_HOUR)
    qps: float | None = Field(None, gt=0, le=MAX_QUERIES_PER_S)
    queries_per_day: float | None = Field(None, gt=0, le=MAX_QUERIES_PER_S * SECONDS_PER_DAY)
    peak_to_average: float | None = Field(None, ge=1, le=1000)
    utilisation: float | None = Field(None, gt=0, le=1)
    calibration: Calibration = "builtin"


class ReproduceRequest(Request):
    scenario: str = Field(min_length=1)
    set: list[str] = Field(default_factory=list, max_length=MAX_OVERRIDES)
    calibration: Calibration = "builtin"
    samples: int | None = Field(None, ge=1, le=MAX_SAMPLES)  # a Monte Carlo over the ranges
    seed: int = Field(0, ge=0, le=MAX_SEED)
    range: list[str] = Field(default_factory=list, max_length=MAX_OVERRIDES)  # PATH=LOW:HIGH
    headline: str | None = Field(None, min_length=1)  # the output the tornado ranks inputs by
    variant: str | None = Field(None, min_length=1)  # one of the scenario's variants, applied


class SimulateRequest(Request):
    """A fleet from flags, or a scenario's fleet at its peak (then `set` overrides it)."""

    scenario: str | None = None
    set: list[str] = Field(default_factory=list, max_length=MAX_OVERRIDES)
    model: str | None = None
    gpu: str | None = None
    gpus: int | None = Field(None, ge=1, le=MAX_REPLICA_GPUS)
    tp: int | None = Field(None, ge=1, le=MAX_REPLICA_GPUS)
    pp: int | None = Field(None, ge=1, le=MAX_REPLICA_GPUS)
    ep: int | None = Field(None, ge=1, le=MAX_REPLICA_GPUS)
    dp_attention: int | None = Field(None, ge=1, le=MAX_REPLICA_GPUS)
    precision: str | None = None
    kv_precision: str | None = None
    engine: str | None = None
    replicas: int | None = Field(None, ge=1, le=MAX_FLEET_REPLICAS)  # flags: ≤ MAX_REPLICAS
    prefill_replicas: int | None = Field(None, ge=1, le=MAX_FLEET_REPLICAS)  # disaggregated
    router: Literal["round-robin", "least-outstanding"] | None = None
    max_seqs: int | None = Field(None, ge=1, le=MAX_SIM_SEQUENCES)
    rate: float | None = Field(None, gt=0, le=MAX_QUERIES_PER_S)
    requests: int = Field(10_000, ge=1, le=MAX_REQUESTS)
    arrival: str = "poisson"
    burstiness: float = Field(2.0, gt=0, le=100)
    input_tokens: str | None = None
    output_tokens: str | None = None
    trace: str | None = None
    cached_fraction: float | None = Field(None, ge=0, lt=1)
    scheduler_steps: int | None = Field(None, ge=1, le=MAX_SCHEDULER_STEPS)
    prefill_apart: bool | None = None
    seed: int = Field(0, ge=0, le=MAX_SEED)
    slo: str | None = None
    records: str | None = None
    calibration: Calibration = "builtin"
    # Every replica of a scenario's fleet, sharded across workers (planning.whole_fleet).
    whole_fleet: bool = False
    hours: float | None = Field(None, gt=0, le=MAX_WHOLE_FLEET_HOURS)  # simulated time
    profile: str | list[float] | None = None  # a day's shape: diurnal, sinusoid:A[:H], 24 rates
    workers: int | None = Field(None, ge=1, le=4096)
    ray: str | None = Field(None, min_length=1)  # "local", "auto" or a cluster's address


class RequestClassIn(Request):
    """One request class of a `--classes` file."""

    name: str = Field(min_length=1, max_length=64)
    share: float = Field(gt=0, le=1)
    input_tokens: int | str  # a length spec: N, uniform:A:B, lognormal:MEAN:SIGMA, file:PATH
    output_tokens: int | str
    slo: str | None = None  # its own targets (else the plan's)

    @field_validator("slo", mode="before")
    @classmethod
    def _slo_mapping(cls, value: Any) -> Any:
        """`{ttft_p99: 800ms, tpot_p99: 0.04}` reads as `ttft_p99=800ms,tpot_p99=0.04s`:
        a bare number is seconds. The text is checked where the plan reads its targets."""
        if isinstance(value, dict):
            parts = []
            for key, v in value.items():
                if isinstance(v, bool) or not isinstance(v, int | float | str):
                    raise ValueError(f"{key}: a duration such as 800ms or 0.8 (seconds)")
                parts.append(f"{key}={v}s" if isinstance(v, int | float) else f"{key}={v}")
            return ",".join(parts)
        return value


class ClassesFile(Request):
    """A `--classes` file: the request classes the traffic is a mix of."""

    classes: list[RequestClassIn] = Field(min_length=1, max_length=MAX_CLASSES)


class PlanRequest(Request):
    """The cheapest fleet that meets latency targets: from flags, or a scenario's traffic and
    `plan:` block (then these fields override it)."""

    scenario: str | None = None
    set: list[str] = Field(default_factory=list, max_length=MAX_OVERRIDES)
    model: list[str] = Field(default_factory=list, max_length=MAX_PLAN_MODELS)
    qps: float | None = Field(None, gt=0, le=MAX_QUERIES_PER_S)
    queries_per_day: float | None = Field(None, gt=0, le=MAX_QUERIES_PER_S * SECONDS_PER_DAY)
    daily_users: float | None = Field(None, gt=0, le=1e11)
    queries_per_user: float | None = Field(None, gt=0, le=1e6)
    peak_to_average: float | None = Field(None, ge=1, le=1000)
    input_tokens: str | None = None  # N, uniform:A:B, lognormal:MEAN:SIGMA, file:PATH
    output_tokens: str | None = None
    trace: str | None = None
    cached_fraction: float | None = Field(None, ge=0, lt=1)
    arrival: Literal["poisson", "gamma"] | None = None
    burstiness: float | None = Field(None, gt=0, le=100)
    slo: str | None = None
    goodput: float | None = Field(None, gt=0, lt=1)
    min_interactivity: float | None = Field(None, gt=0, le=1e6)
    gpu: list[str] = Field(default_factory=list, max_length=256)
    server: list[str] = Field(default_factory=list, max_length=256)
    gpus_per_replica: int | None = Field(None, ge=1, le=MAX_REPLICA_GPUS)
    max_gpus_per_replica: int | None = Field(None, ge=1, le=MAX_REPLICA_GPUS)
    max_gpus: int | None = Field(None, ge=1, le=MAX_FLEET_GPUS)
    precision: list[str] = Field(default_factory=list, max_length=32)
    kv_precision: list[str] = Field(default_factory=list, max_length=32)
    engine: str | None = None
    price: float | None = Field(None, gt=0, le=MAX_PRICE_USD_PER_GPU_HOUR)
    prices: dict[str, Annotated[float, Field(gt=0, le=MAX_PRICE_USD_PER_GPU_HOUR)]] = Field(
        default_factory=dict, max_length=256
    )
    own: bool | None = None
    owner_profile: str | None = None
    objective: Literal["usd_per_month", "gpus", "energy", "usd_per_million_tokens"] | None = None
    verify: int | None = Field(None, ge=0, le=MAX_PLAN_VERIFY)
    seed: int | None = Field(None, ge=0, le=MAX_SEED)
    requests: int | None = Field(None, ge=1_000, le=MAX_PLAN_REQUESTS)
    router: Literal["round-robin", "least-outstanding"] | None = None
    max_candidates: int = Field(MAX_PLAN_CANDIDATES, ge=1, le=MAX_PLAN_CANDIDATES)
    compare_api: bool = False
    disaggregated: bool | None = None  # None: considered when the targets size both pools
    classes: str | None = None  # a YAML file of request classes (a mixed fleet)
    profile: str | list[float] | None = None  # a day: diurnal, sinusoid:A[:H], a file, 24 rates
    min_replicas: int | None = Field(None, ge=1, le=MAX_FLEET_REPLICAS)  # autoscaling
    scale_up_delay: float | None = Field(None, ge=0, le=3600)  # s, a replica's cold start
    headroom: float | None = Field(None, ge=0, le=10)  # capacity above the hour's load
    frontier: str | None = None
    plot: str | None = None
    calibration: Calibration = "builtin"
    samples: int | None = Field(None, ge=1, le=MAX_PLAN_SAMPLES)  # the chosen fleet, sampled
    range: list[str] = Field(default_factory=list, max_length=MAX_OVERRIDES)  # PATH=LOW:HIGH


class MeasureRequest(Request):
    """Load levels against a live OpenAI-compatible server."""

    url: str = Field(min_length=1)
    model: str = Field(min_length=1)
    concurrency: list[int] = Field(default_factory=list, max_length=MAX_LEVELS)
    rate: list[float] = Field(default_factory=list, max_length=MAX_LEVELS)
    arrival: Literal["poisson", "gamma"] = "poisson"
    sweep: bool = False
    trace: str | None = None
    prompts: str | None = None
    requests: int = Field(100, ge=1, le=MAX_MEASURE_REQUESTS)
    duration: float | None = Field(None, gt=0, le=MAX_DURATION_S)
    input_tokens: int | str = 128  # a length spec, as simulate's: N, uniform:A:B, …
    output_tokens: int | str = 128
    tokenizer: str | None = None  # a tokenizer.json: prompt lengths in the model's tokens
    shared_prefix_tokens: int = Field(0, ge=0, le=MAX_MEASURE_TOKENS)
    prefix_groups: int = Field(1, ge=1, le=MAX_MEASURE_REQUESTS)
    turns: int = Field(1, ge=1, le=MAX_TURNS)  # requests per conversation
    ignore_eos: bool = True  # send the engine's fields for outputs of the length asked
    chat: bool = False
    extra: dict[str, Any] | None = None
    gpus: int = Field(1, ge=1, le=MAX_REPLICA_GPUS)
    price: float | None = Field(None, gt=0, le=MAX_PRICE_USD_PER_GPU_HOUR)
    gpu: str | None = None
    catalog_model: str | None = None  # these three describe the server for predictions
    precision: str | None = None
    engine: str | None = None
    slo: str | None = None
    timeout: float = Field(60.0, gt=0, le=MAX_TIMEOUT_S)
    max_error_rate: float = Field(0.1, ge=0, le=1)
    out: str | None = None
    seed: int = Field(0, ge=0, le=MAX_SEED)
    api_key: SecretStr | None = None  # sent as a bearer token; never written anywhere
    header: list[str] = Field(default_factory=list, max_length=64)  # NAME:VALUE
    api_price: (
        tuple[
            Annotated[float, Field(ge=0, le=MAX_PRICE_USD_PER_GPU_HOUR)],
            Annotated[float, Field(ge=0, le=MAX_PRICE_USD_PER_GPU_HOUR)],
        ]
        | None
    ) = None  # $ per 1M input and output tokens: a hosted endpoint's price


class CalibrateRequest(Request):
    results: str = Field(min_length=1)
    gpu: str | None = None
    model: str | None = None
    gpus: int | None = Field(None, ge=1, le=MAX_REPLICA_GPUS)
    precision: str | None = None
    engine: str | None = None
    out: str | None = None


class ValidateRequest(Request):
    data: str | None = None
    calibrated: bool = True
    plot: str | None = None
    write_calibration: str | None = None


class CatalogRequest(Request):
    table: Literal["gpus", "servers", "models", "prices", "api-prices", "engines"]


class ImportModelRequest(Request):
    file: str = Field(min_length=1)
    id: str | None = Field(None, min_length=1, max_length=128)
    into: str | None = None
    replace: bool = False


class SweepSpec(Request):
    """A sweep file: one verb over a grid of its request's fields (see `api.sweep`)."""

    verb: Literal["evaluate", "plan", "simulate"]
    grid: dict[str, Any] = Field(min_length=1, max_length=64)
    samples: int | None = Field(None, ge=1, le=MAX_SWEEP_CELLS)  # random cells of the grid
    seed: int = Field(0, ge=0, le=MAX_SEED)


class SweepRequest(SweepSpec):
    """A sweep and where it goes: the Parquet file, and the workers or Ray that run it."""

    out: str = Field(min_length=1)
    workers: int | None = Field(None, ge=1, le=4096)  # None: this machine's CPUs
    ray: str | None = Field(None, min_length=1)  # "local", "auto" or a cluster's address


R = TypeVar("R", bound=Request)


def parse(kind: type[R], request: R | dict[str, Any] | None = None, **fields: Any) -> R:
    """A validated request from a model, a mapping or keyword fields; bad input is one
    `InputError` naming the first field that is wrong and what it must be."""
    if isinstance(request, kind):
        if fields:
            request = kind.model_validate({**request.model_dump(), **fields})
        return request
    body = {**(request if isinstance(request, dict) else {}), **fields}
    try:
        return kind.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"] if not isinstance(p, int)) or kind.__name__
        message = first["msg"].removeprefix("Value error, ")
        message = message[:1].lower() + message[1:]
        if first["type"] == "extra_forbidden":
            allowed = ", ".join(kind.model_fields)
            message = f"unknown field; allowed: {allowed}"
        elif first["type"] == "literal_error":
            allowed = str((first.get("ctx") or {}).get("expected", "")).replace("'", "")
            allowed = allowed.replace(" or ", ", ")
            message = f"unknown value {first.get('input')!r}; allowed: {allowed}"
        elif "input" in first and first["type"] not in ("missing",):
            message += f", got {first['input']!r}"
        raise InputError(field, message) from None
