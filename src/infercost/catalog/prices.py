"""Prices: rental $/GPU-hour points, the inputs of an owner's total cost of ownership, and
what APIs charge per token.

A rental point is one published price for one accelerator on one date from one kind of
provider (hyperscaler on-demand, neocloud, marketplace, a TCO model, or an analyst's
assumption). Owner inputs are what turns a server's purchase price into $/GPU-hour: service
life, cost of capital, power usage effectiveness, electricity and facility prices. An API
price is one provider's list price for one open model, per million input, output and
(where it says) cached input tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from infercost.catalog.lookup import Table, build, catalog_dir, require_provenance
from infercost.errors import InputError

PROVIDER_KINDS = ("hyperscaler", "neocloud", "marketplace", "tco-model", "assumption")


@dataclass(frozen=True)
class PricePoint:
    id: str
    accelerator: str
    usd_per_gpu_hour: float
    provider_kind: str
    provider: str
    source: str
    as_of: str
    aliases: tuple[str, ...] = ()
    notes: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "accelerator": self.accelerator,
            "usd_per_gpu_hour": self.usd_per_gpu_hour,
            "provider_kind": self.provider_kind,
            "provider": self.provider,
            "source": self.source,
            "as_of": self.as_of,
        }


@dataclass(frozen=True)
class OwnerInputs:
    id: str
    depreciation_years: float
    cost_of_capital: float  # annual rate, 0.08 = 8 %
    networking_share: float  # networking capex as a fraction of server capex
    pue: float
    usd_per_kwh: float
    facility_usd_per_kw_month: float
    power_utilisation: float  # average draw as a fraction of nameplate power
    source: str
    as_of: str
    aliases: tuple[str, ...] = ()
    notes: str = ""


@dataclass(frozen=True)
class ApiPrice:
    id: str
    model: str  # a model catalog id
    provider: str
    usd_per_million_input: float
    usd_per_million_output: float
    source: str
    as_of: str
    usd_per_million_input_cached: float | None = None
    provider_model: str = ""  # the provider's own name for the model
    aliases: tuple[str, ...] = ()
    notes: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "model": self.model,
            "provider": self.provider,
            "provider_model": self.provider_model,
            "usd_per_million_input": self.usd_per_million_input,
            "usd_per_million_output": self.usd_per_million_output,
            "usd_per_million_input_cached": self.usd_per_million_input_cached,
            "source": self.source,
            "as_of": self.as_of,
        }


def api_price_from_row(row: dict[str, Any]) -> ApiPrice:
    require_provenance("api price", row)
    prices = {}
    for key in ("usd_per_million_input", "usd_per_million_output", "usd_per_million_input_cached"):
        value = row.get(key)
        if value is None and key.endswith("cached"):
            continue
        if not isinstance(value, int | float) or isinstance(value, bool) or not value >= 0:
            raise InputError(f"api price.{row.get('id')}.{key}", "must be a number ≥ 0")
        prices[key] = float(value)
    return ApiPrice(
        id=row["id"],
        model=str(row["model"]),
        provider=str(row["provider"]),
        source=row["source"],
        as_of=str(row["as_of"]),
        provider_model=str(row.get("provider_model", "")),
        aliases=tuple(row.get("aliases", ())),
        notes=row.get("notes", ""),
        **prices,
    )


def price_from_row(row: dict[str, Any]) -> PricePoint:
    require_provenance("price", row)
    kind = row.get("provider_kind")
    if kind not in PROVIDER_KINDS:
        raise InputError(f"price.{row.get('id')}.provider_kind", f"must be one of {PROVIDER_KINDS}")
    value = row.get("usd_per_gpu_hour")
    if not isinstance(value, int | float) or value <= 0:
        raise InputError(f"price.{row.get('id')}.usd_per_gpu_hour", "must be a positive number")
    return PricePoint(
        id=row["id"],
        accelerator=row["accelerator"],
        usd_per_gpu_hour=float(value),
        provider_kind=kind,
        provider=row.get("provider", ""),
        source=row["source"],
        as_of=str(row["as_of"]),
        aliases=tuple(row.get("aliases", ())),
        notes=row.get("notes", ""),
    )


def owner_from_row(row: dict[str, Any]) -> OwnerInputs:
    require_provenance("tco", row)
    keys = (
        "depreciation_years",
        "cost_of_capital",
        "networking_share",
        "pue",
        "usd_per_kwh",
        "facility_usd_per_kw_month",
        "power_utilisation",
    )
    values = {k: float(row[k]) for k in keys}
    return OwnerInputs(
        id=row["id"],
        source=row["source"],
        as_of=str(row["as_of"]),
        aliases=tuple(row.get("aliases", ())),
        notes=row.get("notes", ""),
        **values,
    )


def price_points() -> Table[PricePoint]:
    """Rental price points: built-in rows and the user's catalog folder."""
    return _price_points(catalog_dir())


def owner_profiles() -> Table[OwnerInputs]:
    """Owner cost profiles: built-in rows and the user's catalog folder."""
    return _owner_profiles(catalog_dir())


def api_prices() -> Table[ApiPrice]:
    """API list prices: built-in rows and the user's catalog folder."""
    return _api_prices(catalog_dir())


@cache
def _api_prices(user: Path | None) -> Table[ApiPrice]:
    return Table("api price", build("api price", "api_prices.yaml", user, api_price_from_row))


@cache
def _price_points(user: Path | None) -> Table[PricePoint]:
    return Table("price", build("price", "prices.yaml", user, price_from_row))


@cache
def _owner_profiles(user: Path | None) -> Table[OwnerInputs]:
    return Table("tco profile", build("tco profile", "tco.yaml", user, owner_from_row))


def prices_for(accelerator_id: str) -> list[PricePoint]:
    """Every rental point for one accelerator, newest first."""
    rows = [p for p in price_points() if p.accelerator == accelerator_id]
    return sorted(rows, key=lambda p: p.as_of, reverse=True)
