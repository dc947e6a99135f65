"""`infercost plan --classes FILE`: a mixed fleet's JSON, and bad class files refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import assert_user_error, invoke


def test_plan_classes_json(tmp_path: Path) -> None:
    spec = tmp_path / "classes.yaml"
    spec.write_text(
        "classes:\n"
        "  - {name: chat, share: 0.7, input_tokens: 300, output_tokens: 150,"
        " slo: 'ttft_p99=800ms,tpot_p99=40ms'}\n"
        "  - {name: rag, share: 0.3, input_tokens: 6000, output_tokens: 200}\n"
    )
    result = invoke("plan", "-m", "llama-3.1-8b", "--gpu", "h100,a100-80gb", "--qps", "30",
                    "--max-gpus-per-replica", "1", "--slo", "ttft_p99=5s,tpot_p99=80ms",
                    "--classes", str(spec), "--verify", "2", "--requests", "4000",
                    "--no-disaggregated", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["mix"]["usd_per_month"] <= doc["best_single"]["usd_per_month"] + 1e-6
    for entry in doc["mix"]["classes"]:
        assert {"class", "configuration", "replicas"} <= entry.keys()
    assert {c["name"] for c in doc["classes"]} == {"chat", "rag"}
    rag = next(c for c in doc["classes"] if c["name"] == "rag")
    assert rag["targets"]["slo"][0]["threshold_s"] == 5.0  # the plan's targets by default


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("classes:\n  - {name: a, share: 0.5, input_tokens: 10, output_tokens: 5}\n",
         "add up to 1"),
        ("classes:\n  - {name: a, share: 0.5, input_tokens: 10, output_tokens: 5}\n"
         "  - {name: a, share: 0.5, input_tokens: 10, output_tokens: 5}\n", "repeated"),
        ("classes:\n  - {name: a, share: 1, input_tokens: 'lognormal:x', output_tokens: 5}\n",
         "classes.a.input_tokens"),
        ("classes:\n  - {name: a, share: 1, input_tokens: 10, output_tokens: 5, colour: red}\n",
         "unknown field"),
        ("classes:\n  - {name: a, share: 1, input_tokens: 10, output_tokens: 5,"
         " slo: 'ttft_p99=-1s'}\n", "classes.a.slo"),
        ("classes: []\n", "classes"),
        ("classes:\n  - {name: a, share: 1, input_tokens: 10, output_tokens: 5,"
         " slo: {ttft_p99: [1, 2]}}\n", "classes.slo: ttft_p99"),
    ],
)  # fmt: skip
def test_bad_class_files_are_one_clear_error(tmp_path: Path, body: str, needle: str) -> None:
    spec = tmp_path / "classes.yaml"
    spec.write_text(body)
    result = invoke("plan", "-m", "llama-3.1-8b", "--qps", "5", "--slo", "ttft_p99=2s",
                    "--classes", str(spec), "--verify", "0")  # fmt: skip
    assert_user_error(result, needle)


def test_mix_is_the_same_option_and_slo_may_be_a_mapping(tmp_path: Path) -> None:
    """`--mix` names `--classes`; a class's targets may be a mapping (a bare number is
    seconds), read as the same targets as the text."""
    spec = tmp_path / "classes.yaml"
    spec.write_text(
        "- {name: chat, share: 0.6, input_tokens: 300, output_tokens: 150,"
        " slo: {ttft_p99: 800ms, tpot_p99: 0.04}}\n"
        "- {name: long, share: 0.4, input_tokens: 4000, output_tokens: 100}\n"
    )
    result = invoke("plan", "-m", "llama-3.1-8b", "--gpu", "h100", "--qps", "10",
                    "--max-gpus-per-replica", "1", "--slo", "ttft_p99=5s", "--mix", str(spec),
                    "--verify", "0", "--no-disaggregated", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    chat = next(c for c in json.loads(result.stdout)["classes"] if c["name"] == "chat")
    assert {(t["metric"], t["threshold_s"]) for t in chat["targets"]["slo"]} == {
        ("ttft", 0.8),
        ("tpot", 0.04),
    }
