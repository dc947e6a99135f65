"""Fitting efficiency factors, and leaving one source out without leaking it back in."""

from __future__ import annotations

from dataclasses import replace

import pytest

from infercost.catalog.hardware import accelerator
from infercost.perf.calibration import POOLED, Factors, load_calibration
from infercost.perf.deployment import Efficiency
from infercost.validation.calibrate import (
    MIN_ROWS,
    _engine_groups,
    calibrate,
    fit,
    leave_one_source_out,
)
from infercost.validation.dataset import BUILTIN, load_rows
from infercost.validation.mapping import Case
from infercost.validation.predict import predict, predictor
from infercost.validation.report import prepare

SOURCES = ("TRT061", "TRTBLOG-H100A100", "NEMO-L2", "TRTBLOG-F180")


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    mapped, _ = prepare(load_rows())
    return [c for c in mapped if c.source in SOURCES]


def _synthetic(cases: list[Case], eff: Efficiency) -> list[Case]:
    """The rows with 'measured' values that `eff` predicts exactly."""
    return [replace(c, measured=predict(c, eff).value) for c in cases]


def test_fit_recovers_factors_that_generated_the_data(cases: list[Case]) -> None:
    truth = replace(Efficiency(), compute=0.42, memory=0.55, step_overhead_s=4e-3)
    fitted = fit(_synthetic(cases, truth), Factors.of(Efficiency()))
    assert fitted.compute == pytest.approx(0.42, rel=0.12)
    assert fitted.memory == pytest.approx(0.55, rel=0.12)
    assert fitted.step_overhead_s == pytest.approx(4e-3, rel=0.3)
    assert fitted.rows == len(cases)
    assert set(fitted.sources) == set(SOURCES)


def test_fit_on_data_the_defaults_explain_stays_at_the_defaults(cases: list[Case]) -> None:
    fitted = fit(_synthetic(cases, Efficiency()), Factors.of(Efficiency()))
    assert fitted.compute == pytest.approx(Efficiency().compute, rel=0.05)
    assert fitted.memory == pytest.approx(Efficiency().memory, rel=0.05)


def test_held_out_rows_never_calibrate_their_own_prediction(cases: list[Case]) -> None:
    before = leave_one_source_out(cases)
    # Make one source's measurements absurd: its own held-out factors must not move...
    poisoned = [replace(c, measured=c.measured * 10) if c.source == "NEMO-L2" else c for c in cases]
    after = leave_one_source_out(poisoned)
    for case in cases:
        if case.source == "NEMO-L2":
            assert after[case.row_id].factors == before[case.row_id].factors
            assert "NEMO-L2" not in after[case.row_id].factors.sources
    # ...while the other sources, which train on it, see the change.
    moved = [
        c.row_id
        for c in cases
        if c.source != "NEMO-L2" and after[c.row_id].factors != before[c.row_id].factors
    ]
    assert moved


def test_every_row_is_predicted_from_other_sources_only(cases: list[Case]) -> None:
    held = leave_one_source_out(cases)
    assert set(held) == {c.row_id for c in cases}
    for h in held.values():
        assert h.case.source not in h.factors.sources
        assert h.factors.rows >= MIN_ROWS


def test_calibrate_fits_engine_hardware_and_pooled_groups(cases: list[Case]) -> None:
    cal = calibrate(cases)
    assert {POOLED, "tensorrt-llm", "tensorrt-llm/datacenter-gpu", "*/datacenter-gpu"} <= set(
        cal.groups
    )
    assert cal.groups[POOLED].rows == len(cases)


def test_builtin_calibration_was_fitted_on_the_builtin_data() -> None:
    import hashlib

    cal = load_calibration()
    digest = hashlib.sha256(BUILTIN.read_bytes()).hexdigest()
    assert cal.provenance["data_sha256"] == digest, "rerun infercost validate --write-calibration"
    assert cal.provenance["basis"] == "calibrated"
    for factors in cal.groups.values():
        assert factors.rows >= MIN_ROWS
        assert 0 < factors.compute <= 1
        assert 0 < factors.memory <= 1


def test_a_row_resolved_once_predicts_as_resolving_it_at_every_trial(cases: list[Case]) -> None:
    trials = [
        Efficiency(),
        replace(Efficiency(), compute=0.2, memory=0.3, attention_memory=0.15),
        replace(Efficiency(), step_overhead_s=0.05, token_overhead_s=1e-4),
    ]
    for case in cases:
        at = predictor(case)
        assert [at(e) for e in trials] == [predict(case, e) for e in trials]
    with pytest.raises(ValueError, match="compute"):  # a bad trial is refused the same way
        predictor(cases[0])(replace(Efficiency(), compute=1.5))


def test_a_fold_fits_only_the_groups_its_rows_use(cases: list[Case]) -> None:
    # An engine on two hardware families; the held-out rows use one of them.
    amd = [replace(c, row_id=f"{c.row_id}-amd", gpu=accelerator("mi300x")) for c in cases[6:9]]
    rows = cases[:6] + amd
    full = _engine_groups(rows, Efficiency())
    wanted = _engine_groups(rows, Efficiency(), {("tensorrt-llm", "datacenter-gpu")})
    assert set(full) == {"tensorrt-llm", "tensorrt-llm/datacenter-gpu", "tensorrt-llm/amd-gpu"}
    assert wanted == {k: full[k] for k in ("tensorrt-llm", "tensorrt-llm/datacenter-gpu")}
