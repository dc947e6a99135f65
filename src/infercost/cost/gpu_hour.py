"""What one accelerator-hour costs, rented or owned.

Rented: the price per GPU-hour, all in.
Owned, per accelerator of a server with `g` accelerators:

    capital   = server price / g · CRF / 8,760 h
    networking= server price · networking share / g · CRF / 8,760 h
                with CRF = r(1+r)^n / ((1+r)^n - 1), the capital recovery factor for a
                cost of capital r over a service life of n years (straight-line when r = 0)
    power     = server watts / g · power utilisation · PUE / 1,000 · $/kWh
    facility  = server watts / g / 1,000 · $/kW-month · 12 / 8,760 h

Facility cost is charged on nameplate power (what the data hall must provision); energy on
average draw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infercost.catalog.hardware import Server
from infercost.catalog.prices import OwnerInputs
from infercost.elementwise import every
from infercost.errors import InputError
from infercost.units import HOURS_PER_YEAR


@dataclass(frozen=True)
class GpuHourCost:
    mode: str
    capital_usd: float = 0.0  # the servers' capex, recovered per hour
    networking_usd: float = 0.0  # the cluster network's capex (a share of the servers')
    power_usd: float = 0.0
    facility_usd: float = 0.0
    rental_usd: float = 0.0

    @property
    def usd_per_gpu_hour(self) -> float:
        return (
            self.capital_usd
            + self.networking_usd
            + self.power_usd
            + self.facility_usd
            + self.rental_usd
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "usd_per_gpu_hour": self.usd_per_gpu_hour,
            "capital_usd": self.capital_usd,
            "networking_usd": self.networking_usd,
            "power_usd": self.power_usd,
            "facility_usd": self.facility_usd,
            "rental_usd": self.rental_usd,
        }


def rent(usd_per_gpu_hour: float) -> GpuHourCost:
    if not every(usd_per_gpu_hour > 0):
        raise InputError("cost.usd_per_gpu_hour", f"must be > 0, got {usd_per_gpu_hour}")
    return GpuHourCost(mode="rent", rental_usd=usd_per_gpu_hour)


def capital_recovery_factor(rate: float, years: float) -> float:
    """Annual payment per dollar of capex repaid over `years` at `rate`."""
    if years <= 0:
        raise InputError("cost.depreciation_years", f"must be > 0, got {years}")
    if rate < 0:
        raise InputError("cost.cost_of_capital", f"must be ≥ 0, got {rate}")
    if rate == 0:
        return 1.0 / years
    growth: float = (1.0 + rate) ** years
    return rate * growth / (growth - 1.0)


def own(server: Server, owner: OwnerInputs, server_price_usd: float | None = None) -> GpuHourCost:
    """Owner's cost per accelerator-hour of `server` under `owner`'s assumptions."""
    g = server.accelerators_per_server
    price = server.price_usd if server_price_usd is None else server_price_usd
    if price is None:
        raise InputError(
            "cost.server_price_usd", f"{server.id} has no published price: give the server's price"
        )
    if server.power_w is None:
        raise InputError("server", f"{server.id} has no published power: it cannot be costed owned")
    if price <= 0:
        raise InputError("cost.server_price_usd", f"must be > 0, got {price}")
    recovery = capital_recovery_factor(owner.cost_of_capital, owner.depreciation_years)
    capital = price / g * recovery
    networking = price * owner.networking_share / g * recovery
    kw_per_gpu = server.power_w / g / 1000.0
    power = kw_per_gpu * owner.power_utilisation * owner.pue * owner.usd_per_kwh
    facility = kw_per_gpu * owner.facility_usd_per_kw_month * 12.0 / HOURS_PER_YEAR
    return GpuHourCost(
        mode="own",
        capital_usd=capital / HOURS_PER_YEAR,
        networking_usd=networking / HOURS_PER_YEAR,
        power_usd=power,
        facility_usd=facility,
    )
