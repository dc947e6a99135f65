"""What the verbs share: the calibration a request names, output paths checked before a long
run, the names users type checked before anything is read, and the pipeline's field names
translated into the request's."""

from __future__ import annotations

from pathlib import Path

from infercost.errors import InputError
from infercost.evaluate.config import CalibrationChoice

# The pipeline's names for the fields a request calls otherwise.
REQUEST_FIELDS = {
    "weight_precision": "precision",
    "max_sequences": "max_seqs",
    "usd_per_gpu_hour": "price",
}


def calibration_choice(choice: str | None) -> CalibrationChoice:
    """The calibration a request names: "builtin", None (raw defaults), or a file, loaded."""
    if choice is None:
        return None
    if choice == "builtin":
        return "builtin"
    from infercost.perf.calibration import load_calibration

    return load_calibration(choice)


def output_file(path: str | None, field: str, suffixes: tuple[str, ...]) -> Path | None:
    """An output file a verb will write, checked before any work starts."""
    if path is None:
        return None
    target = Path(path)
    if target.suffix.lower() not in suffixes:
        raise InputError(field, f"write {' or '.join(suffixes)}, not {target.suffix or '(none)'}")
    if target.is_dir():
        raise InputError(field, f"{target} is a folder; give a file name")
    if not target.parent.is_dir():
        raise InputError(field, f"no such folder: {target.parent}")
    return target


def check_catalog_names(
    gpu: str | None, model: str | None, precision: str | None, engine_name: str | None
) -> None:
    """Each name the user typed resolves, before anything is read or run."""
    from infercost.catalog.engines import engine
    from infercost.catalog.hardware import accelerator
    from infercost.catalog.models import model as catalog_model
    from infercost.units import weight_and_compute

    if gpu is not None:
        accelerator(gpu)
    if model is not None:
        catalog_model(model)
    if precision is not None:
        weight_and_compute(precision, "precision")
    if engine_name is not None:
        engine(engine_name)
