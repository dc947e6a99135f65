"""What-if accelerators: a catalog row with some of its figures changed, written where a
`--gpu` goes: `h100:hbm_bandwidth=6.7TB/s,price=1.5`, or a chip of the user's own:
`custom:memory=96GB,hbm_bandwidth=4TB/s,bf16=900TFLOPS,power=700W`.

The base is looked up as usual (id or alias); each `name=value` replaces one figure and
nothing else. A value is a number in the catalog's own unit (GB, GB/s, TFLOPS, W, USD) or a
number with its unit (`6.7TB/s`, `192GB`, `2.5PFLOPS`, `1.2kW`). The chip keeps its base's
id, so its servers and rental prices stay the base's unless `price` says otherwise; its name
says what was changed, and its notes that the figures are hypothetical. A what-if with no
change is the base row itself.

    memory            GB       HBM capacity
    hbm_bandwidth     GB/s     memory bandwidth (also memory_bandwidth)
    fp32 … fp4        TFLOPS   dense peak of that precision (a new precision adds a unit)
    interconnect      GB/s     scale-up bandwidth per direction
    power             W        the chip's power
    price             USD/h    its rent per chip-hour (replaces the catalog's rental prices)
    price_usd         USD      the chip's purchase price (owner cost)

`custom` has no catalog row: memory, hbm_bandwidth, power and one precision's TFLOPS are
required, interconnect is needed for a replica of more than one chip, and nothing else is
assumed (no server, no price unless `price` gives one). No measured row covers such a chip,
so its predictions carry the uncalibrated warning.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from infercost.catalog.hardware import Accelerator
from infercost.errors import InputError
from infercost.units import GB, TFLOPS

MAX_OVERRIDES = 16
# name → (field of Accelerator, SI scale of the catalog's unit, the units a value may carry)
BYTES = {"B": 1.0, "KB": 1e3, "MB": 1e6, "GB": GB, "TB": 1e12, "GIB": 2**30, "TIB": 2**40}
RATES = {f"{k}/S": v for k, v in BYTES.items()}
FLOPS = {"TFLOPS": TFLOPS, "PFLOPS": 1e15, "GFLOPS": 1e9, "TOPS": TFLOPS, "POPS": 1e15}
WATTS = {"W": 1.0, "KW": 1e3}
FIELDS: dict[str, tuple[str, float, dict[str, float]]] = {
    "memory": ("memory_bytes", GB, BYTES),
    "hbm_bandwidth": ("memory_bandwidth_bytes_per_s", GB, RATES),
    "memory_bandwidth": ("memory_bandwidth_bytes_per_s", GB, RATES),
    "interconnect": ("interconnect_bandwidth_bytes_per_s", GB, RATES),
    "power": ("power_w", 1.0, WATTS),
    "price_usd": ("price_usd", 1.0, {"USD": 1.0, "$": 1.0}),
    "price": ("rent_usd_per_hour", 1.0, {"USD": 1.0, "$": 1.0, "USD/H": 1.0, "$/H": 1.0}),
}
CUSTOM = "custom"
CUSTOM_REQUIRED = ("memory", "hbm_bandwidth", "power")
PRECISIONS = ("fp32", "bf16", "fp8", "int8", "int4", "fp4")
_VALUE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[-+]?[0-9]+)?)\s*([a-z/$]*)\s*$", re.IGNORECASE)


def split(text: str) -> tuple[str, str | None]:
    """`h100:hbm_bandwidth=6.7TB/s` → ("h100", "hbm_bandwidth=6.7TB/s"); no colon: no change."""
    base, colon, changes = text.partition(":")
    return base.strip(), changes if colon else None


def apply(acc: Accelerator, changes: str) -> Accelerator:
    """`acc` (an `Accelerator`) with each `name=value` of `changes` replacing one figure."""
    parts = _parts(acc.id, changes)
    updates, flops = _read(parts, dict(acc.dense_flops_per_s))
    if flops != acc.dense_flops_per_s:
        updates["dense_flops_per_s"] = flops
    if all(getattr(acc, k) == v for k, v in updates.items()):
        return acc  # every figure as the row has it: the row itself
    return replace(
        acc,
        name=f"{acc.name} (what-if: {', '.join(parts)})",
        notes=f"Hypothetical: {acc.id} with {', '.join(parts)}; every other figure is the "
        f"catalog row's.",
        what_if=",".join(parts),
        **updates,
    )


def custom(changes: str | None) -> Accelerator:
    """A chip of the user's own, every figure given inline (see the module docstring)."""
    parts = _parts(CUSTOM, changes or "")
    updates, flops = _read(parts, {})
    missing = [n for n in CUSTOM_REQUIRED if FIELDS[n][0] not in updates]
    if missing or not flops:
        need = [*missing, *([] if flops else [f"one of {', '.join(PRECISIONS)} (TFLOPS)"])]
        raise InputError(
            "gpu",
            f"a custom chip needs {', '.join(need)}: write custom:memory=96GB,"
            f"hbm_bandwidth=4TB/s,bf16=900TFLOPS,power=700W",
        )
    link = updates.get("interconnect_bandwidth_bytes_per_s", 0.0)
    return Accelerator(
        id=CUSTOM,
        name=f"custom chip ({', '.join(parts)})",
        vendor=CUSTOM,
        kind="gpu",
        memory_bytes=updates["memory_bytes"],
        memory_bandwidth_bytes_per_s=updates["memory_bandwidth_bytes_per_s"],
        dense_flops_per_s=flops,
        interconnect="custom" if link else "",
        interconnect_bandwidth_bytes_per_s=link,
        power_w=updates["power_w"],
        price_usd=updates.get("price_usd"),
        source="user",
        as_of="",
        notes="Hypothetical: every figure given inline by the user.",
        what_if=",".join(parts),
        rent_usd_per_hour=updates.get("rent_usd_per_hour"),
    )


