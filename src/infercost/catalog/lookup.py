"""Name lookup shared by every catalog table.

A row has a canonical `id` and a list of `aliases`. Names are compared after normalising case
and separators ("H100 SXM", "h100-sxm" and "h100_sxm" are one name). An unknown name raises
`UnknownNameError` listing the closest known names (difflib ratio on the normalised forms).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import yaml

from infercost.errors import InputError, UnknownNameError

DATA_DIR = Path(__file__).parent / "data"
# libyaml's loader when PyYAML was built with it: catalogs load ~10× faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Named(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def aliases(self) -> tuple[str, ...]: ...


T = TypeVar("T", bound=Named)


def normalise(name: str) -> str:
    """Lower case with spaces, dashes, underscores, dots and slashes removed."""
    return re.sub(r"[\s\-_./]+", "", name.strip().lower())


class Table(Generic[T]):
    """Rows of one kind, found by id or alias."""

    def __init__(self, kind: str, rows: list[T]) -> None:
        self.kind = kind
        self._rows: dict[str, T] = {}
        self._index: dict[str, str] = {}
        for row in rows:
            if row.id in self._rows:
                raise ValueError(f"{kind} catalog: duplicate id {row.id!r}")
            self._rows[row.id] = row
            for name in (row.id, *row.aliases):
                key = normalise(name)
                owner = self._index.setdefault(key, row.id)
                if owner != row.id:
                    raise ValueError(f"{kind} catalog: {name!r} names both {owner} and {row.id}")

    def __iter__(self) -> Iterator[T]:
        return iter(self._rows.values())

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and normalise(name) in self._index

    def get(self, name: str) -> T:
        """The row named `name` (id or alias), or `UnknownNameError` with suggestions."""
        key = normalise(name)
        if key in self._index:
            return self._rows[self._index[key]]
        raise UnknownNameError(self.kind, name, self.suggest(name))

    def suggest(self, name: str, n: int = 3) -> list[str]:
        """Up to `n` canonical ids whose names look most like `name`."""
        key = normalise(name)
        scored: dict[str, float] = {}
        for alias, row_id in self._index.items():
            score = difflib.SequenceMatcher(None, key, alias).ratio()
            if key and (key in alias or alias in key):
                score += 0.3
            scored[row_id] = max(scored.get(row_id, 0.0), score)
        best = sorted(scored, key=lambda r: -scored[r])
        return [r for r in best[:n] if scored[r] > 0.4]


def load_rows(filename: str, path: Path | None = None) -> list[dict[str, Any]]:
    """The list of mappings under the top-level `rows:` key of a catalog YAML file."""
    source = path or DATA_DIR / filename
    try:
        doc = yaml.load(source.read_text(), Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise InputError(str(source), f"malformed YAML: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("rows"), list):
        raise InputError(str(source), "expected a mapping with a 'rows' list")
    return list(doc["rows"])


def require_provenance(kind: str, row: dict[str, Any]) -> None:
    """Every catalog row says where it comes from and when."""
    for key in ("source", "as_of"):
        if not row.get(key):
            raise InputError(f"{kind}.{row.get('id', '?')}.{key}", "is required on every row")
