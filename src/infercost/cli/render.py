"""Rich tables for the CLI: published against computed, assumptions, breakdowns.

Numbers are formatted by what their key says they are (`usd_...`, `..._s`, `..._per_s`,
counts, fractions) and labelled for a person ("$ per 1M output tokens"), while `--json`
keeps the keys. Every column folds rather than cuts, so a value or an id a user must type
is never truncated on a narrow terminal; wide tables are stacked (one row per figure).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from infercost.cli.labels import fmt, label, table
from infercost.scenario.figures import VARIANT_FIGURES, figures_present


def figures_table(figures: dict[str, Any], title: str = "Computed") -> Table:
    out = table(title, "figure", "value", right=("value",), whole=("value",))
    for key, value in figures.items():
        if not isinstance(value, dict | list):
            out.add_row(label(key), fmt(key, value))
    return out


def comparison_table(doc: dict[str, Any]) -> Table:
    calibrated = doc.get("calibration") is not None
    columns = ["figure", "published", "computed", "diff"] + (
        ["roofline alone"] if calibrated else []
    )
    out = table(
        "Published vs computed", *columns, right=tuple(columns[1:]), whole=tuple(columns[1:])
    )
    for row in doc["comparison"]:
        key = row["key"]
        diff = row["diff_pct"]
        cells = [label(key), fmt(key, row["published"]), fmt(key, row["computed"])]
        cells.append("—" if diff is None else f"{diff:+.1f} %")
        if calibrated:
            cells.append(fmt(key, row["uncalibrated"]))
        out.add_row(*cells)
    return out


VARIANT_KEYS = [
    *VARIANT_FIGURES,
    "concurrency_per_replica",
    "interactivity_tokens_per_s",
    "energy_wh_per_query",
]


def variants_table(doc: dict[str, Any], keys: list[str]) -> Table:
    """One column per variant, one row per figure: stays readable however many variants."""
    rows = {"base": doc["computed"], **doc["variants"]}
    out = table("Variants (same traffic)", "figure", *rows, right=tuple(rows), whole=tuple(rows))
    for key in figures_present(list(rows.values()), keys):
        out.add_row(label(key), *(fmt(key, computed.get(key)) for computed in rows.values()))
    return out


def implied_table(rows: list[dict[str, Any]]) -> Table:
    """What each input alone would have to be for the published figure (scenario.implied)."""
    first = rows[0]
    published = f"{label(first['figure'])} ({fmt(first['figure'], first['target'])})"
    title = f"What the published {published} implies, one input at a time"
    out = table(title, "input", "stated", "implied", "× stated", whole=("input",))
    for r in rows:
        if r["implied"] is None:
            out.add_row(r["input"], fmt(r["input"], r["stated"]), "none", r["why"])
        else:
            implied = fmt(r["input"], r["implied"])
            out.add_row(r["input"], fmt(r["input"], r["stated"]), implied, f"{r['ratio']:.3g}")
    return out


def print_assumptions(console: Console, doc: dict[str, Any]) -> None:
    """Every input with its basis and source; a note shared by consecutive rows is shown
    once. A terminal narrower than the table gets one entry per input instead, so that no
    path or source id (which a user types in `--set` and `sources`) is ever broken."""
    rows = []
    previous = None
    for a in doc["assumptions"]:
        shared = (a["basis"], a["source"], a["note"])
        note = "" if shared == previous and a["note"] else " ".join(str(a["note"]).split())
        rows.append((a["path"], fmt(a["path"], a["value"]), a["basis"], a["source"], note))
        previous = shared
    widest = max((len(r[0]) + len(r[1]) + len(r[2]) + len(r[3]) for r in rows), default=0)
    if widest + 40 <= console.width:
        out = table("Assumptions", "input", "value", "basis", "source", "note",
                    whole=("input", "value", "basis", "source"))  # fmt: skip
        for row in rows:
            out.add_row(*row)
        console.print(out)
        return
    console.print("[italic]Assumptions[/italic]")
    for path, value, basis, source, note in rows:
        console.print(f"• [bold]{path}[/bold] = {value} — {basis}, {source}", highlight=False)
        if note:
            console.print(f"    {note}", highlight=False)


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
    if doc.get("implied"):
        console.print(implied_table(doc["implied"]))
    if doc["variants"]:
        console.print(variants_table(doc, VARIANT_KEYS))
    console.print(figures_table(doc["computed"]))
    print_assumptions(console, doc)
    for note in doc["notes"]:
        console.print(f"• {note}")


ESTIMATE_KEYS = (
    "concurrency",
    "max_concurrency_that_fits",
    "ttft_s",
    "tpot_s",
    "e2e_s",
    "interactivity_tokens_per_s",
    "output_tokens_per_s",
    "output_tokens_per_s_per_gpu",
    "prefill_time_share",
    "usd_per_gpu_hour",
    "usd_per_million_output_tokens",
    "usd_per_million_tokens",
    "usd_per_query",
)
FLEET_KEYS = ("replicas", "gpus", "servers")
FLEET_COST_KEYS = ("usd_per_day", "usd_per_query", "usd_per_million_output_tokens")


def _estimate_figures(e: dict[str, Any]) -> dict[str, Any]:
    figures = {**e["replica"], **{k: v for k, v in e.items() if not isinstance(v, dict)}}
    out = {k: figures.get(k) for k in ESTIMATE_KEYS}
    for key in FLEET_KEYS:
        if "fleet" in e:
            out[f"fleet.{key}"] = e["fleet"][key]
    for key in FLEET_COST_KEYS:
        if "fleet_cost" in e:
            out[f"fleet.{key}"] = e["fleet_cost"][key]
    return out


def print_estimates(console: Console, doc: dict[str, Any]) -> None:
    """One column per accelerator; for a single one, its decode step and memory too."""
    estimates = doc["estimates"]
    names = [_replica_name(e["deployment"]) for e in estimates]
    first = estimates[0]["deployment"]
    title = f"{first['model']} in {first['weight_precision']}" + (
        "" if len(estimates) > 1 else f" on {names[0]}"
    )
    heads = names if len(estimates) > 1 else ["value"]
    out = table(title, "figure", *heads, right=tuple(heads))
    rows = [_estimate_figures(e) for e in estimates]
    for key in rows[0]:
        out.add_row(label(key), *(fmt(key, r.get(key)) for r in rows))
    console.print(out)
    if len(estimates) == 1:
        e = estimates[0]
        console.print(figures_table(e["replica"]["decode_step"], "Decode step (per GPU)"))
        console.print(figures_table(e["replica"]["memory"], "Memory"))
    for what_if in dict.fromkeys(
        f"{d['gpu']}: {d['gpu_what_if']}"
        for d in (e["deployment"] for e in estimates)
        if d.get("gpu_what_if")
    ):
        console.print(f"what-if {what_if}", highlight=False)
    for warning in sorted({w for e in estimates for w in e.get("warnings", [])}):
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}")
    for refused in doc.get("refused", []):
        console.print(f"[yellow]{refused['gpu']}[/yellow]: {refused['error']}", highlight=False)
    groups = {e["efficiency"]["calibration_group"] for e in estimates}
    eff = estimates[0]["efficiency"]
    console.print(
        f"efficiency: compute {eff['compute']:.2f}, memory {eff['memory']:.2f}, attention "
        f"memory {eff['attention_memory']:.2f}, step overhead {eff['step_overhead_s'] * 1e3:.2f} "
        f"ms (calibration group: {', '.join(sorted(groups))})",
        highlight=False,
    )


def _replica_name(d: dict[str, Any]) -> str:
    """The column's chip; a what-if is marked (its changes are listed under the table), so
    it never reads as its catalog row."""
    gpu = f"{d['gpu']} (what-if)" if d.get("gpu_what_if") else d["gpu"]
    return f"{d['gpus']} × {gpu}" if d["gpus"] > 1 else gpu


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} %"


def print_validation(console: Console, doc: dict[str, Any], show_rows: bool = False) -> None:
    """Summary by metric family and by source, unmapped rows, and optionally every row."""
    calibrated = doc["calibration"] != "none (raw roofline)"
    columns = ["family", "rows", "MdAPE"] + (["raw MdAPE"] if calibrated else [])
    summary = table(f"Error of the performance model ({doc['calibration']})", *columns,
                    right=tuple(columns[1:]))  # fmt: skip
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
    sources = table("By source", "source", "rows", "MdAPE", "raw MdAPE",
                    right=("rows", "MdAPE", "raw MdAPE"), whole=("source",))  # fmt: skip
    for name, entry in doc["by_source"].items():
        sources.add_row(name, str(entry["count"]), _pct(entry["mdape_percent"]),
                        _pct(entry["raw_mdape_percent"]))  # fmt: skip
    console.print(sources)
    if show_rows:
        numeric = ("measured", "predicted", "error", "batch")
        rows = table("Rows", "id", "metric", *numeric, "group", "bound", right=numeric,
                     whole=("id",))  # fmt: skip
        for row in doc["rows"]:
            rows.add_row(row["id"], row["metric"], f"{row['measured']:.4g}",
                         f"{row['predicted']:.4g}", f"{row['error_percent']:+.1f} %",
                         f"{row['batch']:.0f}", row["calibration_group"], row["bound"])  # fmt: skip
        console.print(rows)
    if doc["unmapped"]:
        unmapped = table("Not mapped", "id", "reason", whole=("id",))
        for row in doc["unmapped"]:
            unmapped.add_row(row["id"], row["reason"])
        console.print(unmapped)


SIMULATION_KEYS = (
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


def print_simulation(console: Console, doc: dict[str, Any]) -> None:
    """Throughput, latency percentiles, SLOs and replica statistics of a simulation."""
    if "pools" in doc:
        _print_pools(console, doc)
    else:
        fleet = doc["fleet"]
        dep = doc["deployment"]
        title = f"{dep['model']} on {fleet['replicas_simulated']} × {dep['gpus']} {dep['gpu']}"
        if fleet["replicas_in_fleet"] != fleet["replicas_simulated"]:
            title += f" (standing for {fleet['replicas_in_fleet']:,} replicas)"
        console.print(figures_table({k: doc[k] for k in SIMULATION_KEYS if k in doc}, title))
    if "whole_fleet" in doc:
        w = doc["whole_fleet"]
        console.print(
            f"whole fleet: {w['groups']:,} groups of {w['replicas_per_group']} replicas "
            f"({w['router_across_groups']} across, {w['router_within']} within), "
            f"{w['hours']:g} h, {w['runner']}, {w['seconds']:.1f} s "
            f"({w['requests_per_s_per_worker']:,.0f} requests/s per worker)",
            highlight=False,
        )
    latency = table("Latency", "metric", "p50", "p90", "p99", "mean",
                    right=("p50", "p90", "p99", "mean"))  # fmt: skip
    metrics = ("ttft_s", "tpot_s", "itl_s", "e2e_s", "kv_transfer_s")
    for metric in (m for m in metrics if m in doc):
        row = doc[metric]
        latency.add_row(label(metric), *(fmt(metric, row.get(p)) for p in ("p50", "p90", "p99",
                                                                              "mean")))  # fmt: skip
    console.print(latency)
    if doc["slo"]:
        slos = table("Service-level objectives", "target", "threshold", "achieved", "met")
        for name, entry in doc["slo"].items():
            slos.add_row(
                name,
                fmt("threshold_s", entry["threshold_s"]),
                fmt("achieved_s", entry["achieved_s"]),
                "yes" if entry["met"] else "[red]no[/red]",
            )
        console.print(slos)
    for warning in doc.get("warnings", []):
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}")


POOL_KEYS = {"busy_fraction": "busy", "kv_utilisation": "KV used", "mean_batch_size": "batch",
             "mean_queue_length": "queue"}  # fmt: skip


def _print_pools(console: Console, doc: dict[str, Any]) -> None:
    """A disaggregated fleet: the whole journey's figures, then each pool's own."""
    dep = doc["deployment"]["decode"]
    pools = doc["pools"]
    title = f"{dep['model']}: prefill and decode pools"
    console.print(figures_table({k: doc[k] for k in SIMULATION_KEYS if k in doc}, title))
    heads = tuple(POOL_KEYS.values())
    out = table("Pools (means over the run)", "pool", "replicas", "each", *heads, "own p50",
                right=("replicas", *heads, "own p50"))  # fmt: skip
    own = {"prefill": ("TTFT", "ttft_s"), "decode": ("TPOT", "tpot_s")}
    for name in ("prefill", "decode"):
        pool = pools[name]
        simulated = pool["replicas_simulated"]
        count = f"{pool['replicas']:,}" + (f" ({simulated} sim.)" if simulated != pool["replicas"]
                                           else "")  # fmt: skip
        word, key = own[name]
        out.add_row(name, count, f"{pool['gpus_per_replica']}×{pool['gpu']}",
                    *(fmt(k, pool.get(k)) for k in POOL_KEYS),
                    f"{word} {fmt(key, pool[key]['p50'])}")  # fmt: skip
    console.print(out)


def print_measurement(console: Console, doc: dict[str, Any]) -> None:
    """One row per load level: throughput, latency, errors, cost, and the model's prediction
    for the same level beside each measured figure when a catalog setup was given."""
    levels = doc["levels"]
    predicted = any("predicted" in r for r in levels)
    figures = ("output tok/s", "TTFT p50", "TPOT p50", "$ per 1M output tokens")
    title = "Measured" + (" (the model's prediction beside)" if predicted else "")
    out = table(title, "level", "requests", "errors", *figures, right=("requests", "errors",
                *figures))  # fmt: skip
    for r in levels:
        if not r.get("requests"):
            out.add_row(r["level"], "0", "0", *("—" for _ in figures))
            continue
        p = r.get("predicted") or {}
        pairs = (
            ("throughput_output_tok_s", r["throughput_output_tok_s"], "throughput_output_tok_s"),
            ("ttft_s", r["ttft_s"]["p50"], "ttft_s_p50"),
            ("tpot_s", r["tpot_s"]["p50"], "tpot_s_p50"),
            ("usd_per_million_output_tokens", r["usd_per_million_output_tokens"],
             "usd_per_million_output_tokens"),
        )  # fmt: skip
        cells = [_beside(key, value, p.get(model), predicted) for key, value, model in pairs]
        out.add_row(r["level"], str(r["requests"]), str(r["errors"]), *cells)
    console.print(out)
    for r in levels:
        if r.get("workload"):
            console.print(f"{r['level']}: {_workload_line(r)}", highlight=False)
    if doc.get("measurements"):
        path = doc["measurements"]
        console.print(f"measurements: {path} (infercost validate --data {path})", highlight=False)


def _workload_line(r: dict[str, Any]) -> str:
    """What was sent and what came back: prompt lengths, short answers, cache, retries, and
    the gap between the client's TTFT and the server's own."""
    w = r["workload"]
    sources = ", ".join(w["length_sources"]) or "—"
    why = ", ".join(f"{n} {k}" for k, n in w["short_output_reasons"].items())
    parts = [
        f"engine {w['engine'] or 'unknown'}",
        f"prompts at length {w['prompts_at_requested_length']}/{w['prompts_checked']} ({sources})",
        f"{w['short_outputs']} answers short" + (f" ({why})" if why else ""),
        f"cache hits {fmt('hit_fraction', w['cache_hit_rate'])}",
        f"{w['retries']} retries"
        + (
            " (the server drops kept-alive connections: one per request)"
            if w.get("fresh_connections")
            else ""
        ),
    ]
    gap = (r.get("client_vs_server") or {}).get("ttft")
    if gap:
        parts.append(f"TTFT {fmt('gap_s', gap['gap_s'])} over the server's own")
    return "; ".join(parts)


def _beside(key: str, measured: Any, predicted: Any, show: bool) -> str:
    text = fmt(key, measured)
    return f"{text} (model {fmt(key, predicted)})" if show else text


def print_calibration(console: Console, doc: dict[str, Any]) -> None:
    factors = {k: v for k, v in doc["factors"].items() if k not in ("rows", "sources")}
    console.print(figures_table(factors, f"Fitted factors → {doc['saved']}"))
    out = table("Output tokens/s per level", "level", "measured", "raw model", "calibrated",
                right=("measured", "raw model", "calibrated"))  # fmt: skip
    keys = ("measured_tok_s", "raw_tok_s", "calibrated_tok_s")
    for row in doc["levels"]:
        out.add_row(row["level"], *(fmt("tok", row[k]) for k in keys))
    console.print(out)
    engines = sorted({g.split("/")[0] for g in doc["groups"]} - {"*"})
    console.print(
        f"use: infercost estimate ... --engine {engines[0]} --calibration {doc['saved']}",
        highlight=False,
    )


def print_catalog(console: Console, name: str, rows: list[dict[str, Any]]) -> None:
    """A catalog as one table, or stacked (one block per row) when it is too wide."""
    columns = [k for k in rows[0] if not isinstance(rows[0][k], dict | list)] if rows else []
    if len(columns) * 12 <= console.width:
        out = table(name, *columns, whole=("id",))
        for row in rows:
            out.add_row(*(_cell(row[c]) for c in columns))
        console.print(out)
        return
    for row in rows:
        block = table(f"{name}: {row.get('id', '')}", "field", "value")
        for c in columns:
            block.add_row(c, _cell(row[c]))
        console.print(block)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}" if value < 1e6 else f"{value:,.4e}"
    return "—" if value is None else str(value)
