"""infercost's verbs and their request models: one API under the command line and the web.

    estimate(model=..., gpu=[...])     one replica per accelerator, and the fleet for a traffic
    reproduce(scenario=...)            a scenario recomputed: published against computed
    simulate(...)                      a fleet request by request
    measure(url=..., model=...)        load levels against a live server
    calibrate(results=...)             efficiency factors fitted to a measurement
    validate()                         the model against measured public benchmarks
    catalog_rows(table=...), accelerator(name), model(name), engine(name), import_model(file=...)

Each verb takes its request model, or the same fields as keywords.
"""

from __future__ import annotations

from infercost.api.models import (
    CalibrateRequest,
    CatalogRequest,
    EstimateRequest,
    ImportModelRequest,
    MeasureRequest,
    ReproduceRequest,
    SimulateRequest,
    ValidateRequest,
    parse,
)
from infercost.api.verbs import (
    calibrate,
    catalog_rows,
    estimate,
    import_model,
    measure,
    reproduce,
    simulate,
    validate,
)
from infercost.catalog.engines import engine
from infercost.catalog.hardware import accelerator
from infercost.catalog.models import model

__all__ = [
    "CalibrateRequest",
    "CatalogRequest",
    "EstimateRequest",
    "ImportModelRequest",
    "MeasureRequest",
    "ReproduceRequest",
    "SimulateRequest",
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
    "reproduce",
    "simulate",
    "validate",
]
