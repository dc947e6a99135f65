"""`infercost sweep` end to end: a spec file in, a Parquet file out, exit 0 and a summary;
a bad spec or a missing Ray is one line on stderr and exit 2; the README's reading line works."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner, Result

from infercost.cli.main import app

SPEC = """\
verb: evaluate
grid:
  model: [llama-3.1-8b]
  gpu: [h100, h200]
  tp: [1, 2]
  qps: 10
samples: null
seed: 0
"""


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def spec(tmp_path: Path, text: str = SPEC) -> str:
    path = tmp_path / "sweep.yaml"
    path.write_text(text)
    return str(path)


def test_writes_the_parquet_and_a_summary(tmp_path: Path) -> None:
    out = tmp_path / "r.parquet"
    result = invoke("sweep", spec(tmp_path), "--out", str(out), "--workers", "1")
    assert result.exit_code == 0, result.output
    assert "4 cells, 0 failed, 0 cached" in result.output
    assert pq.read_table(out).num_rows == 4
    again = invoke("sweep", spec(tmp_path), "--out", str(out), "--workers", "1", "--json")
    summary = json.loads(again.stdout)
    assert (summary["cells"], summary["cached"], summary["computed"]) == (4, 4, 0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (SPEC.replace("seed: 0", "seeed: 0"), "seeed: unknown field"),
        (SPEC.replace("qps: 10", "qpss: 10"), "grid.qpss: not a field of evaluate; allowed:"),
        (SPEC.replace("verb: evaluate", "verb: estimate"), "verb: unknown value 'estimate'"),
        ("- a list\n", "must be a mapping"),
    ],
)
def test_a_bad_spec_is_one_line_and_exit_2(tmp_path: Path, text: str, message: str) -> None:
    result = invoke("sweep", spec(tmp_path, text), "--out", str(tmp_path / "r.parquet"))
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_ray_when_it_is_not_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    result = invoke("sweep", spec(tmp_path), "--out", str(tmp_path / "r.parquet"), "--ray", "local")
    assert result.exit_code == 2
    assert "--ray: Ray is not installed: pip install 'infercost[ray]'" in result.stderr


def test_the_readme_line_reads_the_output(tmp_path: Path) -> None:
    out = tmp_path / "results.parquet"
    assert invoke("sweep", spec(tmp_path), "--out", str(out), "--workers", "1").exit_code == 0
    line = (
        "import pyarrow.parquet as pq; "
        "print(pq.read_table('results.parquet').to_pylist()[0]['usd_per_month'])"
    )
    printed = subprocess.run(
        [sys.executable, "-c", line], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert float(printed.stdout) > 0
