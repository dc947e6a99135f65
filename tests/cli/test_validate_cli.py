"""`infercost validate`: the JSON contract, unmapped rows, plots, and the calibration file."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from test_cli import assert_user_error, invoke

from infercost.perf.calibration import load_calibration
from infercost.validation.dataset import BUILTIN, COLUMNS

SMALL = ("TRTBLOG-H100A100", "NEMO-L2", "TRTBLOG-F180", "GPTFAST")


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four sources of the built-in data, plus two rows nobody could map."""
    with BUILTIN.open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["id"].rsplit("-", 1)[0] in SMALL]
    bad = dict(rows[0], id="BAD-01", gpu="Quantum Abacus 9000")
    vague = dict(rows[0], id="BAD-02", input_len="", output_len="")
    path = tmp_path_factory.mktemp("data") / "small.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows([*rows, bad, vague])
    return path


@pytest.fixture(scope="module")
def small_json(small_csv: Path) -> dict[str, object]:
    result = invoke("validate", "--data", str(small_csv), "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def test_json_has_the_documented_keys(small_json: dict[str, object]) -> None:
    doc = small_json
    assert {"total", "mapped", "rows", "unmapped", "summary"} <= set(doc)
    rows = doc["rows"]
    assert isinstance(rows, list)
    # the two bad rows, and two whose source does not state the output length
    assert doc["mapped"] == len(rows) == doc["total"] - 4  # type: ignore[operator]
    for row in rows:
        assert {"id", "metric", "measured", "predicted", "error_percent"} <= set(row)
        expected = (row["predicted"] - row["measured"]) / row["measured"] * 100
        assert row["error_percent"] == pytest.approx(expected)
    summary = doc["summary"]
    assert isinstance(summary, dict)
    for family in ("throughput", "latency"):
        assert set(summary[family]) == {"mdape_percent", "count"}
    assert summary["throughput"]["count"] + summary["latency"]["count"] == doc["mapped"]


def test_unmapped_rows_are_listed_with_reasons(small_json: dict[str, object]) -> None:
    unmapped = {u["id"]: u["reason"] for u in small_json["unmapped"]}  # type: ignore[attr-defined]
    assert set(unmapped) == {"BAD-01", "BAD-02", "TRTBLOG-H100A100-03", "TRTBLOG-H100A100-07"}
    assert "Quantum Abacus 9000" in unmapped["BAD-01"]
    assert unmapped["BAD-02"].startswith("input_len: prompt length not stated")
    for row in ("TRTBLOG-H100A100-03", "TRTBLOG-H100A100-07"):  # the strict reader: no guess
        assert unmapped[row].startswith("output_len: output length not stated")


def test_rows_are_predicted_out_of_sample(small_json: dict[str, object]) -> None:
    for row in small_json["rows"]:  # type: ignore[attr-defined]
        assert row["calibration_group"] != "raw"


def test_no_calibration_reports_the_raw_roofline(small_csv: Path) -> None:
    result = invoke("validate", "--data", str(small_csv), "--json", "--no-calibration")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    for row in doc["rows"]:
        assert row["predicted"] == row["raw_predicted"]
        assert row["calibration_group"] == "raw"


def test_table_output_names_families_and_unmapped(small_csv: Path) -> None:
    result = invoke("validate", "--data", str(small_csv), "--no-calibration", "--rows")
    assert result.exit_code == 0, result.output
    for needle in ("throughput", "latency", "MdAPE", "BAD-01", "NEMO-L2-01"):
        assert needle in result.output


def test_plot_is_a_standalone_html_file(small_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "plot.html"
    result = invoke("validate", "--data", str(small_csv), "--no-calibration", "--plot", str(out))
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "plotly" in html.lower()
    assert "y = x" in html
    assert "NEMO-L2" in html  # one trace per source


def test_bad_plot_suffix_and_missing_data_are_user_errors(small_csv: Path, tmp_path: Path) -> None:
    assert_user_error(
        invoke("validate", "--data", str(small_csv), "--plot", str(tmp_path / "p.txt")), "plot"
    )
    assert_user_error(invoke("validate", "--data", str(tmp_path / "none.csv")), "no such file")


def test_written_calibration_feeds_estimate(small_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "cal.yaml"
    result = invoke("validate", "--data", str(small_csv), "--write-calibration", str(out))
    assert result.exit_code == 0, result.output
    cal = load_calibration(out)
    assert cal.provenance["basis"] == "calibrated"
    assert "tensorrt-llm" in cal.groups
    doc = json.loads(
        invoke(
            "estimate",
            "-m",
            "llama-2-7b",
            "-g",
            "a100",
            "--engine",
            "tensorrt-llm",
            "--calibration",
            str(out),
            "--json",
        ).output
    )["estimates"][0]
    assert doc["efficiency"]["calibration_group"] == "tensorrt-llm/datacenter-gpu"
    assert doc["efficiency"]["compute"] == pytest.approx(
        cal.groups["tensorrt-llm/datacenter-gpu"].compute
    )


def test_estimate_calibration_flags() -> None:
    raw = json.loads(
        invoke("estimate", "-m", "llama-2-7b", "-g", "a100", "--no-calibration", "--json").output
    )["estimates"][0]
    assert raw["efficiency"]["calibration_group"] == "default"
    fitted = json.loads(invoke("estimate", "-m", "llama-2-7b", "-g", "a100", "--json").output)
    fitted = fitted["estimates"][0]
    assert fitted["efficiency"]["calibration_group"] == "*/datacenter-gpu"
    assert_user_error(
        invoke("estimate", "-m", "llama-2-7b", "-g", "a100", "--engine", "warp"), "engine"
    )
    assert_user_error(
        invoke("estimate", "-m", "llama-2-7b", "-g", "a100", "--calibration", "/nonexistent.yaml"),
        "calibration",
    )


def test_builtin_validation_meets_its_coverage_and_stays_near_its_error() -> None:
    """The whole built-in data set, out of sample: a regression guard on accuracy."""
    result = invoke("validate", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["mapped"] >= 0.9 * doc["total"]
    assert doc["summary"]["throughput"]["mdape_percent"] < 20
    assert doc["summary"]["latency"]["mdape_percent"] < 20
    assert doc["summary"]["throughput"]["count"] > 100
