"""Efficiency factors fitted to measurements, per engine family and hardware family.

`infercost validate --write-calibration` fits the compute and memory efficiencies and the
per-step and per-sequence overheads to measured benchmarks (see `infercost.validation`) and
stores them in `data/calibration.yaml` with the data they came from. Group keys are
`engine/hardware` ("vllm/datacenter-gpu"), `engine` ("vllm"), `*/hardware` ("*/cpu", every
engine on that hardware) and `*` (everything pooled). A lookup takes the most specific
group that was fitted. `estimate`, `reproduce` and `simulate` start from these factors
unless told not to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from infercost.catalog.hardware import Accelerator
from infercost.errors import InputError
from infercost.files import read_yaml
from infercost.perf.deployment import Efficiency

DEFAULT_FILE = Path(__file__).parent / "data" / "calibration.yaml"
FITTED = ("compute", "memory", "attention_memory", "step_overhead_s", "token_overhead_s")
POOLED = "*"


@dataclass(frozen=True)
class Factors:
    """Fitted values of the `FITTED` efficiency fields, and what they were fitted on."""

    compute: float
    memory: float
    attention_memory: float
    step_overhead_s: float
    token_overhead_s: float = 0.0
    rows: int = 0
    sources: tuple[str, ...] = ()

    @classmethod
    def of(cls, eff: Efficiency) -> Factors:
        return cls(
            eff.compute, eff.memory, eff.attention_memory, eff.step_overhead_s, eff.token_overhead_s
        )

    def values(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in FITTED}

    @classmethod
    def from_values(
        cls, values: dict[str, float], rows: int = 0, sources: tuple[str, ...] = ()
    ) -> Factors:
        return cls(
            compute=values["compute"],
            memory=values["memory"],
            attention_memory=values["attention_memory"],
            step_overhead_s=values["step_overhead_s"],
            token_overhead_s=values["token_overhead_s"],
            rows=rows,
            sources=sources,
        )

    def apply(self, eff: Efficiency) -> Efficiency:
        return replace(
            eff,
            compute=self.compute,
            memory=self.memory,
            attention_memory=self.attention_memory,
            step_overhead_s=self.step_overhead_s,
            token_overhead_s=self.token_overhead_s,
        )

    def to_dict(self) -> dict[str, Any]:
        rounded = {k: float(f"{v:.4g}") for k, v in self.values().items()}
        return {**rounded, "rows": self.rows, "sources": list(self.sources)}


@dataclass(frozen=True)
class Calibration:
    groups: dict[str, Factors]
    provenance: dict[str, Any] = field(default_factory=dict)

    def lookup(self, hardware: str, engine: str | None = None) -> tuple[str, Factors] | None:
        """The most specific fitted group for this engine and hardware family."""
        keys = [f"{engine}/{hardware}", engine] if engine else []
        keys += [f"{POOLED}/{hardware}", POOLED]
        for key in keys:
            if key and key in self.groups:
                return key, self.groups[key]
        return None

    def engines(self) -> list[str]:
        """Engine families with fitted factors."""
        return sorted({k.split("/")[0] for k in self.groups} - {POOLED})

    def efficiency(
        self, gpu: Accelerator, engine: str | None = None, base: Efficiency | None = None
    ) -> Efficiency:
        """`base` (default `Efficiency()`) with the fitted factors for `gpu` and `engine`."""
        return self.resolve(gpu, engine, base)[0]

    def resolve(
        self, gpu: Accelerator, engine: str | None = None, base: Efficiency | None = None
    ) -> tuple[Efficiency, str]:
        """The efficiency for `gpu` and `engine`, and the group it came from ("default")."""
        eff = base or Efficiency()
        found = self.lookup(gpu.family, engine)
        return (found[1].apply(eff), found[0]) if found else (eff, "default")

    def to_dict(self) -> dict[str, Any]:
        return {
            "provenance": self.provenance,
            "groups": {key: f.to_dict() for key, f in sorted(self.groups.items())},
        }


def _factors(key: str, raw: Any) -> Factors:
    if not isinstance(raw, dict):
        raise InputError(f"calibration.{key}", "must be a mapping of factors")
    try:
        values = {
            "token_overhead_s": 0.0,
            "attention_memory": raw.get("attention_memory", raw.get("memory")),
            **{k: raw[k] for k in FITTED if k in raw},
        }
        numbers = {k: float(values[k]) for k in FITTED}
        if not all(math.isfinite(v) for v in numbers.values()):
            raise ValueError("every factor must be a finite number")
        f = Factors.from_values(
            numbers,
            rows=int(raw.get("rows", 0)),
            sources=tuple(str(s) for s in raw.get("sources", ())),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"calibration.{key}", f"needs {', '.join(FITTED)}: {exc}") from None
    f.apply(Efficiency()).check()
    return f


def load_calibration(path: Path | str | None = None) -> Calibration:
    """Fitted factors from `path` (the built-in file when None)."""
    if path is None:
        return _builtin()
    return _read(Path(path))


@lru_cache(maxsize=1)
def _builtin() -> Calibration:
    return _read(DEFAULT_FILE)


def _read(path: Path) -> Calibration:
    raw = read_yaml(path, "calibration")
    if not isinstance(raw, dict) or not isinstance(raw.get("groups"), dict):
        raise InputError("calibration", f"{path} has no 'groups' mapping")
    groups = {str(k): _factors(str(k), v) for k, v in raw["groups"].items()}
    return Calibration(groups, dict(raw.get("provenance") or {}))


def save_calibration(cal: Calibration, path: Path | str) -> None:
    text = yaml.safe_dump(cal.to_dict(), sort_keys=False, allow_unicode=True, width=100)
    Path(path).write_text(HEADER + text, encoding="utf-8")


HEADER = """\
# Efficiency factors fitted to measured benchmarks by `infercost validate --write-calibration`.
# Keys: engine/hardware, engine, */hardware (all engines), * (all pooled). Each group lists the
# rows and sources it was fitted on; `provenance` says which data and when. Do not edit by
# hand: rerun the command.
"""
