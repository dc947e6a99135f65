"""What a fleet costs per day, per query and per million tokens, and the energy it uses.

One formula prices every unit of work, for a fleet, a replica or a measured server alike:

    $ per unit       = $/hour ÷ (units per second × 3,600 s)

with units a query, an output token (all cost charged to output, InferenceMAX's "output"
basis), any token (input + output), or a token of one phase when the cost is split between
prefill and decode by the replica's time in each (attributed). A day is 24 hours:

    $/day            = accelerators · 24 h · $/GPU-hour
    Wh/query         = accelerators · W each · power utilisation · PUE · 24 h ÷ queries/day
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infercost.cost.gpu_hour import GpuHourCost
from infercost.elementwise import every
from infercost.units import SECONDS_PER_DAY, SECONDS_PER_HOUR

HOURS_PER_DAY = 24.0
MILLION = 1e6


def usd_per_unit(
    usd_per_hour: float | None, units_per_s: float | None, units: float = 1.0
) -> float | None:
    """Dollars per `units` units of work done at `units_per_s` by what costs `usd_per_hour`.

    None when there is no price, or no work (a rate of zero has no cost per unit).
    """
    if usd_per_hour is None or units_per_s is None or not every(units_per_s > 0):
        return None
    return usd_per_hour / (units_per_s * SECONDS_PER_HOUR) * units


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
    def usd_per_hour(self) -> float:
        return self.gpus * self.rate.usd_per_gpu_hour

    @property
    def usd_per_day(self) -> float:
        return self.usd_per_hour * HOURS_PER_DAY

    def _per(self, per_day: float, units: float = 1.0, share: float = 1.0) -> float | None:
        return usd_per_unit(self.usd_per_hour * share, per_day / SECONDS_PER_DAY, units)

    @property
    def usd_per_query(self) -> float | None:
        return self._per(self.queries_per_day)

    @property
    def usd_per_million_output_tokens(self) -> float | None:
        return self._per(self.output_tokens_per_day, MILLION)

    @property
    def usd_per_million_tokens(self) -> float | None:
        return self._per(self.input_tokens_per_day + self.output_tokens_per_day, MILLION)

    @property
    def usd_per_million_input_tokens_attributed(self) -> float | None:
        return self._per(self.input_tokens_per_day, MILLION, self.prefill_time_share)

    @property
    def usd_per_million_output_tokens_attributed(self) -> float | None:
        return self._per(self.output_tokens_per_day, MILLION, 1 - self.prefill_time_share)

    @property
    def energy_wh_per_query(self) -> float:
        watts = self.gpus * self.watts_per_gpu * self.power_utilisation * self.pue
        return watts * HOURS_PER_DAY / self.queries_per_day

    def to_dict(self) -> dict[str, Any]:
        return {
            "gpus": self.gpus,
            "usd_per_gpu_hour": self.rate.to_dict(),
            "usd_per_day": self.usd_per_day,
            "usd_per_query": self.usd_per_query,
            "usd_per_million_output_tokens": self.usd_per_million_output_tokens,
            "usd_per_million_tokens": self.usd_per_million_tokens,
            "usd_per_million_input_tokens_attributed": self.usd_per_million_input_tokens_attributed,
            "usd_per_million_output_tokens_attributed": (
                self.usd_per_million_output_tokens_attributed
            ),
            "energy_wh_per_query": self.energy_wh_per_query,
        }
