"""Accelerators and servers.

The YAML tables use the units people quote (GB, GB/s, TFLOPS, W); loading converts them to SI
once. FLOP/s are *dense* tensor peaks (no 2:4 sparsity) per precision the chip has; a missing
precision means the chip has no matmul unit for it. Interconnect bandwidth is per device and
per direction (NVLink 3 on A100: 600 GB/s total = 300 GB/s each way).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from infercost.catalog.lookup import Table, build, catalog_dir, require_provenance
from infercost.errors import InputError
from infercost.units import GB, TFLOPS

FLOPS_KEYS = ("fp32", "bf16", "fp8", "int8", "int4", "fp4")
KINDS = ("gpu", "tpu", "cpu")


@dataclass(frozen=True)
class Accelerator:
    id: str
    name: str
    vendor: str
    kind: str
    memory_bytes: float
    memory_bandwidth_bytes_per_s: float
    dense_flops_per_s: dict[str, float]
    interconnect: str
    interconnect_bandwidth_bytes_per_s: float
    power_w: float
    price_usd: float | None
    source: str
    as_of: str
    aliases: tuple[str, ...] = ()
    notes: str = ""
    what_if: str = ""  # a what-if's changes to its catalog row (catalog.whatif), else ""
    rent_usd_per_hour: float | None = None  # a what-if's own rent, in place of the catalog's

    @property
    def family(self) -> str:
        """Coarse hardware class for calibration groups.

        cpu, tpu (Google's), VENDOR-asic (other tensor chips: aws-asic, microsoft-asic),
        intel-gpu (Gaudi), apple, amd-gpu, datacenter-gpu (NVLink or ≥ 40 GB), small-gpu
        (consumer cards, L4, A10G) and custom (a chip given inline, catalog.whatif).
        """
        if self.vendor == "custom":
            return "custom"
        if self.kind == "cpu":
            return "cpu"
        if self.kind == "tpu":
            return "tpu" if self.vendor == "google" else f"{self.vendor}-asic"
        if self.vendor == "intel":
            return "intel-gpu"
        if self.vendor == "apple":
            return "apple"
        if self.vendor == "amd":
            return "amd-gpu"
        if self.interconnect.lower().startswith("nvlink") or self.memory_bytes >= 40e9:
            return "datacenter-gpu"
        return "small-gpu"

    def peak_flops_per_s(self, key: str) -> float | None:
        """Dense peak for a FLOP/s column, or None when the chip has no unit for it."""
        return self.dense_flops_per_s.get(key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "vendor": self.vendor,
            "kind": self.kind,
            "memory_gb": self.memory_bytes / GB,
            "memory_bandwidth_gb_per_s": self.memory_bandwidth_bytes_per_s / GB,
            "dense_tflops": {k: v / TFLOPS for k, v in self.dense_flops_per_s.items()},
            "interconnect": self.interconnect,
            "interconnect_gb_per_s": self.interconnect_bandwidth_bytes_per_s / GB,
            "power_w": self.power_w,
            "price_usd": self.price_usd,
            **({"rent_usd_per_hour": self.rent_usd_per_hour} if self.rent_usd_per_hour else {}),
            "source": self.source,
            "as_of": self.as_of,
        }


@dataclass(frozen=True)
class Server:
    id: str
    name: str
    accelerator: str
    accelerators_per_server: int
    intra_node_bandwidth_bytes_per_s: float
    scale_out_bandwidth_bytes_per_s: float
    power_w: float | None  # None: not published (a rented-only host: Cloud TPU, EC2 Trainium)
    price_usd: float | None  # None: not sold, or its price not published
    source: str
    as_of: str
    aliases: tuple[str, ...] = ()
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    pod_accelerators: int | None = None  # chips one ICI domain joins (a TPU pod), else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "accelerator": self.accelerator,
            "accelerators_per_server": self.accelerators_per_server,
            "intra_node_gb_per_s": self.intra_node_bandwidth_bytes_per_s / GB,
            "scale_out_gb_per_s": self.scale_out_bandwidth_bytes_per_s / GB,
            "power_w": self.power_w,
            "price_usd": self.price_usd,
            **({"pod_accelerators": self.pod_accelerators} if self.pod_accelerators else {}),
            "source": self.source,
            "as_of": self.as_of,
        }


def _positive(kind: str, row: dict[str, Any], key: str) -> float:
    value = row.get(key)
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        raise InputError(
            f"{kind}.{row.get('id', '?')}.{key}", f"must be a positive number, got {value!r}"
        )
    return float(value)


def _optional(kind: str, row: dict[str, Any], key: str) -> float | None:
    """A figure a vendor may not publish: null, or positive."""
    return None if row.get(key) is None else _positive(kind, row, key)


def accelerator_from_row(row: dict[str, Any]) -> Accelerator:
    require_provenance("gpu", row)
    if row.get("kind", "gpu") not in KINDS:
        raise InputError(f"gpu.{row['id']}.kind", f"must be one of {', '.join(KINDS)}")
    tflops = row.get("dense_tflops") or {}
    unknown = set(tflops) - set(FLOPS_KEYS)
    if unknown:
        raise InputError(f"gpu.{row['id']}.dense_tflops", f"unknown keys {sorted(unknown)}")
    price = row.get("price_usd")
    return Accelerator(
        id=row["id"],
        name=row["name"],
        vendor=row["vendor"],
        kind=row.get("kind", "gpu"),
        memory_bytes=_positive("gpu", row, "memory_gb") * GB,
        memory_bandwidth_bytes_per_s=_positive("gpu", row, "memory_bandwidth_gb_per_s") * GB,
        dense_flops_per_s={k: float(v) * TFLOPS for k, v in tflops.items()},
        interconnect=row.get("interconnect", "none"),
        interconnect_bandwidth_bytes_per_s=float(row.get("interconnect_gb_per_s", 0.0)) * GB,
        power_w=_positive("gpu", row, "power_w"),
        price_usd=float(price) if price is not None else None,
        source=row["source"],
        as_of=str(row["as_of"]),
        aliases=tuple(row.get("aliases", ())),
        notes=row.get("notes", ""),
    )


def server_from_row(row: dict[str, Any]) -> Server:
    require_provenance("server", row)
    return Server(
        id=row["id"],
        name=row["name"],
        accelerator=row["accelerator"],
        accelerators_per_server=int(row["accelerators_per_server"]),
        intra_node_bandwidth_bytes_per_s=_positive("server", row, "intra_node_gb_per_s") * GB,
        scale_out_bandwidth_bytes_per_s=float(row.get("scale_out_gb_per_s", 0.0)) * GB,
        power_w=_optional("server", row, "power_w"),
        price_usd=_optional("server", row, "price_usd"),
        source=row["source"],
        as_of=str(row["as_of"]),
        aliases=tuple(row.get("aliases", ())),
        notes=row.get("notes", ""),
        pod_accelerators=_pod(row),
    )


def _pod(row: dict[str, Any]) -> int | None:
    pod = _optional("server", row, "pod_accelerators")
    if pod is not None and (pod != int(pod) or pod % int(row["accelerators_per_server"])):
        raise InputError(
            f"server.{row['id']}.pod_accelerators",
            f"must be a whole number of servers of {row['accelerators_per_server']}, got {pod:g}",
        )
    return None if pod is None else int(pod)


def accelerators() -> Table[Accelerator]:
    """The accelerator table: built-in rows and the user's catalog folder."""
    return _accelerators(catalog_dir())


def servers() -> Table[Server]:
    """The server table: built-in rows and the user's catalog folder."""
    return _servers(catalog_dir())


@cache
def _accelerators(user: Path | None) -> Table[Accelerator]:
    return Table("gpu", build("gpu", "gpus.yaml", user, accelerator_from_row))


@cache
def _servers(user: Path | None) -> Table[Server]:
    table = Table("server", build("server", "servers.yaml", user, server_from_row))
    gpus = accelerators()
    for row in table:
        if row.accelerator not in gpus:
            raise InputError(
                f"server.{row.id}.accelerator", f"names no catalog accelerator: {row.accelerator!r}"
            )
    return table


def accelerator(name: str) -> Accelerator:
    """A catalog row by id or alias; `id:NAME=VALUE,...` is a what-if of it (`whatif`)."""
    from infercost.catalog import whatif

    base, changes = whatif.split(name)
    if base.lower() == whatif.CUSTOM:
        return whatif.custom(changes)
    row = accelerators().get(base)
    return row if changes is None else whatif.apply(row, changes)


def server(name: str) -> Server:
    return servers().get(name)


def server_for(acc: Accelerator) -> Server | None:
    """The catalog's 8-way server built around `acc`, if it has one."""
    return next((s for s in servers() if s.accelerator == acc.id), None)
