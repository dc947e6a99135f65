"""Self-hosting against an API: the same traffic through each provider's list price, and
the traffic at which the planned fleet breaks even.

An API charges per token, so its monthly bill is linear in traffic:

    API $/month = queries/month × (fresh input × $in + cached input × $cached + output × $out) / 1e6

(cached input at the fresh price when the provider states none). A self-hosted fleet is a
staircase: ⌈peak rate / λ_cap⌉ replicas at C dollars a month each, where λ_cap is the most one
replica takes within the targets (the screen's figure, scaled by what the simulation found:
λ* × screen replicas / verified replicas). Within the first step the fleet costs C whatever
the traffic, so it breaks even where the API bill reaches C:

    break-even average rate = C / (API $/month per query/s)

provided one replica can carry that rate at its peak (rate × peak-to-average ≤ λ_cap); at
each later step the comparison is the same (k·C against k times the traffic), so if the
first replica cannot break even, no fleet of this configuration ever does at these targets.
The break-even utilisation is that rate at peak over a full batch's completion rate, as the
plan's utilisation is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infercost.catalog.models import model
from infercost.catalog.prices import ApiPrice, api_prices
from infercost.cost.fleet import MILLION
from infercost.planning.curve import Demand
from infercost.planning.screen import Sized
from infercost.units import HOURS_PER_MONTH, SECONDS_PER_DAY, SECONDS_PER_HOUR

SECONDS_PER_MONTH = HOURS_PER_MONTH * SECONDS_PER_HOUR


@dataclass(frozen=True)
class ApiOption:
    price: ApiPrice
    usd_per_month: float  # the plan's traffic through this API
    usd_per_query: float
    versus_self_host: float | None  # API $ / self-hosted $ at the plan's traffic
    breakeven_queries_per_s: float | None  # average traffic; None: never at these targets
    breakeven_utilisation: float | None

    def to_dict(self) -> dict[str, Any]:
        be = self.breakeven_queries_per_s
        return {
            **self.price.to_dict(),
            "usd_per_month": self.usd_per_month,
            "usd_per_query": self.usd_per_query,
            "api_over_self_host": self.versus_self_host,
            "breakeven_queries_per_s": be,
            "breakeven_queries_per_day": None if be is None else be * SECONDS_PER_DAY,
            "breakeven_utilisation": self.breakeven_utilisation,
        }


@dataclass(frozen=True)
class ApiComparison:
    model: str | None  # the self-hosted fleet's model
    self_host_usd_per_month: float | None
    replica_usd_per_month: float | None
    replica_max_queries_per_s: float | None  # λ_cap, at peak
    options: tuple[ApiOption, ...]  # cheapest first
    unpriced: tuple[str, ...]  # models of the question with no API price in the catalog

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "self_host_usd_per_month": self.self_host_usd_per_month,
            "replica_usd_per_month": self.replica_usd_per_month,
            "replica_max_queries_per_s": self.replica_max_queries_per_s,
            "options": [o.to_dict() for o in self.options],
            "unpriced_models": list(self.unpriced),
        }


def api_usd_per_query(price: ApiPrice, d: Demand) -> float:
    """One average query's bill (see the module docstring)."""
    cached = d.input_mean * d.cached_fraction
    cached_price = price.usd_per_million_input_cached
    if cached_price is None:
        cached_price = price.usd_per_million_input
    return (
        (d.input_mean - cached) * price.usd_per_million_input
        + cached * cached_price
        + d.output_mean * price.usd_per_million_output
    ) / MILLION


def compare_api(
    models: tuple[str, ...],
    d: Demand,
    best: Sized | None,
    screen_replicas: int | None = None,
) -> ApiComparison:
    """Each API price of the question's models against the planned fleet `best`."""
    ids = [model(m).id for m in models]
    rows = [p for p in api_prices() if p.model in ids]
    average = d.average_rate_per_s or d.rate_per_s
    peak_ratio = d.rate_per_s / average
    replica = capacity = fleet = None
    if best is not None and best.priced is not None:
        fleet = best.priced.usd_per_hour * HOURS_PER_MONTH
        replica = fleet / best.replicas
        capacity = best.rate_per_replica_max * (screen_replicas or best.replicas) / best.replicas
    full = best.curve.completions_per_s(best.cap) if best is not None else None
    options = []
    for price in rows:
        per_query = api_usd_per_query(price, d)
        per_rate = per_query * SECONDS_PER_MONTH  # $/month for each query/s of average traffic
        monthly = per_rate * average
        be = util = None
        if replica is not None and capacity is not None and per_rate > 0:
            rate = replica / per_rate
            if rate * peak_ratio <= capacity:
                be = rate
                util = rate * peak_ratio / full if full else None
        ratio = None if not fleet else monthly / fleet
        options.append(ApiOption(price, monthly, per_query, ratio, be, util))
    options.sort(key=lambda o: o.usd_per_month)
    priced = {p.model for p in rows}
    return ApiComparison(
        model=None if best is None else best.config.model,
        self_host_usd_per_month=fleet,
        replica_usd_per_month=replica,
        replica_max_queries_per_s=capacity,
        options=tuple(options),
        unpriced=tuple(m for m in ids if m not in priced),
    )
