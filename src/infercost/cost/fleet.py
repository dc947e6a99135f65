"""What a fleet costs per day, per query and per million tokens, and the energy it uses.

$/day            = accelerators · 24 h · $/GPU-hour
$/query          = $/day ÷ queries per day
$/1M output tok  = $/day ÷ output tokens per day × 10⁶   (all cost charged to output,
                                                         InferenceMAX's "output" basis)
$/1M tokens      = $/day ÷ (input + output tokens per day) × 10⁶
attributed       = cost split between input and output by the replica's time spent in
                   prefill and in decode
Wh/query         = accelerators · W each · power utilisation · PUE · 24 h ÷ queries/day
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infercost.cost.gpu_hour import GpuHourCost

HOURS_PER_DAY = 24.0


@dataclass(frozen=True)
class FleetCost:
    gpus: float
    rate: GpuHourCost
    queries_per_day: float
    input_tokens_per_day: float
    output_tokens_per_day: float
    prefill_time_share: float
    watts_per_gpu: float
    power_utilisation: float
    pue: float

    @property
    def usd_per_day(self) -> float:
        return self.gpus * HOURS_PER_DAY * self.rate.usd_per_gpu_hour

    @property
    def usd_per_query(self) -> float:
        return self.usd_per_day / self.queries_per_day

    @property
    def usd_per_million_output_tokens(self) -> float:
        return self.usd_per_day / self.output_tokens_per_day * 1e6

    @property
    def usd_per_million_tokens(self) -> float:
        return self.usd_per_day / (self.input_tokens_per_day + self.output_tokens_per_day) * 1e6

    @property
    def usd_per_million_input_tokens_attributed(self) -> float | None:
        if self.input_tokens_per_day <= 0:
            return None
        return self.usd_per_day * self.prefill_time_share / self.input_tokens_per_day * 1e6

    @property
    def usd_per_million_output_tokens_attributed(self) -> float:
        return self.usd_per_day * (1 - self.prefill_time_share) / self.output_tokens_per_day * 1e6

    @property
    def energy_wh_per_query(self) -> float:
        watts = self.gpus * self.watts_per_gpu * self.power_utilisation * self.pue
        return watts * HOURS_PER_DAY / self.queries_per_day

    def to_dict(self) -> dict[str, Any]:
        attributed_out = self.usd_per_million_output_tokens_attributed
        return {
            "gpus": self.gpus,
            "usd_per_gpu_hour": self.rate.to_dict(),
            "usd_per_day": self.usd_per_day,
            "usd_per_query": self.usd_per_query,
            "usd_per_million_output_tokens": self.usd_per_million_output_tokens,
            "usd_per_million_tokens": self.usd_per_million_tokens,
            "usd_per_million_input_tokens_attributed": self.usd_per_million_input_tokens_attributed,
            "usd_per_million_output_tokens_attributed": attributed_out,
            "energy_wh_per_query": self.energy_wh_per_query,
        }
