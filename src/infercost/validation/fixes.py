"""Hand fixes: a fact a row's own text leaves out, set from where its source states it.

`data/measured.fixes.yaml` lists, for named rows, a value for one `Measurement` field and
where that value is stated (`source`, `stated`: the source's words) and why the row needs it
(`reason`). The conversion (`scripts/convert_measured.py`) gives each row its fixes before the
strict reader reads it, so a field the reader would refuse as unstated ("multi-step
scheduling stated without its number of steps") is read from the fix instead, and the row's
notes say so. A fact no source states gets no fix: its row stays unmapped.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from infercost.errors import InputError
from infercost.validation.schema import FIELDS

TABLE = Path(__file__).parent / "data" / "measured.fixes.yaml"
_NOT_FIXABLE = ("id", "metric", "value", "notes")  # what was measured is never set by hand


class Fix(BaseModel):
    """One field set on named rows, with where the value is stated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ids: tuple[str, ...] = Field(min_length=1)
    field: str
    value: Any
    source: str = Field(min_length=1, description="Where the value is stated (URL).")
    stated: str = Field(min_length=1, description="The source's words that state it.")
    reason: str = Field(min_length=1, description="Why the row needs it.")

    @field_validator("field")
    @classmethod
    def _known(cls, name: str) -> str:
        if name not in FIELDS or name in _NOT_FIXABLE:
            raise ValueError(f"not a field a fix may set: {name!r}")
        return name

    def note(self) -> str:
        return f"fix: {self.field} = {self.value} ({self.reason}; {self.source}: {self.stated!r})"


def load_fixes(path: Path | str = TABLE) -> dict[str, list[Fix]]:
    """Fixes by row id; a bad entry is one `InputError` naming it."""
    file = Path(path)
    try:
        entries = yaml.safe_load(file.read_text(encoding="utf-8")) or []
    except FileNotFoundError:
        raise InputError("fixes", f"no such file: {file}") from None
    out: dict[str, list[Fix]] = {}
    for k, entry in enumerate(entries, start=1):
        try:
            fix = Fix.model_validate(entry)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "entry"
            raise InputError("fixes", f"{file.name} entry {k}: {where}: {err['msg']}") from None
        for row_id in fix.ids:
            if any(f.field == fix.field for f in out.get(row_id, [])):
                raise InputError("fixes", f"{file.name}: {row_id} fixes {fix.field} twice")
            out.setdefault(row_id, []).append(fix)
    return out


@cache
def builtin_fixes() -> dict[str, list[Fix]]:
    return load_fixes(TABLE)
