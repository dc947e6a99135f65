"""The reports' charts: plotly figures drawn from the verbs' JSON documents, nothing else.

Every chart takes the plain `to_dict()` document (or a part of it), so a saved `--json` file
draws the same report as the run that wrote it. Each returns an HTML fragment (a div and its
script) that expects plotly.js on the page: the report embeds plotly.js once, in itself.
"""

from __future__ import annotations

from typing import Any

COMPONENTS = (  # the parts of a $/GPU-hour, in stacking order
    ("capital_usd", "servers (capex)"),
    ("networking_usd", "networking (capex)"),
    ("power_usd", "power"),
    ("facility_usd", "facility"),
    ("rental_usd", "rental"),
)
HEIGHT_PX = 380
CONFIG = {"displaylogo": False, "responsive": True}


def fragment(fig: Any, height: int = HEIGHT_PX) -> str:
    """The figure as a div and its script, plotly.js left to the page."""
    fig.update_layout(template="plotly_white", height=height, margin={"t": 60, "b": 50})
    html: str = fig.to_html(full_html=False, include_plotlyjs=False, config=CONFIG)
    return html


def cost_breakdown(rows: list[tuple[str, dict[str, Any]]]) -> str | None:
    """$/GPU-hour stacked by what it pays for: servers, networking, power, facility, rent."""
    import plotly.graph_objects as go

    rows = [(label, g) for label, g in rows if g and g.get("usd_per_gpu_hour")]
    if not rows:
        return None
    fig = go.Figure()
    for key, name in COMPONENTS:
        values = [float(g.get(key) or 0.0) for _, g in rows]
        if any(values):
            fig.add_trace(go.Bar(x=[label for label, _ in rows], y=values, name=name))
    fig.update_layout(barmode="stack", title="$ per GPU-hour, by what it pays for")
    fig.update_yaxes(title_text="$ per GPU-hour")
    return fragment(fig)


def by_pool(rows: list[tuple[str, float | None]], title: str = "$ per day, by pool") -> str | None:
    import plotly.graph_objects as go

    rows = [(label, v) for label, v in rows if v is not None]
    if not rows:
        return None
    fig = go.Figure(go.Bar(x=[r[0] for r in rows], y=[r[1] for r in rows]))
    fig.update_layout(title=title)
    fig.update_yaxes(title_text="$ per day")
    return fragment(fig)


def traffic_curve(points: list[dict[str, Any]], chosen_factor: float = 1.0) -> str | None:
    """GPUs and $/day against traffic (queries per day when known, else the multiple)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    if len(points) < 2:
        return None
    per_day = all(p.get("queries_per_day") for p in points)
    x = [p["queries_per_day"] if per_day else p["traffic_factor"] for p in points]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Scatter(x=x, y=[p["gpus"] for p in points], name="GPUs", mode="lines+markers"),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[p["usd_per_day"] for p in points],
            name="$ per day",
            mode="lines+markers",
            line={"dash": "dot"},
        ),
        secondary_y=True,
    )
    here = [p for p in points if p["traffic_factor"] == chosen_factor]
    if here:
        at = here[0]["queries_per_day"] if per_day else chosen_factor
        fig.add_vline(x=at, line={"color": "grey", "dash": "dash"}, annotation_text="as given")
    fig.update_xaxes(type="log", title_text="queries per day" if per_day else "× the traffic")
    fig.update_yaxes(title_text="GPUs", secondary_y=False)
    fig.update_yaxes(title_text="$ per day", secondary_y=True)
    fig.update_layout(title="GPUs and $ per day against traffic")
    return fragment(fig)


def published_vs_computed(comparison: list[dict[str, Any]]) -> str | None:
    """Each figure computed ÷ published: 1 is agreement, the axis from 0 so that a 1 % miss
    looks like one (the uncalibrated computation beside it where there is one)."""
    import plotly.graph_objects as go

    rows = [c for c in comparison if c.get("published") and c.get("computed") is not None]
    if not rows:
        return None
    keys = [c["key"] for c in rows]
    ratio = [c["computed"] / c["published"] for c in rows]
    fig = go.Figure(go.Bar(x=keys, y=ratio, name="computed",
                           text=[f"{c['diff_pct']:+.1f} %" for c in rows]))  # fmt: skip
    raw = [None if c.get("uncalibrated") is None else c["uncalibrated"] / c["published"]
           for c in rows]  # fmt: skip
    if any(r is not None for r in raw):
        fig.add_trace(go.Bar(x=keys, y=raw, name="uncalibrated"))
    fig.add_hline(y=1.0, line={"color": "black", "dash": "dash"}, annotation_text="published")
    top = max([*ratio, *[r for r in raw if r is not None], 1.0])
    fig.update_layout(title="Computed ÷ published", barmode="group")
    fig.update_yaxes(title_text="computed ÷ published", range=[0, max(1.25, top * 1.1)])
    return fragment(fig)


def frontier(points: list[dict[str, Any]], chosen: dict[str, Any] | None) -> str | None:
    """Output tokens/s per GPU and $/1M output tokens against tokens/s per user, one line
    per model × accelerator, the chosen fleet starred (the figure `plan --plot` writes)."""
    from infercost.planning.plot import frontier_figure

    if not points:
        return None
    fig = frontier_figure(points, chosen)
    fig.update_layout(title="Pareto frontiers, the planned fleet starred")
    return fragment(fig, 420)


def latency_cdfs(
    runs: list[tuple[str, dict[str, Any]]], markers: list[tuple[str, str, float]] | None = None
) -> str | None:
    """TTFT, TPOT and E2E as CDFs, one line per run; `markers` (label, metric, seconds)
    draw a predicted value as a dashed line on its metric's plot."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    runs = [(label, d) for label, d in runs if d and d.get("cdf")]
    if not runs:
        return None
    metrics = ("ttft_s", "tpot_s", "e2e_s")
    fig = make_subplots(rows=1, cols=3, subplot_titles=("TTFT", "TPOT", "E2E"))
    for i, (label, dist) in enumerate(runs):
        for col, metric in enumerate(metrics, start=1):
            values = dist["cdf"].get(metric) or []
            pairs = [(v, p) for v, p in zip(values, dist["percent"], strict=False) if v]
            if not pairs:
                continue
            fig.add_trace(
                go.Scatter(
                    x=[v for v, _ in pairs],
                    y=[p for _, p in pairs],
                    mode="lines",
                    name=label,
                    legendgroup=label,
                    showlegend=col == 1,
                    line={"color": _colour(i)},
                ),
                row=1,
                col=col,
            )
    for label, metric, value in markers or []:
        if value and metric in metrics:
            col = metrics.index(metric) + 1
            fig.add_trace(
                go.Scatter(
                    x=[value, value],
                    y=[0, 100],
                    mode="lines",
                    name=label,
                    line={"dash": "dash", "color": "black"},
                ),
                row=1,
                col=col,
            )
    fig.update_xaxes(type="log", title_text="seconds")
    fig.update_yaxes(title_text="% of requests", range=[0, 100], row=1, col=1)
    fig.update_layout(title="Latency distributions (CDF)")
    return fragment(fig)


