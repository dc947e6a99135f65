"""The structured format: the bundled set round-trips through CSV, JSONL and Parquet, maps as
its free text does, and a bad file is one error naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from infercost.errors import InputError
from infercost.validation.dataset import BUILTIN_STRUCTURED, load_rows
from infercost.validation.freetext import read_row
from infercost.validation.mapping import Case, map_measurement, map_row
from infercost.validation.measurements import load, read_measurements, write_measurements


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_bundled_set_round_trips(tmp_path: Path, suffix: str) -> None:
    items = read_measurements(BUILTIN_STRUCTURED)
    back = read_measurements(write_measurements(items, tmp_path / f"m{suffix}"))
    assert back == items


def test_structured_rows_map_as_their_free_text_does() -> None:
    for row in load_rows():
        free = map_row(row)
        if isinstance(free, Case):
            assert map_measurement(read_row(row)) == free


def test_free_text_and_structured_files_are_told_apart_by_columns() -> None:
    assert type(load(BUILTIN_STRUCTURED)[0]).__name__ == "Measurement"
    assert type(load(BUILTIN_STRUCTURED.with_name("measured.csv"))[0]).__name__ == "MeasuredRow"


def test_a_bad_field_is_one_error_naming_it(tmp_path: Path) -> None:
    file = tmp_path / "bad.jsonl"
    file.write_text(
        '{"id": "A-1", "engine": "vLLM", "model": "Llama-3.1-8B", "gpu": "H100",'
        ' "load_mode": "sometimes", "metric": "output_tok_s", "value": 10}\n'
    )
    with pytest.raises(InputError, match="line 1: field load_mode"):
        read_measurements(file)
