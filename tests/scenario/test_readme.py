"""The scenario file the README shows is a valid scenario, and runs."""

from __future__ import annotations

import re
from pathlib import Path

from infercost.scenario.engine import run
from infercost.scenario.loader import load

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_scenario_runs(tmp_path: Path) -> None:
    text = README.read_text()
    block = re.search(r"```yaml\n(scenario: my-chatbot.*?)```", text, re.S)
    assert block is not None
    path = tmp_path / "my-chatbot.yaml"
    path.write_text(block.group(1))
    result = run(load(str(path)))
    assert result.computed["gpus"] >= 1
    assert {"h200"} == set(result.variants)
    assert result.comparisons()[0]["key"] == "usd_per_day"


def test_the_readme_scenario_ranges_can_be_sampled(tmp_path: Path) -> None:
    import infercost

    text = README.read_text()
    block = re.search(r"```yaml\n(scenario: my-chatbot.*?)```", text, re.S)
    assert block is not None
    path = tmp_path / "my-chatbot.yaml"
    path.write_text(block.group(1))
    doc = infercost.reproduce(scenario=str(path), samples=500).to_dict()
    assert set(doc["uncertainty"]["inputs"]) == {"workload.output_tokens", "cost.usd_per_gpu_hour"}
    assert doc["uncertainty"]["headline"] == "usd_per_day"  # the published dollar figure
