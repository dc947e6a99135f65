"""The frontiers as one self-contained HTML page (plotly, its script embedded: no network
when opened), with the planned fleet's operating point marked.

Left: output tokens/s per GPU against tokens/s per user, one line per model × accelerator.
Right: $ per 1M output tokens against tokens/s per user. The chosen fleet is drawn where it
runs: its output tokens/s per GPU at the planned traffic, and 1 / its mean TPOT (simulated
when verified, else predicted at its occupancy), with its $ per 1M output tokens.
"""

from __future__ import annotations

from typing import Any

from infercost.planning.planner import PlanResult


def chosen_point(result: PlanResult) -> dict[str, float | None] | None:
    """Where the best fleet runs on the frontier's axes, or None without one."""
    best = result.best
    if best is None:
        return None
    s = best.sized
    per_gpu = result.demand.traffic.output_tokens_per_day / 86_400.0 / s.gpus
    tpot = float(s.curve.at("tpot_s", min(max(s.occupancy, 1.0), s.cap)))
    if best.verified is not None:
        mean = best.verified.closest.result.summary()["tpot_s"]["mean"]
        tpot = mean or tpot
    cost = s.priced
    return {
        "output_tokens_per_s_per_gpu": per_gpu,
        "interactivity_tokens_per_s": 1.0 / tpot,
        "usd_per_million_output_tokens": (
            None if cost is None else cost.usd_per_million_output_tokens
        ),
    }


def frontier_html(result: PlanResult) -> str:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("Throughput per GPU", "Cost per 1M output tokens"),
        horizontal_spacing=0.1,
    )
    lines: dict[tuple[str, str], list[Any]] = {}
    for p in result.frontier:
        lines.setdefault((p.config.model, p.config.gpu), []).append(p)
    for (model, gpu), points in sorted(lines.items()):
        points.sort(key=lambda p: p.interactivity_tokens_per_s)
        name = f"{gpu}" if len(result.question.constraints.models) == 1 else f"{model} on {gpu}"
        hover = [
            f"{p.config.gpu} tp{p.config.tp} pp{p.config.pp} ep{p.config.ep} "
            f"dp{p.config.dp_attention} {p.config.weight_precision}/"
            f"{p.config.kv_precision} N={p.concurrency}"
            for p in points
        ]
        x = [p.interactivity_tokens_per_s for p in points]
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[p.output_tokens_per_s_per_gpu for p in points],
                mode="lines+markers",
                name=name,
                legendgroup=name,
                text=hover,
            ),
            row=1,
            col=1,
        )
        if any(p.usd_per_million_output_tokens is not None for p in points):
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=[p.usd_per_million_output_tokens for p in points],
                    mode="lines+markers",
                    name=name,
                    legendgroup=name,
                    text=hover,
                    showlegend=False,
                ),
                row=1,
                col=2,
            )
    chosen = chosen_point(result)
    if chosen is not None:
        star = {"symbol": "star", "size": 16, "color": "black"}
        x = [chosen["interactivity_tokens_per_s"]]
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[chosen["output_tokens_per_s_per_gpu"]],
                mode="markers",
                marker=star,
                name="planned fleet",
                legendgroup="chosen",
            ),
            row=1,
            col=1,
        )
        if chosen["usd_per_million_output_tokens"] is not None:
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=[chosen["usd_per_million_output_tokens"]],
                    mode="markers",
                    marker=star,
                    name="planned fleet",
                    legendgroup="chosen",
                    showlegend=False,
                ),
                row=1,
                col=2,
            )
    for col in (1, 2):
        fig.update_xaxes(title_text="tokens/s per user", type="log", row=1, col=col)
    fig.update_yaxes(title_text="output tokens/s per GPU", type="log", row=1, col=1)
    fig.update_yaxes(title_text="$ per 1M output tokens", type="log", row=1, col=2)
    models = ", ".join(result.question.constraints.models)
    fig.update_layout(title=f"Pareto frontiers: {models}", template="plotly_white")
    html: str = fig.to_html(include_plotlyjs=True, full_html=True)
    return html
