"""The frontiers as one self-contained HTML page (plotly, its script embedded: no network
when opened), with the planned fleet's operating point marked.

Left: output tokens/s per GPU against tokens/s per user, one line per model × accelerator.
Right: $ per 1M output tokens against tokens/s per user. The chosen fleet is drawn where it
runs: its output tokens/s per GPU at the planned traffic, and 1 / its mean TPOT (simulated
when verified, else predicted at its occupancy), with its $ per 1M output tokens.
"""

from __future__ import annotations

from typing import Any

from infercost.planning.planner import PairCandidate, PlanResult
from infercost.units import SECONDS_PER_DAY


def chosen_point(result: PlanResult) -> dict[str, float | None] | None:
    """Where the best fleet runs on the frontier's axes, or None without one."""
    best = result.best
    if best is None:
        return None
    if isinstance(best, PairCandidate):  # a disaggregated fleet: its decode pool's speed
        per_gpu = result.demand.traffic.output_tokens_per_day / SECONDS_PER_DAY / best.gpus
        summary = best.verified.closest.result.summary() if best.verified else None
        mean = None if summary is None else summary["tpot_s"]["mean"]
        tpot = mean or float(next(iter(best.pair.decode.predicted.values()), 0.0))
        out = best.to_dict(result.question.targets)["usd_per_million_output_tokens"]
        return {
            "output_tokens_per_s_per_gpu": per_gpu,
            "interactivity_tokens_per_s": 1.0 / tpot if tpot else None,
            "usd_per_million_output_tokens": out,
        }
    s = best.sized
    per_gpu = result.demand.traffic.output_tokens_per_day / SECONDS_PER_DAY / s.gpus
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
    """The two frontier plots side by side, the planned fleet starred (module docstring)."""
    points = [p.to_dict() for p in result.frontier]
    fig = frontier_figure(points, chosen_point(result))
    models = ", ".join(result.question.constraints.models)
    fig.update_layout(title=f"Pareto frontiers: {models}", template="plotly_white")
    html: str = fig.to_html(include_plotlyjs=True, full_html=True)
    return html


def frontier_figure(points: list[dict[str, Any]], chosen: dict[str, Any] | None) -> Any:
    """The frontiers from the plan's JSON (`frontier` points, `chosen_point`): one line per
    model × accelerator on each plot, the chosen fleet a star. The report draws the same."""
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("Throughput per GPU", "Cost per 1M output tokens"),
        horizontal_spacing=0.1,
    )
    for trace, col in [*_frontier_traces(points), *_chosen_traces(chosen)]:
        fig.add_trace(trace, row=1, col=col)
    for col in (1, 2):
        fig.update_xaxes(title_text="tokens/s per user", type="log", row=1, col=col)
    fig.update_yaxes(title_text="output tokens/s per GPU", type="log", row=1, col=1)
    fig.update_yaxes(title_text="$ per 1M output tokens", type="log", row=1, col=2)
    return fig


def _frontier_traces(points: list[dict[str, Any]]) -> list[tuple[Any, int]]:
    """One line per model × accelerator on each plot."""
    import plotly.graph_objects as go

    lines: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for p in points:
        lines.setdefault((p["model"], p["gpu"]), []).append(p)
    several = len({model for model, _ in lines}) > 1
    out: list[tuple[Any, int]] = []
    for (model, gpu), line in sorted(lines.items()):
        line.sort(key=lambda p: p["interactivity_tokens_per_s"])
        name = f"{model} on {gpu}" if several else gpu
        common = {
            "x": [p["interactivity_tokens_per_s"] for p in line],
            "mode": "lines+markers",
            "name": name,
            "legendgroup": name,
            "text": [_label(p) for p in line],
        }
        out.append((go.Scatter(y=[p["output_tokens_per_s_per_gpu"] for p in line], **common), 1))
        costs = [p.get("usd_per_million_output_tokens") for p in line]
        if any(c is not None for c in costs):
            out.append((go.Scatter(y=costs, showlegend=False, **common), 2))
    return out


def _label(p: dict[str, Any]) -> str:
    return (
        f"{p['gpu']} tp{p['tp']} pp{p['pp']} ep{p['ep']} dp{p['dp_attention']} "
        f"{p['weight_precision']}/{p['kv_precision']} N={p['concurrency']}"
    )


def _chosen_traces(chosen: dict[str, Any] | None) -> list[tuple[Any, int]]:
    """The planned fleet's operating point, a star on each plot."""
    import plotly.graph_objects as go

    if chosen is None or not chosen.get("interactivity_tokens_per_s"):
        return []
    common = {
        "x": [chosen["interactivity_tokens_per_s"]],
        "mode": "markers",
        "marker": {"symbol": "star", "size": 16, "color": "black"},
        "name": "planned fleet",
        "legendgroup": "chosen",
    }
    out = [(go.Scatter(y=[chosen["output_tokens_per_s_per_gpu"]], **common), 1)]
    if chosen.get("usd_per_million_output_tokens") is not None:
        out.append(
            (go.Scatter(y=[chosen["usd_per_million_output_tokens"]], showlegend=False, **common), 2)
        )
    return out
