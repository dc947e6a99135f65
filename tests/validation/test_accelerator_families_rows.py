"""The measured rows for TPUs, Intel Gaudi and AWS Trainium/Inferentia in incoming.csv.

Their sources are in sources.md (MLPERF40-*, INTEL-GAUDI2/3-*, TPURECIPES-*, NEURON-*). A row
must reach the catalog accelerator and model it names, in the hardware family that keeps its
calibration apart from the NVIDIA data-centre group, and yield a finite prediction; a row the
model cannot take yet must say which column stops it.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from infercost.catalog.hardware import accelerators
from infercost.perf.deployment import Efficiency
from infercost.validation.dataset import DATA_DIR, load_rows
from infercost.validation.freetext import read_row
from infercost.validation.mapping import Case, find_accelerator, find_model, map_row
from infercost.validation.predict import check_fits, predict
from infercost.validation.report import prepare

ROWS = {r.id: r for r in load_rows(DATA_DIR / "incoming.csv")}

# id prefix -> (catalog accelerator, its hardware family)
ACCELERATOR = {
    "MLPERF40-INTEL": ("gaudi2", "intel-gpu"),
    "MLPERF40-GOOGLE": ("tpu-v5e", "tpu"),
    "INTEL-GAUDI2": ("gaudi2", "intel-gpu"),
    "INTEL-GAUDI3": ("gaudi3", "intel-gpu"),
    "TPURECIPES-V6E": ("tpu-v6e", "tpu"),
    "TPURECIPES-TPU7X": ("tpu7x", "tpu"),
    "NEURON-TRN2": ("trainium2", "aws-asic"),
    "NEURON-INF2": ("inferentia2", "aws-asic"),
}
# sources whose rows the model cannot take yet, and the column that stops them
PENDING = {
    "MLPERF40-INTEL": "input_len",  # OpenOrca: no sourced prompt mean in datasets.yaml
    "MLPERF40-GOOGLE": "input_len",  # CNN/DailyMail: likewise
    "NEURON-INF2": "tp",  # 12 chips do not split the heads evenly (Neuron pads them)
}
NEW = sorted(i for i in ROWS if ROWS[i].source in ACCELERATOR)
MAPPED = [i for i in NEW if ROWS[i].source not in PENDING]
WAITING = [i for i in NEW if ROWS[i].source in PENDING]


def _case(row_id: str) -> Case:
    mapped = map_row(ROWS[row_id])
    assert isinstance(mapped, Case), f"{row_id}: {mapped.reason}"
    return mapped


def test_every_source_and_family_has_rows() -> None:
    assert {ROWS[i].source for i in NEW} == set(ACCELERATOR)
    families = {accelerators().get(gpu).family for gpu, _ in ACCELERATOR.values()}
    assert families == {"tpu", "intel-gpu", "aws-asic"}
    assert len(MAPPED) >= 40


@pytest.mark.parametrize("row_id", NEW)
def test_a_row_names_its_catalog_accelerator_and_model(row_id: str) -> None:
    m = read_row(ROWS[row_id])
    gpu, family = ACCELERATOR[ROWS[row_id].source]
    accelerator = find_accelerator(m.gpu)
    assert (accelerator.id, accelerator.family) == (gpu, family)
    find_model(m.model)  # raises when the catalog lacks it


@pytest.mark.parametrize(
    ("row_id", "gpu", "model", "tp"),
    [
        ("INTEL-GAUDI2-005", "gaudi2", "llama-2-70b", 2),
        ("INTEL-GAUDI3-017", "gaudi3", "llama-3.1-70b", 8),
        ("TPURECIPES-V6E-001", "tpu-v6e", "llama-3.3-70b", 8),
        ("TPURECIPES-TPU7X-002", "tpu7x", "qwen3-32b", 1),
        ("NEURON-TRN2-003", "trainium2", "llama-3.1-405b", 16),
    ],
)
def test_a_row_maps_to_the_intended_layout(row_id: str, gpu: str, model: str, tp: int) -> None:
    case = _case(row_id)
    assert (case.gpu.id, case.model.id, case.tp) == (gpu, model, tp)


@pytest.mark.parametrize("row_id", MAPPED)
def test_a_row_is_predicted_finite_and_positive(row_id: str) -> None:
    case = _case(row_id)
    check_fits(case)
    value = predict(case, Efficiency()).value
    assert math.isfinite(value)
    assert value > 0


@pytest.mark.parametrize("row_id", WAITING)
def test_a_row_the_model_cannot_take_yet_names_the_column(row_id: str) -> None:
    cases, unmapped = prepare([ROWS[row_id]])  # as validate maps and checks it
    if cases:  # a sourced data-set mean or a padded layout arrived
        assert math.isfinite(predict(cases[0], Efficiency()).value)
        return
    assert unmapped[0].reason.startswith(f"{PENDING[ROWS[row_id].source]}:")


def test_gaudi_3_is_never_predicted_slower_than_gaudi_2_on_the_same_run() -> None:
    # Gaudi 3 has more HBM bandwidth, compute and link bandwidth than Gaudi 2 in the catalog
    eff = Efficiency()
    gaudi3 = accelerators().get("gaudi3")
    for row_id in (i for i in MAPPED if ROWS[i].source == "INTEL-GAUDI2"):
        case = _case(row_id)
        assert predict(replace(case, gpu=gaudi3), eff).value >= predict(case, eff).value


def test_a_larger_model_on_the_same_trainium2_chips_decodes_slower() -> None:
    eff = Efficiency()
    llama70b, llama405b = _case("NEURON-TRN2-002"), _case("NEURON-TRN2-004")
    assert llama70b.target == llama405b.target == "tpot_ms"
    assert predict(llama405b, eff).value > predict(llama70b, eff).value
