"""infercost's verbs and their request models: one API under the command line and the web.

    estimate(model=..., gpu=[...])     one replica per accelerator, and the fleet for a traffic
    reproduce(scenario=...)            a scenario recomputed: published against computed
    plan(model=[...], qps=..., slo=...) the cheapest fleet that meets latency targets
    simulate(...)                      a fleet request by request
    sweep(verb=..., grid={...}, out=...) one verb over a grid, a Parquet row per cell
    measure(url=..., model=...)        load levels against a live server
    calibrate(results=...)             efficiency factors fitted to a measurement
    validate()                         the model against measured public benchmarks
    catalog_rows(table=...), accelerator(name), model(name), engine(name), import_model(file=...)

Each verb takes its request model, or the same fields as keywords, checks what the
request's fields cannot check alone, asks the layers beneath, and returns a typed result
with `to_dict()`. Every rule a front end would otherwise need lives here: which options
apply together, what an output path must be before a long run starts, when a measurement
counts as failed. The command line and the web app only turn input into a request and a
result into text.
"""

from __future__ import annotations

from infercost.api.catalogs import catalog_rows, import_model
from infercost.api.estimation import estimate, reproduce
from infercost.api.measurement import calibrate, measure
from infercost.api.models import (
    CalibrateRequest,
    CatalogRequest,
    EstimateRequest,
    ImportModelRequest,
    MeasureRequest,
    PlanRequest,
    ReproduceRequest,
    SimulateRequest,
    SweepRequest,
    SweepSpec,
    ValidateRequest,
    parse,
)
from infercost.api.planning import plan
from infercost.api.simulation import simulate
from infercost.api.sweep import sweep
from infercost.api.validation import validate
from infercost.catalog.engines import engine
from infercost.catalog.hardware import accelerator
from infercost.catalog.models import model

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
    "parse",
    "plan",
    "reproduce",
    "simulate",
    "sweep",
    "validate",
]
