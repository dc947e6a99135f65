"""Structured measurement files: CSV, JSONL or Parquet rows of `schema.Measurement`.

`load` reads any measured-points file `validate --data` accepts: a structured one (its header
holds `load_mode`) as `Measurement`s, or the free-text CSV (`dataset.COLUMNS`) as `MeasuredRow`s
for the strict reader. A row that breaks the schema is one `InputError` naming the file, the
line and the field.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from infercost.errors import InputError
from infercost.validation.dataset import BUILTIN_STRUCTURED, MeasuredRow, load_rows
from infercost.validation.schema import FIELDS, Measurement

SUFFIXES = (".csv", ".jsonl", ".parquet")


def _text(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("data", f"no such file: {file}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError("data", f"cannot read {file}: {exc}") from None


def _records(file: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, raw fields) of a structured file; empty CSV/Parquet cells are None."""
    suffix = file.suffix.lower()
    if suffix == ".jsonl":
        for line, text in enumerate(_text(file).splitlines(), start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                raise InputError("data", f"{file.name} line {line}: not JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise InputError("data", f"{file.name} line {line}: not a JSON object")
            yield line, record
    elif suffix == ".csv":
        reader = csv.DictReader(io.StringIO(_text(file)))
        for line, raw in enumerate(reader, start=2):
            yield line, {k.strip(): (v if v and v.strip() else None) for k, v in raw.items() if k}
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(file)
        except FileNotFoundError:
            raise InputError("data", f"no such file: {file}") from None
        except Exception as exc:  # pyarrow raises its own kinds for a bad file
            raise InputError("data", f"cannot read {file}: {exc}") from None
        for line, record in enumerate(table.to_pylist(), start=1):
            yield line, {k: v for k, v in record.items() if v is not None}
    else:
        raise InputError("data", f"{file.name}: expected one of {', '.join(SUFFIXES)}")


def _measurement(file: Path, line: int, record: dict[str, Any]) -> Measurement:
    clean = {k: v for k, v in record.items() if v is not None}
    try:
        return Measurement.model_validate(clean)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "row"
        raise InputError("data", f"{file.name} line {line}: field {where}: {err['msg']}") from None
    except json.JSONDecodeError:
        raise InputError(
            "data", f"{file.name} line {line}: field latency_constraints: not a JSON list"
        ) from None


def read_measurements(path: Path | str) -> list[Measurement]:
    """The rows of a structured file, each checked against the schema; ids unique."""
    file = Path(path)
    out: list[Measurement] = []
    seen: set[str] = set()
    for line, record in _records(file):
        m = _measurement(file, line, record)
        if m.id in seen:
            raise InputError("data", f"{file.name} line {line}: duplicate id {m.id!r}")
        seen.add(m.id)
        out.append(m)
    if not out:
        raise InputError("data", f"{file.name} has no rows")
    return out


def write_measurements(items: Iterable[Measurement], path: Path | str) -> Path:
    """Write measurements as CSV, JSONL or Parquet, by the file's suffix."""
    file = Path(path)
    rows = list(items)
    suffix = file.suffix.lower()
    if suffix == ".jsonl":
        lines = [m.model_dump_json(exclude_defaults=True) for m in rows]
        file.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    elif suffix == ".csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        for m in rows:
            writer.writerow({k: "" if v is None else v for k, v in m.flat().items()})
        file.write_text(buffer.getvalue(), encoding="utf-8")
    elif suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist([m.flat() for m in rows]), file)
    else:
        raise InputError("data", f"{file.name}: expected one of {', '.join(SUFFIXES)}")
    return file


def unread_path(structured: Path) -> Path:
    """Where the conversion lists the free-text rows it could not read (id, metric, reason)."""
    return structured.with_name(f"{structured.stem}.unread.jsonl")


def unread(structured: Path) -> list[dict[str, str]]:
    """The rows the conversion left out of `structured`, with their reasons."""
    file = unread_path(structured)
    if not file.exists():
        return []
    return [json.loads(line) for line in _text(file).splitlines() if line.strip()]


def _structured_header(file: Path) -> bool:
    if file.suffix.lower() != ".csv":
        return True
    first = _text(file).splitlines()[:1]
    header = next(csv.reader(first), []) if first else []
    return "load_mode" in [h.strip() for h in header]


def load(path: Path | str | None = None) -> Sequence[Measurement | MeasuredRow]:
    """Rows of any measured-points file (the built-in structured set when `path` is None)."""
    file = Path(path) if path is not None else BUILTIN_STRUCTURED
    if not file.exists():
        raise InputError("data", f"no such file: {file}")
    if _structured_header(file):
        return read_measurements(file)
    return load_rows(file)
