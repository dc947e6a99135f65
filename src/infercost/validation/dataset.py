"""Measured performance points: the CSV that `infercost validate` checks the model against.

The built-in data set (`data/measured.csv`, with `data/sources.md` describing each source and
its caveats) holds throughput and latency figures from public benchmarks. Any CSV with the
same columns can be validated instead. A row's source is its id without the trailing number
("TRT10-005" → "TRT10"), which is the unit that cross-validation leaves out.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from infercost.errors import InputError

DATA_DIR = Path(__file__).parent / "data"
BUILTIN = DATA_DIR / "measured.csv"  # free text, as sources wrote it
# the same rows, read by scripts/convert_measured.py
BUILTIN_STRUCTURED = DATA_DIR / "measured.jsonl"

COLUMNS = (
    "id",
    "source_url",
    "date",
    "engine",
    "engine_version",
    "model",
    "params_b",
    "active_params_b",
    "precision_weights",
    "precision_kv",
    "gpu",
    "num_gpus",
    "tp",
    "pp",
    "ep",
    "input_len",
    "output_len",
    "batch_or_concurrency",
    "request_rate",
    "metric",
    "value",
    "unit",
    "notes",
)
REQUIRED = ("id", "engine", "model", "precision_weights", "gpu", "metric", "value", "unit")


@dataclass(frozen=True)
class MeasuredRow:
    """One measured point, fields kept as the CSV spells them."""

    id: str
    fields: dict[str, str]

    @property
    def source(self) -> str:
        return source_of(self.id)

    def get(self, column: str) -> str:
        return self.fields.get(column, "").strip()


def source_of(row_id: str) -> str:
    """The source a row id belongs to: the id without its trailing number."""
    return re.sub(r"-\d+[a-z]?$", "", row_id.strip())


def load_rows(path: Path | str | None = None) -> list[MeasuredRow]:
    """Rows of a measured-points CSV (the built-in one when `path` is None)."""
    file = Path(path) if path is not None else BUILTIN
    try:
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("data", f"no such file: {file}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError("data", f"cannot read {file}: {exc}") from None
    reader = csv.DictReader(text.splitlines())
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise InputError(
            "data",
            f"{file.name} lacks column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}",
        )
    rows: list[MeasuredRow] = []
    seen: set[str] = set()
    for line, raw in enumerate(reader, start=2):
        fields = {(k or "").strip(): (v or "") for k, v in raw.items() if k is not None}
        row_id = fields.get("id", "").strip()
        if not row_id:
            raise InputError("data", f"{file.name} line {line}: empty id")
        if row_id in seen:
            raise InputError("data", f"{file.name} line {line}: duplicate id {row_id!r}")
        seen.add(row_id)
        rows.append(MeasuredRow(row_id, fields))
    if not rows:
        raise InputError("data", f"{file.name} has no rows")
    return rows
