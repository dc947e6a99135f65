"""What each verb's report says: its result document turned into titled sections of text,
tables and charts, in the order a reader needs them (the answer, where it comes from, what
moves it).

    reproduce  published against computed, cost breakdown, traffic, assumptions with sources,
               variants, ranges and tornado                                   (scenarios.py)
    estimate   one row per accelerator, cost breakdown, the fleet against traffic
    plan       the chosen fleet, its pools, the frontiers, the day, the API comparison
                                                                             (fleets.py)
    simulate   latency percentiles, CDFs and over time (other runs overlaid), pools
    measure    levels measured against predicted, CDFs and over time per level
    validate   predicted against measured, accuracy by source                   (runs.py)
    calibrate  each measured level against the roofline, raw and fitted          (runs.py)
"""

from __future__ import annotations

from collections.abc import Callable

from infercost.report.fleets import plan
from infercost.report.layout import Section
from infercost.report.runs import calibrate, measure, simulate, validate
from infercost.report.scenarios import estimate, reproduce

BUILDERS: dict[str, Callable[..., list[Section]]] = {
    "reproduce": reproduce,
    "estimate": estimate,
    "plan": plan,
    "simulate": simulate,
    "measure": measure,
    "validate": validate,
    "calibrate": calibrate,
}
