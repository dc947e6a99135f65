"""Facts of the bundled and incoming rows restated as other sources phrase them.

`data/adversarial.csv` holds free-text rows (the `dataset.COLUMNS`, plus `restates`: the
bundled or incoming row whose fact it states again, and `expect`). A `same` row must map to
the identical case as the row it restates; a `refused:COLUMN` row must be unmapped with a
reason that names that column and quotes the text it could not read. Where the restated row
itself cannot map (an MLPerf data set without a sourced prompt mean), the load it is read as
must be the same. The rows are regression tests for what an adversarial review found: figures
with "k", exponents, ranges and bounds; thousands separators; "--num-prompts"; "requests/s";
per-GPU concurrency; "Server" and "Interactive"; "2x8" GPUs; KV precision spellings; and the
common spellings read since (lengths as "ISL/OSL 128/2048", "1K" only where settled).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from infercost.cli.main import app
from infercost.validation.dataset import BUILTIN, DATA_DIR, MeasuredRow, load_rows
from infercost.validation.freetext import read_row
from infercost.validation.mapping import Case, Unmapped, map_row

FIXTURE = Path(__file__).parent / "data" / "adversarial.csv"
ROWS = load_rows(FIXTURE)
KNOWN = {r.id: r for path in (BUILTIN, DATA_DIR / "incoming.csv") for r in load_rows(path)}
_LOAD = ("load_mode", "batch", "batch_per_gpu", "num_requests", "request_rate_per_s")


def _same(a: Case, b: Case) -> bool:
    # the id and its source are the fixture's; every other field must agree
    blank = {"row_id": "", "source": "", "assumptions": ()}
    return replace(a, **blank) == replace(b, **blank)


def _load(row: MeasuredRow) -> tuple[object, ...]:
    m = read_row(row)
    return (*(getattr(m, f) for f in _LOAD), m.latency_constraints)


def test_the_fixture_restates_known_rows_in_many_phrasings() -> None:
    assert 40 <= len(ROWS) <= 200
    assert {r.get("restates") for r in ROWS} <= set(KNOWN)


@pytest.mark.parametrize("row", [r for r in ROWS if r.get("expect") == "same"], ids=lambda r: r.id)
def test_a_restated_fact_maps_to_the_same_case(row: MeasuredRow) -> None:
    known = KNOWN[row.get("restates")]
    original, restated = map_row(known), map_row(row)
    if isinstance(original, Unmapped):
        assert _load(row) == _load(known)
        return
    assert isinstance(restated, Case), restated.reason
    assert _same(original, restated)


@pytest.mark.parametrize("row", [r for r in ROWS if r.get("expect") != "same"], ids=lambda r: r.id)
def test_what_no_rule_reads_is_refused_naming_the_column_and_text(row: MeasuredRow) -> None:
    column = row.get("expect").removeprefix("refused:")
    mapped = map_row(row)
    assert isinstance(mapped, Unmapped)
    assert mapped.reason.startswith(f"{column}:"), mapped.reason
    assert row.get(column) in mapped.reason, mapped.reason


def _validate(*args: str) -> Result:
    return CliRunner().invoke(app, ["validate", *args])


def test_validate_reads_such_rows_end_to_end(tmp_path: Path) -> None:
    lines = FIXTURE.read_text(encoding="utf-8").splitlines(keepends=True)
    file = tmp_path / "restated.csv"
    file.write_text("".join(lines[:9]), encoding="utf-8")  # the header and eight rows
    done = _validate("--data", str(file), "--json")
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert (report["total"], report["mapped"]) == (8, 8), report


@pytest.mark.parametrize(
    "content",
    [
        b"",  # empty
        b"a,b,c\n1,2,3\n",  # wrong columns
        b"\x00\x01\x02\xff\xfe binary",  # not text
        b"id,engine,model,precision_weights,gpu,metric,value,unit\n",  # a header, no rows
    ],
    ids=["empty", "wrong-columns", "binary", "no-rows"],
)
def test_a_malformed_file_is_one_error_line(tmp_path: Path, content: bytes) -> None:
    file = tmp_path / "bad.csv"
    file.write_bytes(content)
    done = _validate("--data", str(file))
    assert done.exit_code == 2, done.output
    assert done.exception is None or isinstance(done.exception, SystemExit)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error:"), done.stderr


@pytest.mark.parametrize("value", ["1e400", "9" * 400, "-5", "NaN", "inf", "0"])
def test_a_figure_that_is_not_one_finite_positive_number_is_refused(value: str) -> None:
    row = MeasuredRow("X-01", {**KNOWN["TRT10-005"].fields, "value": value})
    mapped = map_row(row)
    assert isinstance(mapped, Unmapped)
    assert mapped.reason.startswith("value:"), mapped.reason
