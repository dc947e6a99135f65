"""Benchmark data sets that rows name instead of lengths, with their mean lengths and sources.

`data/datasets.yaml` holds one entry per data set: its aliases as sources spell them, the mean
prompt and output tokens per request (null where no source read states one), whether lengths
vary, and `source` / `as_of`. A row that names a data set gets the mean from here; one whose
mean is null stays unmapped rather than given a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from infercost.errors import InputError

TABLE = Path(__file__).parent / "data" / "datasets.yaml"


@dataclass(frozen=True)
class Dataset:
    id: str
    name: str
    aliases: tuple[str, ...]
    input_tokens_mean: float | None
    output_tokens_mean: float | None
    variable: bool
    max_total_tokens: float | None
    source: str
    as_of: str
    note: str

    def mean(self, side: str) -> float:
        """The mean `input` or `output` tokens, or `InputError` when no source states it."""
        value = self.input_tokens_mean if side == "input" else self.output_tokens_mean
        if value is None:
            raise InputError(
                f"{side}_len", f"data set {self.id}: mean {side} length not in datasets.yaml"
            )
        return value

    def describe(self) -> str:
        return f"{self.name}: {self.note.strip()} ({self.source}, {self.as_of})"


@cache
def datasets() -> dict[str, Dataset]:
    rows = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    out: dict[str, Dataset] = {}
    for r in rows:
        out[r["id"]] = Dataset(
            id=r["id"],
            name=r["name"],
            aliases=tuple(a.lower() for a in r["aliases"]),
            input_tokens_mean=r["input_tokens_mean"],
            output_tokens_mean=r["output_tokens_mean"],
            variable=r["distribution"] == "variable",
            max_total_tokens=r.get("max_total_tokens"),
            source=r["source"],
            as_of=str(r["as_of"]),
            note=r.get("note", ""),
        )
    return out


def dataset(name: str) -> Dataset:
    """The data set with this id, or `InputError` listing the known ones."""
    table = datasets()
    if name in table:
        return table[name]
    raise InputError("dataset", f"unknown data set {name!r}; known: {', '.join(table)}")


def named_in(text: str) -> Dataset | None:
    """The data set a free-text length names, if one alias occurs in it as whole words."""
    low = " ".join(text.lower().split())
    found = {
        d.id
        for d in datasets().values()
        for alias in d.aliases
        if re.search(rf"(?<![\w-]){re.escape(alias)}(?![\w-])", low)
    }
    if len(found) > 1:
        raise InputError("dataset", f"{text!r} names several data sets: {', '.join(sorted(found))}")
    return datasets()[found.pop()] if found else None
