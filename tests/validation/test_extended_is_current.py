"""The bundled extended set is measured.csv and incoming.csv as the reader reads them today:
a row added to either, or a reader change, shows here until extended.jsonl is rebuilt
(`python scripts/convert_measured.py src/infercost/validation/data/measured.csv
src/infercost/validation/data/incoming.csv --out src/infercost/validation/data/extended.jsonl`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "src" / "infercost" / "validation" / "data"


def test_extended_jsonl_is_rebuilt_from_its_csvs(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("convert", ROOT / "scripts/convert_measured.py")
    assert spec is not None
    assert spec.loader is not None
    convert = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(convert)
    out = tmp_path / "extended.jsonl"
    convert.convert([DATA / "measured.csv", DATA / "incoming.csv"], out)
    assert out.read_text() == (DATA / "extended.jsonl").read_text()
