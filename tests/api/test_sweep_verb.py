"""The `sweep` verb end to end: every backend writes the same Parquet file, a rerun computes
nothing, a deleted chunk is recomputed alone, a failing cell is a row with its error, and a
bad grid is refused before any work."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from infercost.api import sweep
from infercost.errors import InputError

GRID: dict[str, Any] = {
    "model": ["llama-3.1-8b", "llama-3.1-70b"],
    "gpu": ["h100", "h200"],
    "tp": [1, 2, 4],
    "qps": [1, 10],
    "input_tokens": 1000,
    "output_tokens": 200,
}
CELLS = 2 * 2 * 3 * 2


def run(out: Path, grid: dict[str, Any] = GRID, verb: str = "evaluate", **options: Any) -> Any:
    return sweep(verb=verb, grid=grid, out=str(out), **{"workers": 1, **options})


@pytest.fixture(scope="module")
def in_process(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("inline") / "r.parquet"
    run(out)
    return out


def test_one_row_per_cell_in_grid_order(in_process: Path) -> None:
    table = pq.read_table(in_process)
    assert table.num_rows == CELLS
    assert table.column("cell").to_pylist() == list(range(CELLS))
    for name in ("model", "gpu", "tp", "qps", "usd_per_month", "usd_per_day", "gpus"):
        assert name in table.column_names
    first = table.slice(0, 1).to_pylist()[0]
    assert (first["model"], first["gpu"], first["tp"], first["qps"]) == (
        "llama-3.1-8b",
        "h100",
        1,
        1,
    )
    assert first["error"] is None
    assert first["usd_per_month"] > first["usd_per_day"] > 0
    assert first["gpus"] == first["replicas"] * first["gpus_per_replica"]


def test_a_cell_that_does_not_fit_is_a_row_with_its_error(in_process: Path) -> None:
    rows = pq.read_table(in_process).to_pylist()
    failed = [r for r in rows if r["error"] is not None]
    # 70B in bf16 (~141 GB of weights) fits on no single H100 or H200
    assert {(r["model"], r["tp"]) for r in failed} == {("llama-3.1-70b", 1)}
    assert all("tp:" in r["error"] and r["usd_per_day"] is None for r in failed)
    assert all(r["usd_per_day"] is not None for r in rows if r["error"] is None)


def test_a_process_pool_writes_the_same_file(in_process: Path, tmp_path: Path) -> None:
    result = run(tmp_path / "r.parquet", workers=2)
    assert result.computed == CELLS
    assert (tmp_path / "r.parquet").read_bytes() == in_process.read_bytes()


def test_ray_writes_the_same_file(in_process: Path, tmp_path: Path, ray_local: str) -> None:
    result = run(tmp_path / "r.parquet", workers=2, ray=ray_local)
    assert result.backend.startswith("Ray")
    assert (tmp_path / "r.parquet").read_bytes() == in_process.read_bytes()


def test_a_rerun_computes_nothing_and_a_lost_chunk_alone(tmp_path: Path) -> None:
    out = tmp_path / "r.parquet"
    first = run(out, workers=2)
    written = out.read_bytes()
    again = run(out)
    assert (again.computed, again.cached) == (0, CELLS)
    assert out.read_bytes() == written
    chunks = sorted(first.cache.glob("*.jsonl"))
    assert len(chunks) > 1
    lost = len(chunks[0].read_text().splitlines())
    chunks[0].unlink()
    third = run(out)
    assert (third.computed, third.cached) == (lost, CELLS - lost)
    assert out.read_bytes() == written


def test_samples_evaluate_only_the_drawn_cells(tmp_path: Path) -> None:
    result = run(tmp_path / "s.parquet", samples=5, seed=1)
    cells = pq.read_table(result.out).column("cell").to_pylist()
    assert len(cells) == 5 == len(set(cells))
    assert cells == sorted(cells)


def test_an_unknown_gpu_fails_its_cells_only(tmp_path: Path) -> None:
    grid = {**GRID, "gpu": ["h100", "no-such-gpu"], "model": "llama-3.1-8b", "tp": 1}
    rows = pq.read_table(run(tmp_path / "r.parquet", grid).out).to_pylist()
    assert [r["error"] is None for r in rows] == [True, True, False, False]
    assert "no-such-gpu" in rows[2]["error"]


def test_a_small_plan_sweep(tmp_path: Path) -> None:
    grid = {
        "model": "llama-3.1-8b",
        "gpu": "h100",
        "qps": [5, 20],
        "input_tokens": "1000",
        "output_tokens": "200",
        "slo": "ttft_p99=1s",
        "requests": 1000,
        "verify": 1,
    }
    rows = pq.read_table(run(tmp_path / "p.parquet", grid, verb="plan").out).to_pylist()
    assert [r["feasible"] for r in rows] == [True, True]
    assert rows[0]["usd_per_month"] <= rows[1]["usd_per_month"]  # more traffic never cheaper
    assert rows[1]["ttft_p99_s"] < 1.0


@pytest.mark.parametrize(
    ("grid", "verb", "match"),
    [
        ({**GRID, "modle": "x"}, "evaluate", r"grid\.modle: not a field of evaluate; allowed: "),
        ({"gpu": "h100"}, "evaluate", "evaluate needs model"),
        ({**GRID, "tp": [1, 0]}, "evaluate", r"grid\.tp: .*got 0"),
        ({"model": "m", "requests": 200_000}, "simulate", r"grid\.requests: at most 100,000"),
        ({"model": ["m"], "verify": 50}, "plan", r"grid\.verify: at most 10"),
        ({"model": ["m"], "frontier": "f.csv"}, "plan", r"grid\.frontier: not a field"),
        ({"scenario": "chatgpt-2023", "whole_fleet": True}, "simulate", r"grid\.whole_fleet"),
    ],
)
def test_a_bad_grid_is_refused_before_work(
    grid: dict[str, Any], verb: str, match: str, tmp_path: Path
) -> None:
    with pytest.raises(InputError, match=match):
        run(tmp_path / "r.parquet", grid, verb=verb)
    assert not list(tmp_path.iterdir())  # nothing written, no cache
