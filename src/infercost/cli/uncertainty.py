"""The Monte Carlo of `reproduce --samples` and `plan --samples`, for a person: the
uncertain inputs and their sources (the notes saying why are in `--json` and the scenario
file), P10 / P50 / P90 of the main figures (every figure is in `--json`), and the tornado of
the headline."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from infercost.cli.labels import fmt, label, table

# Shown beside the published figures (every figure is in --json's `quantiles`).
MAIN_KEYS = (
    "gpus",
    "servers",
    "usd_per_day",
    "usd_per_query",
    "usd_per_million_output_tokens",
    "interactivity_tokens_per_s",
    "ttft_s",
    "e2e_s",
)


# The plan's fleet, re-sized per sample (every figure is in --json's `quantiles`).
PLAN_KEYS = (
    "replicas",
    "gpus",
    "usd_per_month",
    "usd_per_query",
    "usd_per_million_output_tokens",
    "utilisation",
)


def print_uncertainty(console: Console, doc: dict[str, Any]) -> None:
    """`reproduce --samples`: the point is the scenario's computed figures."""
    keys = [*doc["published"], *MAIN_KEYS]
    _print(console, doc, doc["computed"], keys, "through the same pipeline")


def print_plan_uncertainty(console: Console, doc: dict[str, Any]) -> None:
    """`plan --samples`: the point is the screen's answer at the point inputs."""
    u = doc["uncertainty"]
    latencies = [k for k in u["point"] if k.endswith("_s")]
    _print(console, doc, u["point"], [*PLAN_KEYS, *latencies], "through the plan's screen")
    console.print(
        "The plan's configuration and batch cap held; the replicas re-sized per sample by "
        "the screen (predicted, not simulated).",
        highlight=False,
    )
    for path, why in u["not_sampled"].items():
        console.print(f"Not sampled: {path} ({why}).", highlight=False)


def _print(
    console: Console, doc: dict[str, Any], point: dict[str, Any], keys: list[str], how: str
) -> None:
    u = doc["uncertainty"]
    inputs = u["inputs"]
    console.print(
        f"[bold]Monte Carlo[/bold]: {u['samples']:,} samples (seed {u['seed']}) of "
        f"{len(inputs)} uncertain inputs, {how}",
        highlight=False,
    )
    for path, d in inputs.items():
        console.print(f"• [bold]{path}[/bold]: {_distribution(path, d)}", highlight=False)
        console.print(f"    {_sources(d['sources'])}", highlight=False)
    if u["pinned"]:
        console.print(f"Pinned by --set (not sampled): {', '.join(u['pinned'])}")
    console.print(quantiles_table(doc, point, keys))
    console.print(tornado_table(doc, point))
    console.print(
        "Swing: the headline with one input at its P10 and then its P90, the others at "
        "their points. Share: first-order Sobol index from the samples (the share of the "
        "variance that input explains alone).",
        highlight=False,
    )


def _distribution(path: str, d: dict[str, Any]) -> str:
    kind = d["kind"]
    names = {"uniform": ("low", "high"), "triangular": ("low", "mode", "high")}
    shown = " · ".join(f"{k} {fmt(path, d[k])}" for k in names.get(kind, ("median", "p90")))
    return f"{kind} {shown} (P10 {fmt(path, d['p10'])}, P90 {fmt(path, d['p90'])})"


def _sources(sources: dict[str, str]) -> str:
    by_source: dict[str, list[str]] = {}
    for bound, source in sources.items():
        by_source.setdefault(source, []).append(bound)
    if len(by_source) == 1:
        return f"source: {next(iter(by_source))}"
    return "sources: " + ", ".join(f"{s} ({', '.join(b)})" for s, b in by_source.items())


def quantiles_table(doc: dict[str, Any], point: dict[str, Any], keys: list[str]) -> Any:
    q = doc["quantiles"]
    columns = ("figure", "point", "P10", "P50", "P90")
    out = table("Quantiles", *columns, right=columns[1:], whole=columns[1:])
    for key in dict.fromkeys(k for k in keys if k in q):
        row = q[key]
        cells = (point.get(key), row["p10"], row["p50"], row["p90"])
        out.add_row(_label(key), *(fmt(key, v) for v in cells))
    return out


def _label(key: str) -> str:
    """A figure's name; a plan's predicted percentile (`ttft_p99_s`) reads as one."""
    metric, _, rest = key.partition("_p")
    if metric in ("ttft", "tpot", "e2e", "itl") and rest.endswith("_s"):
        return f"predicted {metric.upper()} p{rest.removesuffix('_s')}"
    return label(key)


def tornado_table(doc: dict[str, Any], point: dict[str, Any]) -> Any:
    headline = doc["uncertainty"]["headline"]
    title = f"Tornado: {label(headline)} (point {fmt(headline, point[headline])})"
    out = table(title, "input (P10 → P90)", "at P10 → at P90", "swing", "share",
                right=("swing", "share"), whole=("swing", "share"))  # fmt: skip
    for row in doc["tornado"]:
        path = row["input"]
        share = row["variance_share"]
        out.add_row(
            f"{path}\n  {fmt(path, row['input_low'])} → {fmt(path, row['input_high'])}",
            f"{fmt(headline, row['low'])} → {fmt(headline, row['high'])}",
            fmt(headline, row["swing"]),
            "—" if share is None else f"{share * 100:.0f} %",
        )
    return out
