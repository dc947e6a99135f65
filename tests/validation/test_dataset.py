"""Loading a measured-points CSV: the built-in one, a user's, and broken ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from infercost.errors import InputError
from infercost.validation.dataset import BUILTIN, COLUMNS, load_rows

HEADER = ",".join(COLUMNS)


def test_builtin_data_ships_with_its_sources() -> None:
    rows = load_rows()
    assert len(rows) == len({r.id for r in rows}) >= 130
    assert (BUILTIN.parent / "sources.md").is_file()
    assert all(r.get("source_url").startswith(("http", "benchmarks/")) for r in rows)


def test_missing_columns_are_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("id,model\nA-1,llama\n")
    with pytest.raises(InputError, match=r"lacks column.*engine"):
        load_rows(path)


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    line = "A-1" + "," * (len(COLUMNS) - 1)
    path.write_text(f"{HEADER}\n{line}\n{line}\n")
    with pytest.raises(InputError, match="duplicate id 'A-1'"):
        load_rows(path)


def test_empty_and_absent_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text(f"{HEADER}\n")
    with pytest.raises(InputError, match="no rows"):
        load_rows(empty)
    with pytest.raises(InputError, match="no such file"):
        load_rows(tmp_path / "absent.csv")
