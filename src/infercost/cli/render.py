"""Rich tables for the CLI: published against computed, assumptions, breakdowns.

Numbers are formatted by what their key says they are (`usd_...`, `..._s`, `..._per_s`,
counts, fractions), so every table reads the same way.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

FRACTIONS = ("margin", "share", "utilisation", "fraction")


def fmt(key: str, value: Any) -> str:
    """One value, formatted for a person by what its key names."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if not isinstance(value, int | float):
        return str(value)
    name = key.rsplit(".", 1)[-1]
    if name.startswith("usd_per_query") or name.endswith("_usd_per_query"):
        return f"${value:.5f} ({value * 100:.3f} ¢)"
    if "usd" in name:
        return _money(value)
    if any(f in name for f in FRACTIONS):
        return f"{value * 100:.1f} %"
    if name.endswith("_s") and not name.endswith(("_per_s", "tok_s")):
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    return _count(value)


def _money(value: float) -> str:
    if abs(value) >= 1e9:
        return f"${value / 1e9:,.2f} B"
    if abs(value) >= 1e6:
        return f"${value / 1e6:,.2f} M"
    if abs(value) >= 100:
        return f"${value:,.0f}"
    return f"${value:,.4f}" if abs(value) < 1 else f"${value:,.2f}"


def _count(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) >= 1e12:
        return f"{value / 1e12:,.2f} T"
    if abs(value) >= 1e9:
        return f"{value / 1e9:,.2f} B"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.2f}" if abs(value) >= 10 else f"{value:.3g}"


def comparison_table(doc: dict[str, Any]) -> Table:
    calibrated = doc.get("calibration") is not None
    table = Table(title="Published vs computed", title_justify="left")
    table.add_column("figure")
    table.add_column("published", justify="right")
    table.add_column("computed", justify="right")
    table.add_column("diff", justify="right")
    if calibrated:
        table.add_column("roofline alone", justify="right")
    for row in doc["comparison"]:
        key = row["key"]
        diff = row["diff_pct"]
        cells = [key, fmt(key, row["published"]), fmt(key, row["computed"])]
        cells.append("—" if diff is None else f"{diff:+.1f} %")
        if calibrated:
            cells.append(fmt(key, row["uncalibrated"]))
        table.add_row(*cells)
    return table


def computed_table(computed: dict[str, Any], title: str = "Computed") -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in computed.items():
        table.add_row(key, fmt(key, value))
    return table


def variants_table(doc: dict[str, Any], keys: list[str]) -> Table:
    table = Table(title="Variants (same traffic)", title_justify="left")
    table.add_column("variant")
    for key in keys:
        table.add_column(key, justify="right")
    rows = {"base": doc["computed"], **doc["variants"]}
    for name, computed in rows.items():
        table.add_row(name, *(fmt(k, computed.get(k)) for k in keys))
    return table


def assumptions_table(doc: dict[str, Any]) -> Table:
    table = Table(title="Assumptions", title_justify="left")
    for column in ("input", "value", "basis", "source", "note"):
        table.add_column(column, overflow="fold")
    for a in doc["assumptions"]:
        table.add_row(a["path"], fmt(a["path"], a["value"]), a["basis"], a["source"], a["note"])
    return table


VARIANT_KEYS = [
    "gpus",
    "usd_per_day",
    "usd_per_query",
    "usd_per_million_output_tokens",
    "concurrency_per_replica",
    "interactivity_tokens_per_s",
    "energy_wh_per_query",
]


def print_scenario(console: Console, doc: dict[str, Any]) -> None:
    scenario = doc["scenario"]
    console.print(f"[bold]{scenario['name']}[/bold]: {scenario['title']}")
    if doc["comparison"]:
        console.print(comparison_table(doc))
    cal = doc.get("calibration")
    if cal:
        console.print(
            f"Calibrated: [bold]{cal['parameter']} = {cal['value']}[/bold] (the one input fitted "
            "to the published figures); 'roofline alone' puts it back to its default."
        )
    if doc["variants"]:
        console.print(variants_table(doc, VARIANT_KEYS))
    console.print(computed_table(doc["computed"]))
    console.print(assumptions_table(doc))
    for note in doc["notes"]:
        console.print(f"• {note}")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} %"


