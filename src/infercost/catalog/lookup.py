"""Name lookup shared by every catalog table.

A row has a canonical `id` and a list of `aliases`. Names are compared after normalising case
and separators ("H100 SXM", "h100-sxm" and "h100_sxm" are one name). An unknown name raises
`UnknownNameError` listing the closest known names (difflib ratio on the normalised forms).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from infercost.errors import InputError, UnknownNameError
from infercost.files import read_yaml

DATA_DIR = Path(__file__).parent / "data"


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
        ids = list(self._rows)
        listing = ", ".join(ids) if len(ids) <= 12 else f"see `infercost catalog {self.kind}s`"
        raise UnknownNameError(self.kind, name, self.suggest(name), listing)

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


CATALOG_ENV = "INFERCOST_CATALOG"
_catalog_dir: Path | None = None


def use_catalog(directory: Path | str | None) -> None:
    """Add a user's catalog folder (YAML files named as the built-in ones) to every table."""
    global _catalog_dir
    if directory is not None:
        path = Path(directory)
        if not path.is_dir():
            raise InputError("--catalog", f"{path} is not a folder")
        directory = path.resolve()
    _catalog_dir = directory


def catalog_dir() -> Path | None:
    """The user's catalog folder: `use_catalog`, else $INFERCOST_CATALOG, else none."""
    if _catalog_dir is not None:
        return _catalog_dir
    env = os.environ.get(CATALOG_ENV)
    if not env:
        return None
    path = Path(env)
    if not path.is_dir():
        raise InputError(CATALOG_ENV, f"{path} is not a folder")
    return path.resolve()


def load_rows(filename: str, user: Path | None = None) -> list[dict[str, Any]]:
    """The built-in rows of a catalog file, then the user folder's rows of the same file.

    Every row is tagged with the file it came from (`_origin`), so that a bad row is named
    where the user can find it; a user row cannot reuse a built-in id.
    """
    rows = _rows(DATA_DIR / filename)
    if user is not None and (user / filename).is_file():
        known = {r.get("id") for r in rows}
        extra = _rows(user / filename)
        for row in extra:
            if row.get("id") in known:
                raise InputError(
                    f"{user / filename}", f"id {row.get('id')!r} is already a built-in row"
                )
        rows += extra
    return rows


R = TypeVar("R")


def build(
    kind: str, filename: str, user: Path | None, from_row: Callable[[dict[str, Any]], R]
) -> list[R]:
    """Every row of a catalog file turned into its dataclass; a row with a field missing or
    of the wrong type is one `InputError` naming the row, never a traceback."""
    out = []
    for row in load_rows(filename, user):
        try:
            out.append(from_row(row))
        except InputError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            what = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            raise InputError(f"{kind}.{row.get('id', '?')}", f"bad row ({what})") from None
    return out


def _rows(source: Path) -> list[dict[str, Any]]:
    doc = read_yaml(source, str(source))
    if not isinstance(doc, dict) or not isinstance(doc.get("rows"), list):
        raise InputError(str(source), "expected a mapping with a 'rows' list")
    for row in doc["rows"]:
        if not isinstance(row, dict) or not isinstance(row.get("id"), str) or not row["id"]:
            raise InputError(str(source), "every row must be a mapping with a text 'id'")
    return list(doc["rows"])


def require_provenance(kind: str, row: dict[str, Any]) -> None:
    """Every catalog row says where it comes from and when."""
    for key in ("source", "as_of"):
        if not row.get(key):
            raise InputError(f"{kind}.{row.get('id', '?')}.{key}", "is required on every row")
