"""A sweep: one verb evaluated at every cell of a grid of its inputs, one table row per cell.

A grid maps request fields to lists of values; its cells are the Cartesian product, in the
order the keys and values are written (the last key varies fastest). Cell `i` is decoded from
`i` in mixed radix, so a grid of 10^12 cells is never materialised: `samples: N` draws N
distinct indices with a seeded numpy Generator and evaluates those cells, in index order.

Work goes out in chunks of consecutive cells (about `cells / (workers × 8)`, so every worker
gets several and a slow chunk does not hold the end back, at most `MAX_SWEEP_CHUNK`); each
row is flattened in the worker from the verb's `to_dict()` into a fixed set of output columns
per verb, so every row of one sweep has the same columns (null where a cell failed).
The table keeps cells in index order whatever finished first, so every backend writes the
same file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from infercost.errors import InputError
from infercost.files import strict_json
from infercost.limits import MAX_SWEEP_CELLS, MAX_SWEEP_CHUNK
from infercost.units import HOURS_PER_MONTH

CHUNKS_PER_WORKER = 8

# Output columns per verb: a path into the verb's `to_dict()` (for estimate: its first
# estimate; for plan: its `best`; for simulate: its summary).
PERCENTILES = {
    f"{metric}_{p}_s": ("simulated", f"{metric}_s", p)
    for metric in ("ttft", "tpot", "e2e")
    for p in ("p50", "p90", "p99")
}
ESTIMATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "resolved_gpu": ("deployment", "gpu"),
    "usd_per_month": (),  # the fleet's day at HOURS_PER_MONTH / 24 days (see `flatten`)
    "usd_per_day": ("fleet_cost", "usd_per_day"),
    "usd_per_million_output_tokens": ("fleet_cost", "usd_per_million_output_tokens"),
    "usd_per_million_tokens": ("fleet_cost", "usd_per_million_tokens"),
    "usd_per_query": ("fleet_cost", "usd_per_query"),
    "replica_usd_per_million_output_tokens": ("usd_per_million_output_tokens",),
    "usd_per_gpu_hour": ("usd_per_gpu_hour",),
    "gpus": ("fleet", "gpus"),
    "replicas": ("fleet", "replicas"),
    "gpus_per_replica": ("deployment", "gpus"),
    "concurrency": ("concurrency",),
    "output_tokens_per_s_per_gpu": ("output_tokens_per_s_per_gpu",),
    "throughput_output_tok_s": ("replica", "output_tokens_per_s"),  # one replica's
    "ttft_s": ("replica", "ttft_s"),
    "tpot_s": ("replica", "tpot_s"),
    "e2e_s": ("replica", "e2e_s"),
    "interactivity_tokens_per_s": ("replica", "interactivity_tokens_per_s"),
    "binding": ("feasibility", "binding"),
}
PLAN_COLUMNS: dict[str, tuple[str, ...]] = {
    **{f"chosen_{k}": (k,) for k in ("model", "gpu", "tp", "pp", "weight_precision")},
    "chosen_kv_precision": ("kv_precision",),
    "chosen_max_seqs": ("max_seqs",),
    "gpus": ("gpus",),
    "replicas": ("replicas",),
    "gpus_per_replica": ("gpus_per_replica",),
    **{
        k: (k,)
        for k in (
            "usd_per_gpu_hour",
            "usd_per_month",
            "usd_per_day",
            "usd_per_query",
            "usd_per_million_output_tokens",
            "usd_per_million_tokens",
            "verified",
            "meets_targets",
            "binding_limit",
        )
    },
    "throughput_output_tok_s": ("simulated", "throughput_output_tok_s"),
    "goodput_rps": ("simulated", "goodput_rps"),
    **PERCENTILES,
}
SIMULATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "replicas": ("fleet", "replicas_in_fleet"),
    "replicas_simulated": ("fleet", "replicas_simulated"),
    "gpus_per_replica": ("fleet", "gpus_per_replica"),
    **{
        k: (k,)
        for k in (
            "completed",
            "throughput_output_tok_s",
            "throughput_requests_per_s",
            "goodput_rps",
            "mean_concurrency",
            "preemptions",
            "kv_utilisation",
        )
    },
    "failed_requests": ("errors",),
    **{k: path[1:] for k, path in PERCENTILES.items()},
}
COLUMNS = {"evaluate": ESTIMATE_COLUMNS, "plan": PLAN_COLUMNS, "simulate": SIMULATE_COLUMNS}


@dataclass(frozen=True)
class Grid:
    """Request fields and their values; cells are their product, the last key fastest."""

    keys: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...]

    @classmethod
    def of(cls, grid: dict[str, Any]) -> Grid:
        """A scalar is one value; a list is the values (a list inside it is one value)."""
        values = []
        for key, value in grid.items():
            value = tuple(value) if isinstance(value, list) else (value,)
            if not value:
                raise InputError(f"grid.{key}", "has no values")
            values.append(value)
        return cls(tuple(grid), tuple(values))

    @property
    def size(self) -> int:
        return math.prod(len(v) for v in self.values)

    def cell(self, index: int) -> dict[str, Any]:
        """The fields of cell `index`, decoded in mixed radix (last key fastest)."""
        out: dict[str, Any] = {}
        for key, values in zip(reversed(self.keys), reversed(self.values), strict=True):
            index, digit = divmod(index, len(values))
            out[key] = values[digit]
        return {key: out[key] for key in self.keys}


def cell_indices(grid: Grid, samples: int | None, seed: int) -> np.ndarray:
    """Every cell's index, or `samples` distinct ones drawn with `seed`, in index order."""
    size = grid.size
    if samples is None:
        if size > MAX_SWEEP_CELLS:
            raise InputError(
                "grid", f"has {size:,} cells; the limit is {MAX_SWEEP_CELLS:,} (or give samples)"
            )
        return np.arange(size, dtype=np.int64)
    if samples > size:
        raise InputError("samples", f"must be at most the grid's {size:,} cells, got {samples:,}")
    drawn = np.random.default_rng(seed).choice(size, size=samples, replace=False)
    return np.sort(drawn).astype(np.int64)


