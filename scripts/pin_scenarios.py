"""Pin every built-in scenario's computed figures: `tests/scenario/pinned.json`.

    python scripts/pin_scenarios.py          # show what moved against the pinned file
    python scripts/pin_scenarios.py --write  # write the file anew

`tests/scenario/test_pinned.py` recomputes each scenario (its computed figures, its roofline
alone where a figure is calibrated, each variant) and fails when one has moved from this file,
or when BENCHMARKS.md's "Published figures against computed" tables no longer show the
pinned value. A change that moves a figure therefore updates, in one commit, this file and
BENCHMARKS.md, with the reason in the commit message.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PINNED = ROOT / "tests" / "scenario" / "pinned.json"


def numbers(figures: dict[str, Any]) -> dict[str, float]:
    """The numeric figures of a computed block (flags and words are not pinned)."""
    return {
        k: float(v)
        for k, v in figures.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    }


def compute() -> dict[str, dict[str, dict[str, float]]]:
    """Scenario → {"computed", "roofline_alone", "variant:NAME"} → figure → value."""
    import infercost
    from infercost.scenario.loader import builtin_names

    out: dict[str, dict[str, dict[str, float]]] = {}
    for name in builtin_names():
        doc = infercost.reproduce(scenario=name).to_dict()
        entry = {"computed": numbers(doc["computed"])}
        calibration = doc.get("calibration") or {}
        if calibration.get("uncalibrated"):
            entry["roofline_alone"] = numbers(calibration["uncalibrated"])
        for variant, figures in sorted((doc.get("variants") or {}).items()):
            if isinstance(figures, dict):
                entry[f"variant:{variant}"] = numbers(figures)
        out[name] = entry
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write the pinned file anew")
    args = parser.parse_args()
    now = compute()
    if args.write:
        PINNED.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"written {PINNED.relative_to(ROOT)}")
        return
    old = json.loads(PINNED.read_text(encoding="utf-8")) if PINNED.exists() else {}
    for name, blocks in now.items():
        for block, figures in blocks.items():
            for key, value in figures.items():
                was = old.get(name, {}).get(block, {}).get(key)
                if was is None or not math.isclose(was, value, rel_tol=1e-4, abs_tol=1e-12):
                    print(f"{name} {block} {key}: {was} → {value}")


if __name__ == "__main__":
    main()
