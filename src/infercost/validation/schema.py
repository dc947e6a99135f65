"""A measured point in structured form: what was run, under which load, and what the figure counts.

A `Measurement` states each fact a prediction needs as a field, so nothing is read back from
prose: the load (static batch, fixed concurrency, request rate, offline, MLPerf Server or
Offline, a production fleet), the request lengths (a mean in tokens, or a named data set whose
mean `datasets.yaml` gives), the layout (TP, PP, EP, attention DP), speculative decoding, the
prefix-cache hit rate, and what the figure counts (`metric` in SI units, `per` aggregate / GPU /
node / user, and its `statistic`). A fact the source did not state is None, never a default
chosen here; `notes` keeps the source's own wording.

The model is flat so that one row is one line of CSV or Parquet as well as JSON. Its JSON
schema (`Measurement.model_json_schema()`) is written to `docs/measurement-schema.json`.
"""

from __future__ import annotations

import json
import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

LoadMode = Literal[
    "static_batch",  # `batch` requests prefilled together, then decoded in lockstep
    "concurrency",  # `batch` requests held in flight (a closed loop)
    "request_rate",  # arrivals at `request_rate_per_s`
    "offline",  # every request available at once; the engine batches what it can
    "mlperf_offline",  # MLPerf's Offline scenario (the same load as offline)
    "mlperf_server",  # MLPerf's Server scenario: the highest rate meeting `latency_constraints`
    "production",  # a production fleet's average over a period
]
Metric = Literal[
    "output_tok_s",  # output tokens per second
    "input_tok_s",  # prompt tokens per second (prefill throughput)
    "requests_s",  # completed requests per second
    "ttft_s",  # time to first token
    "tpot_s",  # time per output token after the first
    "itl_s",  # gap between successive tokens
    "e2e_s",  # send to last token
]
Per = Literal["aggregate", "gpu", "node", "user"]
Statistic = Literal["mean", "p50", "p90", "p95", "p99"]
Phase = Literal["both", "prefill", "decode"]
SpecMethod = Literal["mtp", "eagle", "draft", "ngram", "medusa"]

LATENCY_METRICS = ("ttft_s", "tpot_s", "itl_s", "e2e_s")


class LatencyConstraint(BaseModel):
    """A latency bound a rate had to meet (MLPerf Server): `metric` at `percentile` ≤ `seconds`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: Literal["ttft", "tpot", "e2e"]
    percentile: float = Field(gt=0, le=100)
    seconds: float = Field(gt=0)


class Measurement(BaseModel):
    """One measured figure, every fact it depends on a field of its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # what was measured, and where it was published
    id: str = Field(min_length=1, description="Unique; the source is the id less its number.")
    source_url: str = ""
    date: str = ""
    engine: str = Field(min_length=1)
    engine_version: str = ""
    model: str = Field(min_length=1, description="A catalog model id or a name it knows.")
    gpu: str = Field(min_length=1, description="A catalog accelerator id or a name it knows.")
    num_gpus: int | None = Field(None, ge=0, description="Accelerators the run used (0: CPU).")
    precision_weights: str | None = Field(None, description="None: not stated.")
    precision_kv: str | None = None
    # layout
    tp: int | None = Field(None, ge=1)
    pp: int | None = Field(None, ge=1)
    ep: int | None = Field(None, ge=1)
    attention_dp: int | None = Field(None, ge=1, description="Attention data-parallel ranks.")
    # load
    load_mode: LoadMode
    batch: float | None = Field(
        None, gt=0, description="Static batch or requests in flight (concurrency)."
    )
    batch_per_gpu: bool = Field(False, description="`batch` counts per GPU, not per replica.")
    max_batch: int | None = Field(None, ge=1, description="The engine's cap on sequences.")
    max_batch_per_rank: bool = Field(False, description="`max_batch` counts per DP rank.")
    num_requests: int | None = Field(None, ge=1, description="Requests the run sent.")
    request_rate_per_s: float | None = Field(None, gt=0)
    arrival_group: float | None = Field(
        None,
        ge=1,
        description="Requests that arrived together, as measured (a closed loop's lockstep).",
    )
    latency_constraints: tuple[LatencyConstraint, ...] = ()
    # request lengths: a mean in tokens, or a data set whose mean the table gives
    input_tokens: float | None = Field(None, ge=0, description="Mean prompt tokens.")
    output_tokens: float | None = Field(None, ge=0, description="Mean output tokens.")
    input_dataset: str | None = Field(None, description="A data set id of datasets.yaml.")
    output_dataset: str | None = None
    length_distribution: Literal["fixed", "variable"] | None = None
    cache_hit_rate: float = Field(0.0, ge=0, lt=1, description="Share of prompt tokens cached.")
    # speculative decoding
    spec_method: SpecMethod | None = None
    spec_draft_tokens: int | None = Field(None, ge=1)
    spec_acceptance_length: float | None = Field(None, ge=1)
    spec_acceptance_rate: float | None = Field(None, ge=0, le=1)
    expert_balance: Literal["balanced", "none"] | None = None
    # engine settings the source stated
    phase: Phase = Field("both", description="decode: a disaggregated decode pool's figure.")
    scheduler_steps: int | None = Field(None, ge=1)
    max_batched_tokens: int | None = Field(None, ge=1)
    comm_overlap: bool | None = None
    target_user_tok_s: float | None = Field(
        None, gt=0, description="Per-user speed the batch was limited to."
    )
    # the figure
    metric: Metric
    value: float = Field(gt=0, description="In SI units: tokens/s, requests/s, seconds.")
    per: Per = "aggregate"
    statistic: Statistic = "mean"
    notes: str = ""

    @field_validator("latency_constraints", mode="before")
    @classmethod
    def _constraints_text(cls, value: Any) -> Any:
        """CSV and Parquet carry the constraints as a JSON list."""
        if isinstance(value, str):
            return json.loads(value) if value.strip() else ()
        return value

    @field_validator("value")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Measurement:
        if self.load_mode in ("static_batch", "concurrency") and self.batch is None:
            raise ValueError(f"load_mode {self.load_mode} needs batch")
        if self.load_mode == "request_rate" and self.request_rate_per_s is None:
            raise ValueError("load_mode request_rate needs request_rate_per_s")
        if self.input_tokens is not None and self.input_dataset is not None:
            raise ValueError("give input_tokens or input_dataset, not both")
        if self.output_tokens is not None and self.output_dataset is not None:
            raise ValueError("give output_tokens or output_dataset, not both")
        if self.metric in LATENCY_METRICS and self.per not in ("aggregate", "user"):
            raise ValueError(f"a latency is per request, not per {self.per}")
        return self

    def flat(self) -> dict[str, Any]:
        """The fields as one CSV/Parquet row (constraints as a JSON list)."""
        out = self.model_dump()
        out["latency_constraints"] = json.dumps(out["latency_constraints"])
        return out


FIELDS = tuple(Measurement.model_fields)
