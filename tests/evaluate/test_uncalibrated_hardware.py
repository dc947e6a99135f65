"""A prediction for hardware no measured row covers says so, with how far calibrated
predictions miss on measured hardware; hardware that was measured carries no such note."""

from __future__ import annotations

import pytest

from infercost.api import estimate
from infercost.catalog.hardware import accelerator
from infercost.perf.calibration import load_calibration


@pytest.mark.parametrize(
    ("gpu", "family"),
    [("tpu-v6e", "tpu"), ("trainium2", "aws-asic"), ("gaudi3", "intel-gpu")],
)
def test_an_unmeasured_family_is_said_to_be_uncalibrated(gpu: str, family: str) -> None:
    assert accelerator(gpu).family == family
    doc = estimate(model="llama-3.1-8b", gpu=[gpu], price=2.0).to_dict()["estimates"][0]
    (warning,) = doc["warnings"]
    assert f"uncalibrated for {family} hardware" in warning
    miss = load_calibration().provenance["out_of_sample_mdape_percent"]
    assert f"{miss['throughput']:g} % (throughput)" in warning


@pytest.mark.parametrize("gpu", ["h100", "mi300x", "a100-80gb"])
def test_a_measured_family_carries_no_note(gpu: str) -> None:
    doc = estimate(model="llama-3.1-8b", gpu=[gpu]).to_dict()["estimates"][0]
    assert "warnings" not in doc


def test_the_raw_roofline_is_not_called_uncalibrated_for_one_family() -> None:
    doc = estimate(model="llama-3.1-8b", gpu=["tpu-v6e"], price=2.0, calibration=None)
    assert "warnings" not in doc.to_dict()["estimates"][0]
