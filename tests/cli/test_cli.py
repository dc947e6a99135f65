"""The `infercost` command: answers, JSON shapes, and one-line errors with exit status 2.

Most checks run in-process through typer's `CliRunner`; a few run the installed console
script to check real exit codes and streams.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from scenario_files import own_scenario, write
from typer.testing import CliRunner, Result

from infercost.cli.main import app
from infercost.scenario.schema import BASES

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).parent / "infercost"
BUILTINS = {"bard-2023", "chatgpt-2023", "chatgpt-2023-today", "deepseek-2025", "search-2023"}


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def stderr_of(result: Result) -> str:
    try:
        return result.stderr
    except ValueError:  # runners that mix stderr into output
        return result.output


def assert_user_error(result: Result, *needles: str) -> str:
    """Exit 2, one line on stderr, no traceback; returns that line."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    err = stderr_of(result).strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error:")
    for needle in needles:
        assert needle in err, err
    return err


# --- reproduce ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chatgpt_json() -> dict:
    result = invoke("reproduce", "chatgpt-2023", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # exactly one JSON document, nothing around it


def test_reproduce_json_shape(chatgpt_json: dict) -> None:
    assert {"scenario", "computed", "published", "assumptions"} <= set(chatgpt_json)
    assert chatgpt_json["scenario"]["name"] == "chatgpt-2023"
    computed = chatgpt_json["computed"]
    for key in ("gpus", "servers", "usd_per_day", "usd_per_query", "usd_per_million_output_tokens"):
        assert isinstance(computed[key], int | float), key
    assert chatgpt_json["published"]["gpus"]["value"] == 28_936
    assert chatgpt_json["calibration"]["parameter"] == "serving.concurrency"


def test_reproduce_json_assumptions_are_sourced(chatgpt_json: dict) -> None:
    assumptions = chatgpt_json["assumptions"]
    assert assumptions
    for row in assumptions:
        assert row["basis"] in BASES
        assert row["basis"] in {"stated", "derived", "calibrated", "default", "override"}
        assert row["source"]
    paths = {row["path"] for row in assumptions}
    assert {"serving.concurrency", "workload.daily_users", "cost.usd_per_gpu_hour"} <= paths


def test_reproduce_json_marks_overrides() -> None:
    result = invoke(
        "reproduce", "chatgpt-2023", "--json", "--set", "workload.queries_per_user_per_day=30"
    )
    assert result.exit_code == 0, result.output
    rows = {row["path"]: row for row in json.loads(result.stdout)["assumptions"]}
    assert rows["workload.queries_per_user_per_day"]["basis"] == "override"
    assert rows["workload.queries_per_user_per_day"]["value"] == 30


def test_reproduce_table() -> None:
    result = invoke("reproduce", "chatgpt-2023")
    assert result.exit_code == 0, result.output
    assert "Published vs computed" in result.output
    assert "28,936" in result.output
    assert "serving.concurrency" in result.output


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_every_builtin_reproduces(name: str) -> None:
    result = invoke("reproduce", name, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["scenario"]["name"] == name


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ("workload.queries_per_user_per_day=0", "workload.queries_per_user_per_day"),
        ("workload.nope=1", "nope"),
        ("workload.daily_users=abc", "workload.daily_users"),
    ],
)
def test_bad_override_is_one_line(override: str, field: str) -> None:
    assert_user_error(invoke("reproduce", "chatgpt-2023", "--set", override), field)


def test_malformed_scenario_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("scenario: broken\ninputs: {model: [\n")
    assert_user_error(invoke("reproduce", str(path)), "malformed YAML")


def test_unknown_scenario() -> None:
    assert_user_error(invoke("reproduce", "chatgpt-2032"), "closest", "chatgpt-2023")


# Calibrating an input with no usable default (the rent price, which rent mode requires; a
# required input; a misspelt path) must end in one line naming it, not a traceback.
CALIBRATED_WITHOUT_DEFAULT = [
    "cost.usd_per_gpu_hour",
    "workload.output_tokens",
    "serving.concurency",
]


@pytest.mark.parametrize("calibrated", CALIBRATED_WITHOUT_DEFAULT)
def test_calibrating_an_input_without_default_is_a_user_error(
    tmp_path: Path, calibrated: str
) -> None:
    doc = own_scenario()
    doc["provenance"][calibrated] = {"basis": "calibrated", "source": "infercost"}
    path = write(tmp_path, doc)
    assert_user_error(invoke("reproduce", path), calibrated)


