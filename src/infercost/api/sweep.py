"""`sweep`: one verb (evaluate, plan or simulate) over a grid of its request's fields, one
Parquet row per cell, in a process pool or on Ray, resumable from a cache beside the output.

Everything that can be checked before work starts is: every grid key is a field of the verb's
request model (else the error names it and lists the allowed ones), every value is valid for
its field, the fields the verb requires are in the grid, the cell count and the size of a
simulate or plan cell are within their bounds (`limits.py`), and the output path is a
`.parquet` file in an existing folder. What only a whole cell can show (a model that does not
fit, two fields that exclude each other) is recorded in that cell's `error` column; the sweep
goes on.

A plan cell whose grid does not give `requests` simulates 10,000 requests per verification
(`PLAN_REQUESTS`) instead of the planner's 200,000, so a plan sweep stays tractable.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_origin

from pydantic import TypeAdapter, ValidationError

from infercost.api.models import (
    EstimateRequest,
    PlanRequest,
    Request,
    SimulateRequest,
    SweepRequest,
    parse,
)
from infercost.api.options import output_file
from infercost.errors import InputError
from infercost.limits import MAX_SWEEP_PLAN_REQUESTS, MAX_SWEEP_PLAN_VERIFY, MAX_SWEEP_SIM_REQUESTS
from infercost.planning.sweep import Grid, cell_indices, chunked, flatten, write_table
from infercost.planning.sweep_cache import Cache, Row, cell_key, code_version, folder_hash

REQUESTS: dict[str, type[Request]] = {
    "evaluate": EstimateRequest,
    "plan": PlanRequest,
    "simulate": SimulateRequest,
}
# Not sweepable: files each cell would write (and overwrite), and a verb's own workers; nor
# a whole-fleet simulation, a sharded run of its own rather than a cell.
WRITES_FILES = ("records", "frontier", "plot", "workers", "ray")
WHOLE_FLEET = {"simulate": ("whole_fleet", "hours", "profile")}
BOUNDS = {
    "simulate": {"requests": MAX_SWEEP_SIM_REQUESTS},
    "plan": {"requests": MAX_SWEEP_PLAN_REQUESTS, "verify": MAX_SWEEP_PLAN_VERIFY},
}
PLAN_REQUESTS = 10_000


@dataclass(frozen=True)
class Chunk:
    """Cells for one worker: the verb, the user's catalog folder, (key, fields) per cell."""

    verb: str
    catalog: str | None
    cells: tuple[tuple[str, dict[str, Any]], ...]


@dataclass(frozen=True)
class SweepResult:
    out: Path
    cache: Path
    cells: int
    failed: int
    cached: int
    computed: int
    seconds: float
    backend: str

    def to_dict(self) -> dict[str, Any]:
        rate = self.computed / self.seconds if self.seconds > 0 else None
        return {
            "out": str(self.out),
            "cache": str(self.cache),
            "cells": self.cells,
            "failed": self.failed,
            "cached": self.cached,
            "computed": self.computed,
            "seconds": self.seconds,
            "cells_per_s": rate,
            "backend": self.backend,
        }


