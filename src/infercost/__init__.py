"""infercost: what it costs to serve a large language model, and the proof.

The verbs, imported lazily so that the command line starts fast (see `infercost.api`):

    estimate(model=, gpu=[...])      one replica per accelerator: memory, latency, $/1M tokens
    reproduce(scenario=)             a scenario recomputed: published vs computed
    plan(model=[...], qps=, slo=)    the cheapest fleet that meets latency targets, simulated
    simulate(...)                    a fleet request by request: latency percentiles, goodput
    measure(url=, model=)            load-test a live OpenAI-compatible server
    calibrate(results=)              efficiency factors fitted to a measurement
    validate()                       the performance model against measured benchmarks
    sweep(verb=, grid=, out=)        one verb over a grid of its inputs, a Parquet row a cell
    catalog_rows(table=), accelerator(name), model(name), engine(name), import_model(file=)

Each takes its request model (`EstimateRequest`, ...) or the same fields as keywords, and
returns a typed result with `to_dict()`.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "CalibrateRequest",
    "CatalogRequest",
    "EstimateRequest",
    "ImportModelRequest",
    "MeasureRequest",
    "PlanRequest",
    "ReproduceRequest",
    "SimulateRequest",
    "SweepRequest",
    "SweepSpec",
    "ValidateRequest",
    "accelerator",
    "calibrate",
    "catalog_rows",
    "engine",
    "estimate",
    "import_model",
    "measure",
    "model",
    "plan",
    "reproduce",
    "simulate",
    "sweep",
    "validate",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(import_module("infercost.api"), name)
    raise AttributeError(f"module 'infercost' has no attribute {name!r}")
