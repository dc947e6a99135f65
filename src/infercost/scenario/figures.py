"""The figures a table of a scenario's variants compares, shared by the terminal and the HTML
report (no heavy imports: the CLI loads it to print)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# What a table of a scenario's variants compares, in order: the fleet, its price, its cost.
VARIANT_FIGURES = (
    "gpus",
    "servers",
    "pods",
    "usd_per_gpu_hour",
    "usd_per_day",
    "usd_per_query",
    "usd_per_million_output_tokens",
    "added_cost_usd_per_year",
    "capex_usd",
)


def figures_present(rows: list[dict[str, Any]], keys: Iterable[str]) -> list[str]:
    """The `keys` at least one row has a value for (pods only on TPUs, a search's added cost
    only where a scenario has economics): a table of variants leaves the others out."""
    return [k for k in keys if any(row.get(k) is not None for row in rows)]
