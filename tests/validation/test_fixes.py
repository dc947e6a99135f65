"""Hand fixes: each names bundled rows, cites where its value is stated, and reaches the
structured set; without it the strict reader still refuses the row."""

from __future__ import annotations

from pathlib import Path

import pytest

from infercost.errors import InputError
from infercost.validation.dataset import BUILTIN, BUILTIN_STRUCTURED, load_rows
from infercost.validation.fixes import builtin_fixes, load_fixes
from infercost.validation.freetext import read_row
from infercost.validation.measurements import read_measurements

ROWS = {row.id: row for row in load_rows(BUILTIN)}


def test_every_fix_names_a_bundled_row_and_cites_a_url() -> None:
    fixes = builtin_fixes()
    assert fixes
    for row_id, items in fixes.items():
        assert row_id in ROWS
        for fix in items:
            assert fix.source.startswith("https://")


def test_the_structured_set_carries_each_fix_and_says_why() -> None:
    bundled = {m.id: m for m in read_measurements(BUILTIN_STRUCTURED)}
    for row_id, items in builtin_fixes().items():
        for fix in items:
            assert getattr(bundled[row_id], fix.field) == fix.value
            assert f"fix: {fix.field} = {fix.value}" in bundled[row_id].notes
            assert fix.source in bundled[row_id].notes


def test_without_its_fix_the_reader_still_refuses_the_row() -> None:
    row = ROWS["SGL-V060-10"]
    with pytest.raises(InputError, match="multi-step scheduling stated without"):
        read_row(row)
    fixed = read_row(row, builtin_fixes()["SGL-V060-10"])
    assert fixed.scheduler_steps == 10
    assert "TTFT is the MEDIAN" in fixed.notes  # the source's wording is kept


def test_a_fixed_length_is_not_read_from_the_row() -> None:
    row = ROWS["INFERSIM-02"]
    assert read_row(row).output_tokens is None
    assert read_row(row, builtin_fixes()["INFERSIM-02"]).output_tokens == 1786


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("field: value\n  value: 2", "not a field a fix may set"),
        ("field: no_such_field\n  value: 2", "not a field a fix may set"),
        ("field: tp\n  value: 2\n  reason: ''", "reason"),
    ],
)
def test_a_bad_fix_is_one_error_naming_it(tmp_path: Path, entry: str, message: str) -> None:
    file = tmp_path / "fixes.yaml"
    text = f"- ids: [A-1]\n  {entry}\n  source: https://x\n  stated: two GPUs\n"
    if "reason:" not in entry:
        text += "  reason: r\n"
    file.write_text(text)
    with pytest.raises(InputError, match=message):
        load_fixes(file)


def test_a_field_fixed_twice_on_one_row_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "fixes.yaml"
    one = "- ids: [A-1]\n  field: tp\n  value: {v}\n  source: s\n  stated: t\n  reason: r\n"
    file.write_text(one.format(v=2) + one.format(v=4))
    with pytest.raises(InputError, match="A-1 fixes tp twice"):
        load_fixes(file)
