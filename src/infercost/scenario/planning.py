"""A scenario as a plan's question: its model, traffic, lengths, engine, prices and the
`plan:` block, as defaults for `infercost plan SCENARIO` (the command line overrides each).

The traffic is the scenario's average rate with its peak-to-average ratio; the plan sizes
for the peak by its targets, so the scenario's `target_utilisation` (a sizing rule of its
own) and its stated concurrency do not apply; its per-user speed target becomes a minimum
interactivity. A rented scenario's price is its accelerator's; the block's `prices`
add others, and the rest take catalog prices. Efficiency factors the scenario states apply
to every configuration searched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infercost.catalog.hardware import accelerator
from infercost.evaluate.config import stated
from infercost.scenario.engine import traffic
from infercost.scenario.schema import Scenario


@dataclass(frozen=True)
class ScenarioQuestion:
    fields: dict[str, Any]  # PlanRequest fields: the question's defaults
    efficiency: tuple[tuple[str, float], ...]


def question_of(scenario: Scenario) -> ScenarioQuestion:
    inputs, block = scenario.inputs, scenario.plan
    w, t = inputs.workload, traffic(inputs)
    fields: dict[str, Any] = {
        "model": [inputs.model.name],
        "qps": t.queries_per_s,
        "peak_to_average": w.peak_to_average,
        "input_tokens": _spec(w.input_tokens),
        "output_tokens": _spec(w.output_tokens),
        "cached_fraction": w.cached_input_fraction,
        "slo": inputs.serving.slo,
        "min_interactivity": inputs.serving.target_interactivity_tokens_per_s,
        "engine": inputs.serving.engine,
    }
    cost = inputs.cost
    if cost.mode == "own":
        fields.update(own=True, owner_profile=cost.owner_profile)
    elif cost.usd_per_gpu_hour is not None:
        fields["prices"] = {accelerator(inputs.hardware.gpu).id: cost.usd_per_gpu_hour}
    if block is not None:
        given = block.model_dump(exclude_none=True)
        renames = {"gpus": "gpu", "servers": "server", "precisions": "precision",
                   "kv_precisions": "kv_precision"}  # fmt: skip
        for key, value in given.items():
            if value in ([], {}):
                continue
            if key == "prices":
                value = {**fields.get("prices", {}), **value}
            fields[renames.get(key, key)] = value
    eff = {k: v for k, v in inputs.efficiency.model_dump().items() if v is not None}
    return ScenarioQuestion(fields, stated(**eff))


def _spec(tokens: float) -> str:
    return f"{tokens:g}"
