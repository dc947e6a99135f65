"""Drift guard: every built-in scenario's figures are pinned, and BENCHMARKS.md shows them.

A change to the model, a catalog or a scenario that moves a figure fails here until
`python scripts/pin_scenarios.py --write` re-pins it and BENCHMARKS.md's "Published figures
against computed" tables show the new value, in the same commit, with the reason in its
message. Figures are compared at a relative tolerance of 1e-4 (the code is deterministic;
the tolerance only absorbs floating-point reordering).
"""

from __future__ import annotations

import importlib.util
import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from infercost.cli.labels import fmt
from infercost.scenario.loader import builtin_names

ROOT = Path(__file__).resolve().parents[2]
PINNED: dict[str, dict[str, dict[str, float]]] = json.loads(
    (ROOT / "tests" / "scenario" / "pinned.json").read_text(encoding="utf-8")
)
TOLERANCE = 1e-4


def _script() -> Any:
    spec = importlib.util.spec_from_file_location("pin", ROOT / "scripts" / "pin_scenarios.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def now() -> dict[str, dict[str, dict[str, float]]]:
    result: dict[str, dict[str, dict[str, float]]] = _script().compute()
    return result


def test_every_built_in_scenario_is_pinned() -> None:
    assert sorted(PINNED) == builtin_names()


@pytest.mark.parametrize("name", sorted(PINNED))
def test_a_scenarios_figures_have_not_moved(now: dict[str, Any], name: str) -> None:
    moved = []
    assert sorted(now[name]) == sorted(PINNED[name]), "blocks added or gone: re-pin"
    for block, figures in PINNED[name].items():
        assert sorted(now[name][block]) == sorted(figures), f"{block}: figures added or gone"
        for key, was in figures.items():
            value = now[name][block][key]
            if not math.isclose(value, was, rel_tol=TOLERANCE, abs_tol=1e-12):
                moved.append(f"{block}.{key}: {was:.6g} → {value:.6g}")
    assert not moved, (
        f"{name} moved; re-pin (scripts/pin_scenarios.py --write), update BENCHMARKS.md and "
        "say why in the commit: " + "; ".join(moved)
    )


def _benchmark_rows() -> dict[str, dict[str, str]]:
    """Scenario → figure → the computed cell of BENCHMARKS.md's published-against-computed
    tables (a figure's first cell may carry words after its key)."""
    text = (ROOT / "BENCHMARKS.md").read_text(encoding="utf-8")
    section = text.split("## Published figures against computed", 1)[1].split("\n## ", 1)[0]
    out: dict[str, dict[str, str]] = {}
    for part in re.split(r"\n### ", section)[1:]:
        name = part.split()[0]
        rows: dict[str, str] = {}
        for line in part.splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 4 and cells[0] and cells[0] not in ("figure", "---", "variant"):
                rows[cells[0].split()[0]] = cells[2]
        out[name] = rows
    return out


def test_benchmarks_shows_the_pinned_figures() -> None:
    """Every figure BENCHMARKS.md lists as computed is the pinned value, formatted as
    `reproduce` prints it."""
    shown = _benchmark_rows()
    checked = 0
    for name, rows in shown.items():
        if name not in PINNED:
            continue
        computed = PINNED[name]["computed"]
        for key, cell in rows.items():
            if key in computed:
                shown_as = fmt(key, computed[key])
                assert cell == shown_as, f"BENCHMARKS.md {name} {key}: {cell}, pinned {shown_as}"
                checked += 1
    assert checked >= 15  # the three scenarios' tables, read
