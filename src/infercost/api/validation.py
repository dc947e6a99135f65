"""`validate`: the performance model against measured benchmarks, out of sample."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infercost.api.models import ValidateRequest, parse
from infercost.api.options import output_file


def validate(
    request: ValidateRequest | dict[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
    **fields: Any,
) -> Any:
    """The performance model against measured benchmarks, out of sample (see `validate`)."""
    from infercost.validation.report import validate as run_validation

    req = parse(ValidateRequest, request, **fields)
    plot = output_file(req.plot, "plot", (".html", ".png", ".svg", ".pdf"))
    written = output_file(req.write_calibration, "write_calibration", (".yaml", ".yml"))
    result = run_validation(
        req.data, calibrated=req.calibrated, fit_all=written is not None, progress=progress
    )
    if written is not None:
        from infercost.validation.store import save_fitted

        save_fitted(result, req.data, written)
    if plot is not None:
        from infercost.validation.plot import write_plot

        write_plot(result, plot)
    return result