def _parts(base: str, changes: str) -> list[str]:
    parts = [p.strip() for p in changes.split(",") if p.strip()]
    if not parts:
        raise InputError("gpu", f"nothing after the colon: write {base}:NAME=VALUE,...")
    if len(parts) > MAX_OVERRIDES:
        raise InputError("gpu", f"at most {MAX_OVERRIDES} changes, got {len(parts)}")
    return parts


def _read(parts: list[str], flops: dict[str, float]) -> tuple[dict[str, Any], dict[str, float]]:
    """Each `name=value` as the Accelerator field it sets, and the FLOP/s table."""
    updates: dict[str, Any] = {}
    for part in parts:
        name, eq, value = part.partition("=")
        name = name.strip().lower()
        if not eq:
            raise InputError("gpu", f"{part!r}: write NAME=VALUE")
        if name in PRECISIONS:
            flops[name] = _number(name, value, TFLOPS, FLOPS)
        elif name in FIELDS:
            field, scale, units = FIELDS[name]
            updates[field] = _number(name, value, scale, units)
        else:
            allowed = ", ".join([*FIELDS, *PRECISIONS])
            raise InputError("gpu", f"unknown figure {name!r}; allowed: {allowed}")
    return updates, flops


def _number(name: str, text: str, scale: float, units: dict[str, float]) -> float:
    match = _VALUE.match(text)
    if match is None:
        raise InputError("gpu", f"{name}={text!r}: not a number (e.g. 6.7TB/s, 192GB, 1.5)")
    number, unit = float(match.group(1)), match.group(2).upper()
    if unit and unit not in units:
        raise InputError("gpu", f"{name}: unknown unit {match.group(2)!r}; use {', '.join(units)}")
    value = number * (units[unit] if unit else scale)
    if not value > 0:
        raise InputError("gpu", f"{name} must be > 0, got {text!r}")
    return value
