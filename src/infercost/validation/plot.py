"""Predicted against measured, log-log, one colour per source, with the y = x line.

Rows of every metric share the axes (tok/s, req/s and ms alike): on log scales only the
ratio to the diagonal matters. Circles are throughput rows, diamonds latency rows; dotted
lines mark ±25 %. Written as a standalone HTML file, or as PNG/SVG/PDF when kaleido is
installed.
"""

from __future__ import annotations

from pathlib import Path

from infercost.errors import InputError
from infercost.validation.mapping import LATENCY
from infercost.validation.report import Validation

IMAGE_SUFFIXES = (".png", ".svg", ".pdf", ".jpg", ".jpeg", ".webp")


def write_plot(validation: Validation, path: Path | str) -> Path:
    """Write the figure to `path` (.html, or an image format when kaleido is available)."""
    import plotly.graph_objects as go

    out = Path(path)
    suffix = out.suffix.lower()
    if suffix not in (".html", ".htm", *IMAGE_SUFFIXES):
        allowed = ", ".join((".html", *IMAGE_SUFFIXES))
        raise InputError("plot", f"unknown file type {out.suffix or '(none)'!r}; use {allowed}")
    if not validation.rows:
        raise InputError("plot", "no mapped rows to plot")
    fig = go.Figure()
    values = [v for r in validation.rows for v in (r.case.measured, r.predicted) if v > 0]
    low, high = min(values) / 2, max(values) * 2
    for ratio, dash in ((1.0, "solid"), (1.25, "dot"), (0.75, "dot")):
        fig.add_trace(
            go.Scatter(
                x=[low, high],
                y=[low * ratio, high * ratio],
                mode="lines",
                line={"color": "grey", "dash": dash, "width": 1},
                name="y = x" if ratio == 1 else f"{ratio - 1:+.0%}",
                hoverinfo="skip",
            )
        )
    sources = sorted({r.case.source for r in validation.rows})
    for source in sources:
        rows = [r for r in validation.rows if r.case.source == source]
        fig.add_trace(
            go.Scatter(
                x=[r.case.measured for r in rows],
                y=[r.predicted for r in rows],
                mode="markers",
                name=source,
                marker={
                    "size": 9,
                    "symbol": ["diamond" if r.case.family == LATENCY else "circle" for r in rows],
                },
                text=[
                    f"{r.case.row_id}<br>{r.case.metric}<br>{r.case.model.id} on "
                    f"{r.case.replica_gpus}× {r.case.gpu.id}<br>error {r.error_percent:+.1f} %"
                    for r in rows
                ],
                hovertemplate="%{text}<br>measured %{x:.4g}<br>predicted %{y:.4g}<extra></extra>",
            )
        )
    summary = validation.summary()
    kind = "out of sample (leave one source out)" if validation.calibrated else "raw roofline"
    title = (
        f"infercost predicted vs measured, {kind}: throughput MdAPE "
        f"{_pct(summary['throughput']['mdape_percent'])} ({summary['throughput']['count']} rows), "
        f"latency {_pct(summary['latency']['mdape_percent'])} ({summary['latency']['count']})"
    )
    fig.update_layout(
        title={"text": title, "font": {"size": 14}},
        xaxis={"type": "log", "title": "measured (row's unit)"},
        yaxis={"type": "log", "title": "predicted (same unit)", "scaleanchor": "x"},
        width=1000,
        height=800,
        legend={"title": "source"},
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix in (".html", ".htm"):
        fig.write_html(out, include_plotlyjs=True, full_html=True)
        return out
    try:
        fig.write_image(out)
    except (ValueError, ImportError, RuntimeError) as exc:
        raise InputError("plot", f"cannot write {suffix} ({exc}); write .html instead") from None
    return out


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} %"