def latency_over_time(runs: list[tuple[str, dict[str, Any]]]) -> str | None:
    """TTFT and TPOT p50 and p99 per window of arrival time, one colour per run."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    runs = [(label, d) for label, d in runs if d and (d.get("timeline") or {}).get("t_s")]
    if not runs:
        return None
    fig = make_subplots(rows=1, cols=2, subplot_titles=("TTFT over time", "TPOT over time"))
    for i, (label, dist) in enumerate(runs):
        line = dist["timeline"]
        for col, metric in enumerate(("ttft_s", "tpot_s"), start=1):
            for pct, dash in (("p50", "solid"), ("p99", "dot")):
                fig.add_trace(
                    go.Scatter(
                        x=line["t_s"],
                        y=line.get(f"{metric}_{pct}"),
                        mode="lines",
                        name=f"{label} {pct}",
                        legendgroup=f"{label} {pct}",
                        showlegend=col == 1,
                        line={"color": _colour(i), "dash": dash},
                    ),
                    row=1,
                    col=col,
                )
    fig.update_xaxes(title_text="seconds into the run (by arrival)")
    fig.update_yaxes(type="log", title_text="seconds")
    fig.update_layout(title="Latency over time: p50 (solid) and p99 (dotted)")
    return fragment(fig)


def predicted_vs_measured(rows: list[dict[str, Any]], title: str) -> str | None:
    """Predicted against measured, log-log, one colour per source, y = x and ±25 % (the
    figure `validate --plot` writes)."""
    from infercost.validation.plot import figure

    if not any((r.get("measured") or 0) > 0 and (r.get("predicted") or 0) > 0 for r in rows):
        return None
    fig = figure(rows)
    fig.update_layout(title=title)
    return fragment(fig, 520)


def tornado(bars: list[dict[str, Any]], headline: str) -> str | None:
    """The headline figure at each uncertain input's P10 and P90, widest swing on top."""
    import plotly.graph_objects as go

    if not bars:
        return None
    bars = sorted(bars, key=lambda b: abs(b.get("swing") or 0))
    names = [b["input"] for b in bars]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(y=names, x=[b["low"] for b in bars], orientation="h", name="input at its P10")
    )
    fig.add_trace(
        go.Bar(y=names, x=[b["high"] for b in bars], orientation="h", name="input at its P90")
    )
    fig.update_layout(barmode="group", title=f"Tornado: {headline} at each input's P10 and P90")
    fig.update_xaxes(title_text=headline)
    return fragment(fig, max(HEIGHT_PX, 80 + 40 * len(bars)))


def day(fixed: dict[str, Any], autoscaled: dict[str, Any]) -> str | None:
    """Replicas hour by hour: fixed for the peak against autoscaled."""
    import plotly.graph_objects as go

    hours = autoscaled.get("hours") or []
    if not hours:
        return None
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[h["hour"] for h in hours],
            y=[h["replicas"] for h in hours],
            mode="lines+markers",
            name="autoscaled",
            line={"shape": "hv"},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[h["hour"] for h in fixed.get("hours") or []],
            y=[h["replicas"] for h in fixed.get("hours") or []],
            mode="lines",
            name="fixed for the peak",
            line={"shape": "hv"},
        )
    )
    fig.update_xaxes(title_text="hour of the day")
    fig.update_yaxes(title_text="replicas")
    fig.update_layout(title="A day of traffic: replicas hour by hour")
    return fragment(fig)


def levels(rows: list[dict[str, Any]]) -> str | None:
    """Measured output throughput per level beside the model's prediction."""
    import plotly.graph_objects as go

    rows = [r for r in rows if r.get("throughput_output_tok_s") is not None]
    if not rows:
        return None
    names = [str(r.get("level")) for r in rows]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=names, y=[r["throughput_output_tok_s"] for r in rows], name="measured"))
    predicted = [(r.get("predicted") or {}).get("throughput_output_tok_s") for r in rows]
    if any(p is not None for p in predicted):
        fig.add_trace(go.Bar(x=names, y=predicted, name="predicted"))
    fig.update_layout(barmode="group", title="Output tokens/s per level")
    fig.update_yaxes(title_text="output tokens/s")
    return fragment(fig)


def _colour(i: int) -> str:
    palette = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf")
    return palette[i % len(palette)]
