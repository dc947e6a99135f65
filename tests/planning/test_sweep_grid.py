"""A sweep's grid, samples, chunks and cache: cells decode in mixed radix in the order the
grid is written, samples are distinct and reproducible, chunks cover every cell once, and the
cache keeps whole chunks and finds a cell by its inputs and the code version."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from infercost.errors import InputError
from infercost.limits import MAX_SWEEP_CELLS, MAX_SWEEP_CHUNK
from infercost.planning.sweep import Grid, cell_indices, chunked, flatten, output_names
from infercost.planning.sweep_cache import Cache, cell_key, code_version

GRID = {"model": ["a", "b"], "gpu": ["x", "y", "z"], "tp": [1, 2, 4, 8], "qps": 5}


def test_cells_are_the_product_in_written_order() -> None:
    grid = Grid.of(GRID)
    assert grid.size == 2 * 3 * 4
    cells = [grid.cell(i) for i in range(grid.size)]
    product = itertools.product(GRID["model"], GRID["gpu"], GRID["tp"], [5])
    assert cells == [dict(zip(GRID, values, strict=True)) for values in product]


def test_a_list_inside_the_list_is_one_value() -> None:
    grid = Grid.of({"gpu": [["h100", "h200"], "b200"]})
    assert [grid.cell(i)["gpu"] for i in range(grid.size)] == [["h100", "h200"], "b200"]


def test_an_empty_list_is_refused() -> None:
    with pytest.raises(InputError, match=r"grid\.tp: has no values"):
        Grid.of({"tp": []})


def test_samples_are_distinct_sorted_and_reproducible() -> None:
    grid = Grid.of({"a": list(range(1000)), "b": list(range(1000)), "c": list(range(1000))})
    first = cell_indices(grid, 500, seed=3)
    assert len(set(first.tolist())) == 500
    assert first.tolist() == sorted(first.tolist())
    assert first.max() < grid.size
    assert cell_indices(grid, 500, seed=3).tolist() == first.tolist()
    assert cell_indices(grid, 500, seed=4).tolist() != first.tolist()


def test_a_grid_past_the_bound_needs_samples() -> None:
    big = Grid.of({"a": list(range(10_000)), "b": list(range(10_000))})
    assert big.size > MAX_SWEEP_CELLS
    with pytest.raises(InputError, match="limit is"):
        cell_indices(big, None, 0)
    with pytest.raises(InputError, match="samples"):
        cell_indices(Grid.of(GRID), 25, 0)
    assert len(cell_indices(Grid.of(GRID), 24, 0)) == 24  # every cell, once


@pytest.mark.parametrize(("items", "workers"), [(1, 1), (10, 4), (1000, 2), (100_000, 1)])
def test_chunks_cover_every_item_once(items: int, workers: int) -> None:
    chunks = chunked(list(range(items)), workers)
    assert [x for chunk in chunks for x in chunk] == list(range(items))
    assert max(len(c) for c in chunks) <= MAX_SWEEP_CHUNK
    assert len(chunks) >= min(items, workers)  # every worker gets work


def test_a_failed_cell_has_every_column_null() -> None:
    for verb in ("evaluate", "plan", "simulate"):
        row = flatten(verb, None)
        assert set(row) <= set(output_names(verb))
        assert all(v is None for v in row.values())


def test_the_key_depends_on_verb_inputs_and_code() -> None:
    version = code_version()
    key = cell_key("evaluate", {"model": "a", "tp": 1}, version)
    assert key == cell_key("evaluate", {"tp": 1, "model": "a"}, version)  # canonical order
    assert key != cell_key("plan", {"model": "a", "tp": 1}, version)
    assert key != cell_key("evaluate", {"model": "a", "tp": 2}, version)
    assert key != cell_key("evaluate", {"model": "a", "tp": 1}, version + "x")


def test_the_cache_keeps_whole_chunks(tmp_path: Path) -> None:
    cache = Cache.beside(tmp_path / "r.parquet")
    cache.save([("k1", ({"usd_per_day": 1.5}, None)), ("k2", ({}, "tp: too small"))])
    cache.save([("k3", ({"usd_per_day": float("nan")}, None))])
    assert len(list(cache.folder.glob("*.jsonl"))) == 2
    assert not list(cache.folder.glob("*.tmp"))
    rows = Cache(cache.folder).load().rows
    assert rows == {
        "k1": ({"usd_per_day": 1.5}, None),
        "k2": ({}, "tp: too small"),
        "k3": ({"usd_per_day": None}, None),  # strict JSON: not a number is null
    }