def print_validation(console: Console, doc: dict[str, Any], show_rows: bool = False) -> None:
    """Summary by metric family and by source, unmapped rows, and optionally every row."""
    calibrated = doc["calibration"] != "none (raw roofline)"
    summary = Table(title=f"Error of the performance model ({doc['calibration']})")
    summary.add_column("family")
    summary.add_column("rows", justify="right")
    summary.add_column("MdAPE", justify="right")
    if calibrated:
        summary.add_column("raw MdAPE", justify="right")
    for family, entry in doc["summary"].items():
        cells = [family, str(entry["count"]), _pct(entry["mdape_percent"])]
        if calibrated:
            cells.append(_pct(doc["summary_raw"][family]["mdape_percent"]))
        summary.add_row(*cells)
    console.print(summary)
    console.print(
        f"{doc['mapped']} of {doc['total']} rows mapped "
        f"({doc['mapped'] / doc['total'] * 100:.0f} %)",
        highlight=False,
    )
    sources = Table(title="By source")
    for name in ("source", "rows", "MdAPE", "raw MdAPE"):
        sources.add_column(name, justify="left" if name == "source" else "right")
    for name, entry in doc["by_source"].items():
        sources.add_row(
            name,
            str(entry["count"]),
            _pct(entry["mdape_percent"]),
            _pct(entry["raw_mdape_percent"]),
        )
    console.print(sources)
    if show_rows:
        table = Table(title="Rows")
        for name in ("id", "metric", "measured", "predicted", "error", "group", "batch", "bound"):
            numeric = name in ("measured", "predicted", "error", "batch")
            table.add_column(
                name, justify="right" if numeric else "left", no_wrap=name == "id", overflow="fold"
            )
        for row in doc["rows"]:
            table.add_row(
                row["id"],
                row["metric"],
                f"{row['measured']:.4g}",
                f"{row['predicted']:.4g}",
                f"{row['error_percent']:+.1f} %",
                row["calibration_group"],
                f"{row['batch']:.0f}",
                row["bound"],
            )
        console.print(table)
    if doc["unmapped"]:
        table = Table(title="Not mapped")
        table.add_column("id")
        table.add_column("reason")
        for row in doc["unmapped"]:
            table.add_row(row["id"], row["reason"])
        console.print(table)


def print_simulation(console: Console, doc: dict[str, Any]) -> None:
    """Throughput, latency percentiles, SLOs and replica statistics of a simulation."""
    fleet = doc["fleet"]
    dep = doc["deployment"]
    title = f"{dep['model']} on {fleet['replicas_simulated']} × {dep['gpus']} {dep['gpu']}" + (
        f" (standing for {fleet['replicas_in_fleet']:,} replicas)"
        if fleet["replicas_in_fleet"] != fleet["replicas_simulated"]
        else ""
    )
    flat = {
        k: doc[k]
        for k in (
            "requests",
            "completed",
            "errors",
            "duration_s",
            "offered_rate_rps",
            "throughput_requests_per_s",
            "throughput_output_tok_s",
            "goodput_rps",
            "mean_concurrency",
            "preemptions",
            "busy_fraction",
            "kv_utilisation",
            "mean_queue_length",
            "mean_batch_size",
        )
    }
    console.print(computed_table(flat, title))
    table = Table(title="Latency")
    for name in ("metric", "p50", "p90", "p99", "mean"):
        table.add_column(name, justify="left" if name == "metric" else "right")
    for metric in ("ttft_s", "tpot_s", "itl_s", "e2e_s"):
        row = doc[metric]
        table.add_row(metric, *(fmt(metric, row.get(p)) for p in ("p50", "p90", "p99", "mean")))
    console.print(table)
    if doc["slo"]:
        slos = Table(title="Service-level objectives")
        for name in ("target", "threshold", "achieved", "met"):
            slos.add_column(name)
        for name, entry in doc["slo"].items():
            slos.add_row(
                name,
                fmt("threshold_s", entry["threshold_s"]),
                fmt("achieved_s", entry["achieved_s"]),
                "yes" if entry["met"] else "[red]no[/red]",
            )
        console.print(slos)


def print_measurement(console: Console, reports: list[dict[str, Any]]) -> None:
    """One row per load level: throughput, latency, errors, cost."""
    table = Table(title="Measured")
    for name in ("level", "requests", "errors", "tok/s", "TTFT p50", "TTFT p99", "TPOT p50",
                 "TPOT p99", "$/1M out"):  # fmt: skip
        table.add_column(name, justify="left" if name == "level" else "right")
    for r in reports:
        if not r.get("requests"):
            table.add_row(r["level"], "0", "0", *("—" for _ in range(6)))
            continue
        table.add_row(
            r["level"],
            str(r["requests"]),
            str(r["errors"]),
            f"{r['throughput_output_tok_s']:.1f}",
            fmt("ttft_s", r["ttft_s"]["p50"]),
            fmt("ttft_s", r["ttft_s"]["p99"]),
            fmt("tpot_s", r["tpot_s"]["p50"]),
            fmt("tpot_s", r["tpot_s"]["p99"]),
            "—"
            if r["usd_per_million_output_tokens"] is None
            else f"${r['usd_per_million_output_tokens']:.3f}",
        )
    console.print(table)