# --- estimate -----------------------------------------------------------------------------


def test_estimate_json() -> None:
    result = invoke("estimate", "--model", "llama-3.1-8b", "--gpu", "h100", "--json")
    assert result.exit_code == 0, result.output
    (doc,) = json.loads(result.stdout)["estimates"]  # one shape: a list, here of one
    assert doc["deployment"]["gpu"] == "h100-sxm"  # alias resolved
    assert doc["usd_per_million_output_tokens"] > 0
    assert doc["max_concurrency_that_fits"] >= 1
    assert doc["feasibility"]["fits"] is True


def test_estimate_table_has_human_labels() -> None:
    result = invoke("estimate", "--model", "llama-3.1-8b", "--gpu", "h100")
    assert result.exit_code == 0, result.output
    assert "$ per 1M output tokens" in result.output
    assert "time per output token" in result.output
    assert "usd_per_million_output_tokens" not in result.output


def test_estimate_that_does_not_fit_names_the_smallest_layout() -> None:
    result = invoke("estimate", "--model", "llama-3.1-70b", "--gpu", "h100", "--tp", "1")
    assert_user_error(result, "--tp:", "weights", "tp 2 (2 GPUs)")


def test_unknown_gpu_suggests_the_closest() -> None:
    result = invoke("estimate", "--model", "llama-3.1-8b", "--gpu", "h1000")
    assert_user_error(result, "closest", "h100-sxm")


def test_unknown_model() -> None:
    assert_user_error(invoke("estimate", "--model", "llama-9", "--gpu", "h100"), "llama-9")


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--concurrency", "0"), ("--tp", "0"), ("--gpus", "-1"), ("--price", "0")],
)
def test_estimate_refuses_non_positive_flags(flag: str, value: str) -> None:
    args = ["estimate", "--model", "llama-3.1-8b", "--gpu", "h100", flag, value]
    assert_user_error(invoke(*args), flag)


# --- catalog and scenarios ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "row_id"),
    [("gpus", "h100-sxm"), ("models", "llama-3.1-8b"), ("servers", "hgx-a100-80gb")],
)
def test_catalog_json(table: str, row_id: str) -> None:
    result = invoke("catalog", table, "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert row_id in {row["id"] for row in rows}


def test_catalog_prices_json() -> None:
    result = invoke("catalog", "prices", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows
    assert all(isinstance(row, dict) for row in rows)


def test_catalog_servers_table() -> None:
    result = invoke("catalog", "servers")
    assert result.exit_code == 0, result.output
    assert "servers" in result.output


def test_catalog_unknown_table() -> None:
    assert_user_error(invoke("catalog", "show", "tpus"), "TABLE", "allowed")


def test_import_model_prints_a_yaml_row() -> None:
    config = ROOT / "tests" / "fixtures" / "hf" / "llama-3.1-8b" / "config.json"
    result = invoke("catalog", "import-model", str(config))
    assert result.exit_code == 0, result.output
    row = yaml.safe_load(result.stdout)["rows"][0]
    assert row["id"] == "llama-3.1-8b"
    assert row["num_layers"] == 32
    assert row["num_kv_heads"] == 8


def test_scenarios_lists_the_builtins() -> None:
    result = invoke("scenarios", "--json")
    assert result.exit_code == 0, result.output
    assert {row["name"] for row in json.loads(result.stdout)} == BUILTINS
    table = invoke("scenarios")
    assert table.exit_code == 0
    for name in BUILTINS:
        assert name in table.output


# --- the installed console script ---------------------------------------------------------


def script(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_script_reproduce_json() -> None:
    proc = script("reproduce", "chatgpt-2023", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["computed"]["servers"] > 0
    assert proc.stderr == ""


def test_script_bad_override_exits_2() -> None:
    proc = script("reproduce", "chatgpt-2023", "--set", "workload.nope=1")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "nope" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_script_unknown_gpu_exits_2() -> None:
    proc = script("estimate", "--model", "llama-3.1-8b", "--gpu", "h1000")
    assert proc.returncode == 2
    assert "closest" in proc.stderr
    assert "h100-sxm" in proc.stderr
    assert "Traceback" not in proc.stderr
