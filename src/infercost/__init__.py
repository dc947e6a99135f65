"""infercost: what it costs to serve a large language model, and the proof.

The verbs, imported lazily so that the command line starts fast:

    estimate(model, gpu, ...)       one replica: memory, latency, throughput, $/1M tokens
    reproduce(name_or_path, sets)   a scenario recomputed: published vs computed
    accelerator(name), model(name)  catalog lookups by id or alias
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["accelerator", "estimate", "model", "reproduce"]

_HOMES = {
    "accelerator": "infercost.catalog.hardware",
    "estimate": "infercost.estimate",
    "model": "infercost.catalog.models",
    "reproduce": "infercost.scenario.engine",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'infercost' has no attribute {name!r}")
