"""Prefill and decode on separate pools, each sized for its share of the day's tokens.

DeepSeek's production system prefills on one set of nodes and decodes on another. Each pool
is a configuration of its own (layout, efficiency) on the same servers:

    prefill node rate = fresh prompt tokens/s per node ÷ fresh share   (cache hits counted
                                                                      as served, as DeepSeek does)
    decode node rate  = output tokens/s per node of the decode pool (no prefill in its steps)
    nodes per pool    = day's tokens/s ÷ node rate × peak-to-average ÷ target utilisation
    $/day             = (prefill nodes + decode nodes) × accelerators per node × 24 h × $/GPU-hour
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infercost.cost.fleet import HOURS_PER_DAY, MILLION, usd_per_unit
from infercost.cost.gpu_hour import GpuHourCost
from infercost.errors import InputError
from infercost.evaluate.config import Resolved
from infercost.evaluate.pipeline import CostBasis, Evaluation, Serving, Workload, evaluate, gpu_hour
from infercost.perf.replica import prefill_seconds_per_token


@dataclass(frozen=True)
class Disaggregated:
    prefill: Resolved
    decode: Evaluation
    prefill_s_per_token: float
    input_tokens_per_s: float  # the day's average, whole service
    output_tokens_per_s: float
    capacity_factor: float  # peak-to-average ÷ target utilisation
    rate: GpuHourCost

    @property
    def gpus_per_node(self) -> int:
        return self.prefill.gpus_per_server

    @property
    def prefill_tokens_per_s_per_node(self) -> float:
        fresh_share = 1 - self.decode.workload.cached_input_fraction
        nodes = self.prefill.gpus / self.gpus_per_node
        return 1 / self.prefill_s_per_token / nodes / fresh_share

    @property
    def decode_tokens_per_s_per_node(self) -> float:
        nodes = self.decode.gpus / self.gpus_per_node
        return self.decode.performance.output_tokens_per_s / nodes

    @property
    def nodes_prefill(self) -> float:
        return self.input_tokens_per_s / self.prefill_tokens_per_s_per_node * self.capacity_factor

    @property
    def nodes_decode(self) -> float:
        return self.output_tokens_per_s / self.decode_tokens_per_s_per_node * self.capacity_factor

    @property
    def nodes(self) -> float:
        return self.nodes_prefill + self.nodes_decode

    @property
    def gpus(self) -> float:
        return self.nodes * self.gpus_per_node

    @property
    def usd_per_hour(self) -> float:
        return self.gpus * self.rate.usd_per_gpu_hour

    @property
    def usd_per_day(self) -> float:
        return self.usd_per_hour * HOURS_PER_DAY

    def to_dict(self) -> dict[str, Any]:
        per_s = self.input_tokens_per_s + self.output_tokens_per_s
        return {
            "prefill_input_tokens_per_s_per_node": self.prefill_tokens_per_s_per_node,
            "decode_output_tokens_per_s_per_node": self.decode_tokens_per_s_per_node,
            "decode_interactivity_tokens_per_s": self.decode.performance.interactivity_tokens_per_s,
            "decode_concurrency_per_gpu": self.decode.performance.concurrency / self.decode.gpus,
            "nodes_prefill": self.nodes_prefill,
            "nodes_decode": self.nodes_decode,
            "nodes": self.nodes,
            "gpus": self.gpus,
            "usd_per_gpu_hour": self.rate.usd_per_gpu_hour,
            "usd_per_day": self.usd_per_day,
            "usd_per_million_output_tokens": usd_per_unit(
                self.usd_per_hour, self.output_tokens_per_s, MILLION
            ),
            "usd_per_million_tokens": usd_per_unit(self.usd_per_hour, per_s, MILLION),
        }


def disaggregated(
    prefill: Resolved,
    decode: Resolved,
    w: Workload,
    input_tokens_per_s: float,
    output_tokens_per_s: float,
    s: Serving,
    basis: CostBasis,
) -> Disaggregated:
    """Both pools sized for the day's tokens (see the module docstring)."""
    if prefill.gpus_per_server != decode.gpus_per_server:
        raise InputError("prefill", "the prefill and decode pools must use the same servers")
    decoding = evaluate(
        decode, w, Serving(s.concurrency, s.target_interactivity_tokens_per_s, False)
    )
    decoding.require_feasible()
    fresh = w.input_tokens * (1 - w.cached_input_fraction)
    per_token = prefill_seconds_per_token(prefill.deployment, fresh, w.input_tokens - fresh)
    rate = gpu_hour(decode, basis)
    if rate is None:
        raise InputError("usd_per_gpu_hour", f"no catalog price for {decode.deployment.gpu.id}")
    traffic = w.traffic
    factor = traffic.peak_to_average / traffic.target_utilisation if traffic else 1.0
    return Disaggregated(
        prefill, decoding, per_token, input_tokens_per_s, output_tokens_per_s, factor, rate
    )
