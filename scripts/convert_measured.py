"""Convert free-text measured-points CSVs into the structured measurement format.

    python scripts/convert_measured.py [FREE_TEXT.csv ...] [--out FILE.jsonl|.csv|.parquet]

Defaults: the bundled `measured.csv` (plus `incoming.csv` when present) into the bundled
`measured.jsonl`. Every row goes through the strict reader (`validation.freetext.read_row`)
with the hand fixes `measured.fixes.yaml` names for it (each citing where its value is
stated); a row it cannot read stays out, listed with its reason on stderr. A fix naming a row
that none of the inputs has is an error. Rerun after adding rows or fixes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from infercost.errors import InputError
from infercost.validation.dataset import BUILTIN, BUILTIN_STRUCTURED, DATA_DIR, load_rows
from infercost.validation.fixes import Fix, builtin_fixes
from infercost.validation.freetext import read_row
from infercost.validation.measurements import unread_path, write_measurements
from infercost.validation.schema import Measurement


def convert(
    inputs: list[Path], out: Path, fixes: dict[str, list[Fix]] | None = None
) -> tuple[int, list[str]]:
    """Write the rows the reader reads to `out`, and those it cannot, with the reason, beside
    it (`unread_path`), so that `validate` still counts them as unmapped."""
    fixes = builtin_fixes() if fixes is None else fixes
    kept: list[Measurement] = []
    left: list[dict[str, str]] = []
    seen: set[str] = set()
    for file in inputs:
        for row in load_rows(file):
            seen.add(row.id)
            try:
                kept.append(read_row(row, fixes.get(row.id, ())))
            except InputError as exc:
                left.append({"id": row.id, "metric": row.get("metric"), "reason": str(exc)})
    stray = sorted(set(fixes) - seen)
    if stray:
        raise InputError("fixes", f"fixes name rows no input has: {', '.join(stray)}")
    write_measurements(kept, out)
    lines = [json.dumps(entry) for entry in left]
    unread_path(out).write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return len(kept), [f"{e['id']}: {e['reason']}" for e in left]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, default=BUILTIN_STRUCTURED)
    args = parser.parse_args()
    inputs = args.inputs or [p for p in (BUILTIN, DATA_DIR / "incoming.csv") if p.exists()]
    try:
        count, left = convert(inputs, args.out)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{count} rows written to {args.out}; {len(left)} left out", file=sys.stderr)
    for line in left:
        print(f"  {line}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