def sweep(
    request: SweepRequest | dict[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
    **fields: Any,
) -> SweepResult:
    """Every cell of the grid (or `samples` of them) through the verb; the Parquet file
    written at the end, each finished chunk cached as it completes."""
    from infercost.catalog.lookup import catalog_dir
    from infercost.planning.runner import Runner

    start = time.perf_counter()
    req = parse(SweepRequest, request, **fields)
    out = _output(req.out)
    grid = check_grid(req.verb, req.grid)
    indices = cell_indices(grid, req.samples, req.seed)
    runner = Runner(req.workers or os.cpu_count() or 1, req.ray)
    runner.check()
    catalog = catalog_dir()
    version = f"{code_version()}/{folder_hash(catalog)}"
    cache = Cache.beside(out).load()
    rows: dict[int, Row] = {}
    todo: list[tuple[int, str, dict[str, Any]]] = []
    for i in indices.tolist():
        cell = request_fields(req.verb, grid.cell(i))
        key = cell_key(req.verb, cell, version)
        if key in cache.rows:
            rows[i] = cache.rows[key]
        else:
            todo.append((i, key, cell))
    cached = len(rows)
    _report(progress, len(rows), len(indices))
    chunks = chunked(todo, runner.workers)
    work = [Chunk(req.verb, _text(catalog), tuple((k, c) for _, k, c in ch)) for ch in chunks]
    for n, results in runner.map(run_chunk, work):
        cache.save(zip((k for _, k, _ in chunks[n]), results, strict=True))
        rows.update(zip((i for i, _, _ in chunks[n]), results, strict=True))
        _report(progress, len(rows), len(indices))
    write_table(out, grid, indices.tolist(), rows, req.verb)
    failed = sum(1 for outputs, error in rows.values() if error is not None)
    seconds = time.perf_counter() - start
    return SweepResult(
        out, cache.folder, len(rows), failed, cached, len(todo), seconds, runner.name
    )


def check_grid(verb: str, grid: dict[str, Any]) -> Grid:
    """The grid, every key and value checked against the verb's request model."""
    model = REQUESTS[verb]
    refused = (*WRITES_FILES, *WHOLE_FLEET.get(verb, ()))
    allowed = [f for f in model.model_fields if f not in refused]
    for key in grid:
        if key not in allowed:
            raise InputError(f"grid.{key}", f"not a field of {verb}; allowed: {', '.join(allowed)}")
    for name, info in model.model_fields.items():
        if info.is_required() and name not in grid:
            raise InputError("grid", f"{verb} needs {name}: give it in the grid")
    checked = Grid.of(grid)
    for key, values in zip(checked.keys, checked.values, strict=True):
        adapter: TypeAdapter[Any] = TypeAdapter(model.model_fields[key].rebuild_annotation())
        for value in values:
            _check_value(verb, key, adapter, value)
    return checked


def _check_value(verb: str, key: str, adapter: TypeAdapter[Any], value: Any) -> None:
    field = f"grid.{key}"
    try:
        valid = adapter.validate_python(_as_field(verb, key, value))
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InputError(field, f"{first['msg']}, got {value!r}") from None
    bound = BOUNDS.get(verb, {}).get(key)
    if bound is not None and valid is not None and valid > bound:
        raise InputError(field, f"at most {bound:,} in a sweep's {verb} cell, got {valid:,}")


def _as_field(verb: str, key: str, value: Any) -> Any:
    """A scalar grid value for a list field is a one-item list: gpu h100 → ["h100"]."""
    annotation = REQUESTS[verb].model_fields[key].annotation
    if get_origin(annotation) is list and not isinstance(value, list):
        return [value]
    return value


def request_fields(verb: str, cell: dict[str, Any]) -> dict[str, Any]:
    """A cell's request fields: list fields as lists, a plan's requests bounded."""
    fields = {key: _as_field(verb, key, value) for key, value in cell.items()}
    if verb == "plan" and "requests" not in fields:
        fields["requests"] = PLAN_REQUESTS
    return fields


def run_chunk(chunk: Chunk) -> list[Row]:
    """Each cell of a chunk through its verb: (output columns, None) or (nulls, the error).
    Runs in a worker process or a Ray worker, so it sets up the user's catalog itself."""
    from infercost.catalog.lookup import use_catalog

    use_catalog(chunk.catalog)
    return [run_cell(chunk.verb, fields) for _, fields in chunk.cells]


def run_cell(verb: str, fields: dict[str, Any]) -> Row:
    from infercost.api.estimation import estimate
    from infercost.api.planning import plan
    from infercost.api.simulation import simulate

    verbs: dict[str, Callable[..., Any]] = {
        "evaluate": estimate,
        "plan": plan,
        "simulate": simulate,
    }
    try:
        doc = verbs[verb](fields).to_dict()
    except InputError as exc:
        return flatten(verb, None), str(exc)
    except Exception as exc:  # a cell's failure is a row, not the end of the sweep
        return flatten(verb, None), f"{type(exc).__name__}: {exc}"
    return flatten(verb, doc), None


def _output(out: str) -> Path:
    path = output_file(out, "out", (".parquet",))
    if path is None:
        raise InputError("out", "give the Parquet file to write")
    return path


def _text(path: Path | None) -> str | None:
    return None if path is None else str(path)


def _report(progress: Callable[[int, int], None] | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)
