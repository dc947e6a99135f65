"""Serving engines and the scheduler defaults infercost assumes for each.

A benchmark or a user rarely states every scheduler setting. Each engine family has one
row: how many sequences it runs at once (per attention-data-parallel copy), how much memory
it keeps back, how many tokens one step may carry, and whether prompt chunks ride in one
step with the running decodes. Everything that needs an engine default asks this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from infercost.catalog.lookup import Table, build, catalog_dir, require_provenance
from infercost.errors import InputError

DEFAULT_ENGINE = "other"


@dataclass(frozen=True)
class Engine:
    id: str
    name: str
    max_sequences: int
    memory_reserve_fraction: float
    max_batched_tokens: int
    mixed_prefill: bool
    source: str
    as_of: str
    aliases: tuple[str, ...] = ()
    notes: str = ""

    @property
    def family(self) -> str:
        return self.id

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "max_sequences": self.max_sequences,
            "memory_reserve_fraction": self.memory_reserve_fraction,
            "max_batched_tokens": self.max_batched_tokens,
            "mixed_prefill": self.mixed_prefill,
            "source": self.source,
            "as_of": self.as_of,
        }


def engine_from_row(row: dict[str, Any]) -> Engine:
    require_provenance("engine", row)
    rid = row["id"]
    seqs, tokens = row.get("max_sequences"), row.get("max_batched_tokens")
    reserve, mixed = row.get("memory_reserve_fraction"), row.get("mixed_prefill")
    if not isinstance(seqs, int) or isinstance(seqs, bool) or not 1 <= seqs <= 1 << 20:
        raise InputError(f"engine.{rid}.max_sequences", "must be a whole number in [1, 1,048,576]")
    if not isinstance(tokens, int) or isinstance(tokens, bool) or not 1 <= tokens <= 1 << 20:
        raise InputError(
            f"engine.{rid}.max_batched_tokens", "must be a whole number in [1, 1,048,576]"
        )
    if not isinstance(reserve, int | float) or isinstance(reserve, bool) or not 0 <= reserve < 1:
        raise InputError(f"engine.{rid}.memory_reserve_fraction", "must be a number in [0, 1)")
    if not isinstance(mixed, bool):
        raise InputError(f"engine.{rid}.mixed_prefill", "must be true or false")
    return Engine(
        id=rid,
        name=str(row.get("name", rid)),
        max_sequences=seqs,
        memory_reserve_fraction=float(reserve),
        max_batched_tokens=tokens,
        mixed_prefill=mixed,
        source=str(row["source"]),
        as_of=str(row["as_of"]),
        aliases=tuple(str(a) for a in row.get("aliases", ())),
        notes=str(row.get("notes", "")),
    )


def engines() -> Table[Engine]:
    """The engine table: built-in rows and the user's catalog folder."""
    return _engines(catalog_dir())


@cache
def _engines(user: Path | None) -> Table[Engine]:
    return Table("engine", build("engine", "engines.yaml", user, engine_from_row))


def engine(name: str | None) -> Engine:
    """An engine by id or alias; None is the generic default."""
    return engines().get(name or DEFAULT_ENGINE)
