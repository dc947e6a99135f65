"""The one API: every verb exported, callable with a request model or keywords."""

from __future__ import annotations

import pytest

import infercost
from infercost.api import EstimateRequest, parse
from infercost.errors import InputError

VERBS = {"estimate", "plan", "reproduce", "simulate", "measure", "calibrate", "validate",
         "catalog_rows", "import_model", "accelerator", "model", "engine"}  # fmt: skip


def test_every_verb_is_exported() -> None:
    import infercost.api

    assert set(infercost.__all__) >= VERBS
    assert infercost.__all__ == sorted(infercost.__all__)
    assert set(infercost.__all__) == set(infercost.api.__all__) - {"parse"}
    for name in infercost.__all__:
        assert callable(getattr(infercost, name)), name


def test_a_verb_takes_a_request_or_keywords() -> None:
    by_model = infercost.estimate(EstimateRequest(model="llama-3.1-8b", gpu=["h100"]))
    by_keywords = infercost.estimate(model="llama-3.1-8b", gpu=["h100"])
    assert by_model.to_dict() == by_keywords.to_dict()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"input_tokens": float("inf")}, "input_tokens"),
        ({"price": float("nan")}, "price"),
        ({"price": -1.0}, "price"),
        ({"concurrency": 0}, "concurrency"),
        ({"tp": 100_000}, "tp"),
        ({"colour": "red"}, "colour"),
        ({"gpu": []}, "gpu"),
    ],
)
def test_bad_requests_name_the_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as err:
        parse(EstimateRequest, {"model": "llama-3.1-8b", "gpu": ["h100"], **fields})
    assert err.value.field == field


def test_the_estimate_json_is_strict_and_one_shape() -> None:
    import json

    from infercost.files import strict_json

    doc = infercost.estimate(model="llama-3.1-8b", gpu=["h100", "h200"]).to_dict()
    assert [e["deployment"]["gpu"] for e in doc["estimates"]] == ["h100-sxm", "h200"]
    json.loads(strict_json(doc), parse_constant=lambda name: pytest.fail(name))


def test_strict_json_writes_null_for_numbers_that_are_not_finite() -> None:
    from infercost.files import strict_json

    assert strict_json({"a": float("nan"), "b": [float("inf"), 1.5]}, indent=None) == (
        '{"a": null, "b": [null, 1.5]}'
    )
