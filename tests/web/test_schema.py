"""Schemathesis against the running app: every operation of /openapi.json, fuzzed with a
fixed, seeded budget, valid and invalid inputs; no answer may be a server error or differ
from the documented schema (bodies and status codes).

Schemathesis's pytest plugin does not run under pytest 9 (`from_fixture` reads a node
attribute pytest removed), so each operation's strategy is driven by hypothesis here.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = 25  # per operation and mode: the whole run stays under a minute on 2 cores
OPERATIONS = [
    "POST /api/v1/estimate",
    "POST /api/v1/reproduce",
    "POST /api/v1/plan",
    "POST /api/v1/simulate",
    "GET /api/v1/catalog/{table}",
    "GET /api/v1/scenarios",
    "GET /api/v1/scenarios/{name}",
]
# Invalid inputs exist only where the schema constrains something (a body, an enum).
NO_INVALID_INPUT = ("GET /api/v1/scenarios", "GET /api/v1/scenarios/{name}")
CASES = [(label, GenerationMode.POSITIVE) for label in OPERATIONS] + [
    (label, GenerationMode.NEGATIVE) for label in OPERATIONS if label not in NO_INVALID_INPUT
]
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


@pytest.fixture(scope="module")
def operations(live_url: str) -> dict[str, Any]:
    schema = schemathesis.openapi.from_url(f"{live_url}/openapi.json")
    found = {}
    for result in schema.get_all_operations():
        op = result.ok()
        found[f"{op.method.upper()} {op.path}"] = op
    return found


def test_the_schema_lists_every_operation(operations: dict[str, Any]) -> None:
    assert sorted(operations) == sorted(OPERATIONS)


@pytest.mark.parametrize(("label", "mode"), CASES)
def test_operation_conforms(
    operations: dict[str, Any], live_url: str, label: str, mode: GenerationMode
) -> None:
    op = operations[label]
    statuses: list[int] = []

    @given(case=op.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,  # the same cases every run
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the time stays bounded
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def run(case: Any) -> None:
        response = case.call_and_validate(base_url=live_url, checks=CHECKS, timeout=90)
        statuses.append(response.status_code)

    run()
    if mode == GenerationMode.POSITIVE:  # the verb itself ran, at least on the example
        assert 200 in statuses, statuses
