"""Predicted against measured, log-log, one colour per source, with the y = x line.

Rows of every metric share the axes (tok/s, req/s and ms alike): on log scales only the
ratio to the diagonal matters. Circles are throughput rows, diamonds latency rows; dotted
lines mark ±25 %. Written as a standalone HTML file, or as PNG/SVG/PDF when kaleido is
installed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infercost.errors import InputError
from infercost.validation.mapping import LATENCY
from infercost.validation.report import Validation

IMAGE_SUFFIXES = (".png", ".svg", ".pdf", ".jpg", ".jpeg", ".webp")


def write_plot(validation: Validation, path: Path | str) -> Path:
    """Write the figure to `path` (.html, or an image format when kaleido is available)."""
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix not in (".html", ".htm", *IMAGE_SUFFIXES):
        allowed = ", ".join((".html", *IMAGE_SUFFIXES))
        raise InputError("plot", f"unknown file type {out.suffix or '(none)'!r}; use {allowed}")
    if not validation.rows:
        raise InputError("plot", "no mapped rows to plot")
    summary = validation.summary()
    kind = "out of sample (leave one source out)" if validation.calibrated else "raw roofline"
    title = (
        f"infercost predicted vs measured, {kind}: throughput MdAPE "
        f"{_pct(summary['throughput']['mdape_percent'])} ({summary['throughput']['count']} rows), "
        f"latency {_pct(summary['latency']['mdape_percent'])} ({summary['latency']['count']})"
    )
    fig = figure([r.to_dict() for r in validation.rows])
    fig.update_layout(title={"text": title, "font": {"size": 14}}, width=1000, height=800)
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix in (".html", ".htm"):
        fig.write_html(out, include_plotlyjs=True, full_html=True)
        return out
    try:
        fig.write_image(out)
    except (ValueError, ImportError, RuntimeError) as exc:
        raise InputError("plot", f"cannot write {suffix} ({exc}); write .html instead") from None
    return out


def figure(rows: list[dict[str, Any]]) -> Any:
    """Predicted against measured from rows as `validate --json` lists them (`measured`,
    `predicted`, `source`; `family`, `id`, `metric`, `model`, `hardware`, `error_percent`
    when known): the y = x line, ±25 %, one colour per source. The report draws the same."""
    import plotly.graph_objects as go

    rows = [r for r in rows if (r.get("measured") or 0) > 0 and (r.get("predicted") or 0) > 0]
    fig = go.Figure()
    values = [v for r in rows for v in (r["measured"], r["predicted"])] or [1.0]
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
    for source in sorted({str(r.get("source")) for r in rows}):
        mine = [r for r in rows if str(r.get("source")) == source]
        fig.add_trace(
            go.Scatter(
                x=[r["measured"] for r in mine],
                y=[r["predicted"] for r in mine],
                mode="markers",
                name=source,
                marker={
                    "size": 9,
                    "symbol": ["diamond" if r.get("family") == LATENCY else "circle" for r in mine],
                },
                text=[_hover(r) for r in mine],
                hovertemplate="%{text}<br>measured %{x:.4g}<br>predicted %{y:.4g}<extra></extra>",
            )
        )
    fig.update_layout(legend={"title": "source"})
    fig.update_xaxes(type="log", title_text="measured (row's unit)")
    fig.update_yaxes(type="log", title_text="predicted (same unit)", scaleanchor="x")
    return fig


def _hover(r: dict[str, Any]) -> str:
    parts = [str(r.get("id", "")), str(r.get("metric", ""))]
    if r.get("model"):
        parts.append(f"{r['model']} on {r.get('hardware', '')}")
    if r.get("error_percent") is not None:
        parts.append(f"error {r['error_percent']:+.1f} %")
    return "<br>".join(parts)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} %"