def chunked(items: Sequence[Any], workers: int) -> list[Sequence[Any]]:
    """Consecutive slices, about `CHUNKS_PER_WORKER` per worker, at most `MAX_SWEEP_CHUNK`."""
    size = math.ceil(len(items) / (workers * CHUNKS_PER_WORKER)) if items else 1
    size = min(max(size, 1), MAX_SWEEP_CHUNK)
    return [items[i : i + size] for i in range(0, len(items), size)]


def _dig(doc: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(part)
    return doc


def flatten(verb: str, doc: dict[str, Any] | None) -> dict[str, Any]:
    """The verb's output columns from its result's `to_dict()` (all null for no result)."""
    columns = COLUMNS[verb]
    if doc is None:
        return dict.fromkeys(columns)
    if verb == "evaluate":
        doc = (doc.get("estimates") or [None])[0]
    elif verb == "plan":
        feasible = bool(doc.get("feasible"))
        return {"feasible": feasible, **flatten_paths(columns, doc.get("best"))}
    out = flatten_paths(columns, doc)
    if verb == "evaluate" and out["usd_per_day"] is not None:
        out["usd_per_month"] = out["usd_per_day"] * HOURS_PER_MONTH / 24
    return out


def flatten_paths(columns: dict[str, tuple[str, ...]], doc: Any) -> dict[str, Any]:
    row = {name: _dig(doc, path) if path else None for name, path in columns.items()}
    # strict JSON: NaN and infinities as null, numpy scalars as numbers (as the cache reads)
    out: dict[str, Any] = json.loads(strict_json(row, indent=None))
    return out


def output_names(verb: str) -> list[str]:
    return (["feasible"] if verb == "plan" else []) + list(COLUMNS[verb])


def write_table(
    path: Path,
    grid: Grid,
    indices: Iterator[int] | Sequence[int],
    rows: dict[int, tuple[dict[str, Any], str | None]],
    verb: str,
) -> int:
    """One Parquet row per cell, in index order: `cell`, the grid's keys, the outputs (an
    output named as a grid key is written `out_<name>`), `error`. Returns the row count."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    order = list(indices)
    data: dict[str, list[Any]] = {"cell": order}
    cells = [grid.cell(i) for i in order]
    for key in grid.keys:
        data[key] = [c[key] for c in cells]
    for name in output_names(verb):
        column = f"out_{name}" if name in data else name
        data[column] = [rows[i][0].get(name) for i in order]
    data["error"] = [rows[i][1] for i in order]
    arrays = {name: _array(pa, values) for name, values in data.items()}
    pq.write_table(pa.table(arrays), path)
    return len(order)


def _array(pa: Any, values: list[Any]) -> Any:
    """A native column when the values allow one, else each value as JSON text."""
    if all(v is None or isinstance(v, bool | int | float | str) for v in values):
        try:
            return pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
    return pa.array([None if v is None else json.dumps(v, sort_keys=True) for v in values])
