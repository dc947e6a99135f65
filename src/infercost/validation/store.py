"""Save factors fitted on a whole data set as the calibration file, with provenance."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from infercost.errors import InputError
from infercost.perf.calibration import Calibration, save_calibration
from infercost.validation.calibrate import MIN_ROWS, PENALTY
from infercost.validation.dataset import BUILTIN
from infercost.validation.report import Validation


def save_fitted(result: Validation, data: Path | str | None, path: Path | str) -> Calibration:
    """Write `result.fitted` to `path`, saying which data, how and when."""
    if result.fitted is None:
        raise InputError("write_calibration", "nothing was fitted")
    source = Path(data) if data is not None else BUILTIN
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    provenance = {
        "basis": "calibrated",
        "data": source.name if data is None else str(source),
        "data_sha256": digest,
        "rows": result.total,
        "mapped": result.mapped,
        "method": (
            "per group, minimise sum |log(predicted/measured)| + "
            f"{PENALTY} x sum |log(factor/parent)|; groups need {MIN_ROWS} rows"
        ),
        "command": "infercost validate --write-calibration FILE",
        "fitted_on": dt.date.today().isoformat(),
        "out_of_sample_mdape_percent": {
            family: round(entry["mdape_percent"], 2)
            for family, entry in result.summary().items()
            if entry["mdape_percent"] is not None
        },
    }
    cal = Calibration(result.fitted.groups, provenance)
    try:
        save_calibration(cal, path)
    except OSError as exc:
        raise InputError("write_calibration", f"cannot write {path}: {exc}") from None
    return cal
