"""Reports: one self-contained HTML file per verb's result (Jinja2 templates, plotly charts
with plotly.js embedded), readable offline and when printed.

    write(kind, doc, path, request=...)   the report of a run just made (`--html FILE`)
    write_saved(paths, path)              the report of saved runs (`infercost report`)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infercost.report.html import kind_of, load_saved, report_html, runs_of, write_report

__all__ = ["kind_of", "write", "write_saved"]


def write(
    kind: str,
    doc: dict[str, Any],
    path: Path,
    request: dict[str, Any] | None = None,
    others: list[tuple[str, dict[str, Any]]] | None = None,
) -> Path:
    """The report of `doc`, written to `path`; `request` (estimate, reproduce) reruns the
    verb at other traffic for the traffic chart."""
    curve = _curve(kind, doc, request) if request is not None else None
    if kind == "reproduce" and request is not None and "quantiles" not in doc:
        doc = _with_ranges(doc, request)
    return write_report(path, report_html(kind, doc, curve, others))


def write_saved(paths: list[Path], path: Path) -> Path:
    """The report of the first saved run; further simulate or measure runs overlaid on its
    latency charts. A saved estimate or reproduce is redrawn without rerunning anything."""
    kind, doc = load_saved(paths[0])
    others: list[tuple[str, dict[str, Any]]] = []
    for extra in paths[1:]:
        extra_kind, extra_doc = load_saved(extra)
        if kind not in ("simulate", "measure"):
            from infercost.errors import InputError

            raise InputError("results", f"a {kind} report takes one result; overlays are for "
                              "simulate and measure runs")  # fmt: skip
        others += runs_of(extra_kind, extra_doc, extra.stem)
    return write_report(path, report_html(kind, doc, None, others))


RANGE_SAMPLES = 2_000  # a scenario's ranges in its report when the run sampled none


def _with_ranges(doc: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """A scenario with ranges shows them in its report even when the run asked for no
    samples: the same request sampled `RANGE_SAMPLES` times (seeded), its quantiles and
    tornado added to the document drawn (a scenario without ranges: as it was)."""
    from infercost.api import reproduce
    from infercost.errors import InputError

    try:
        sampled = reproduce(request, samples=RANGE_SAMPLES).to_dict()
    except InputError:
        return doc
    keys = ("quantiles", "tornado", "uncertainty")
    return {**doc, **{k: sampled[k] for k in keys if k in sampled}}


def _curve(kind: str, doc: dict[str, Any], request: dict[str, Any]) -> list[dict[str, Any]]:
    from infercost.api.curves import estimate_curve, reproduce_curve

    if kind == "estimate":
        return estimate_curve(request)
    if kind == "reproduce":
        return reproduce_curve(request, doc.get("assumptions") or [])
    return []
