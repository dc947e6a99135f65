"""Reports of runs request by request — a simulation, a measurement (measured beside
predicted) — with their latency CDFs and latency over time, other runs overlaid; and of the
performance model against measured benchmarks (`validate`)."""

from __future__ import annotations

from typing import Any

from infercost.report import charts
from infercost.report.layout import Runs, Section, Table, ms, num, pairs, pct, usd

# --- simulate and measure -------------------------------------------------------------------


def _latency_table(rows: list[tuple[str, dict[str, Any]]]) -> Table:
    cols = ["run"] + [f"{m} {p}" for m in ("TTFT", "TPOT", "E2E") for p in ("p50", "p99")]
    return Table(
        cols,
        [
            [
                label,
                *[
                    ms((d.get(f"{m}_s") or {}).get(p))
                    for m in ("ttft", "tpot", "e2e")
                    for p in ("p50", "p99")
                ],
            ]
            for label, d in rows
        ],
    )


def simulate(doc: dict[str, Any], others: Runs) -> list[Section]:
    fleet = doc.get("fleet") or {}
    dep = doc.get("deployment") or {}
    answer = Section("The fleet under load")
    answer.paragraphs.append(
        f"{num(doc.get('requests'))} requests at {num(doc.get('offered_rate_rps'))} a second "
        f"on {num(fleet.get('replicas_simulated') or doc.get('replicas'))} replicas "
        f"({dep.get('model', '')} on {dep.get('gpu', '')}, router {fleet.get('router', '—')})."
    )
    answer.tables.append(
        pairs(
            "Throughput and queues",
            [
                (k, num(doc.get(k)))
                for k in (
                    "completed",
                    "errors",
                    "throughput_output_tok_s",
                    "throughput_requests_per_s",
                    "goodput_rps",
                    "mean_batch_size",
                    "kv_utilisation",
                    "busy_fraction",
                    "preemptions",
                )
                if k in doc
            ],
        )
    )
    answer.tables.append(_latency_table([("simulated", doc)]))
    if doc.get("slo"):
        answer.tables.append(
            Table(
                ["target", "threshold", "achieved", "met"],
                [
                    [
                        k,
                        ms(v.get("threshold_s")),
                        ms(v.get("achieved_s")),
                        "yes" if v.get("met") else "no",
                    ]
                    for k, v in doc["slo"].items()
                ],
                "Targets",
            )
        )
    pools = doc.get("pools") or {}
    if pools:
        answer.tables.append(
            Table(
                ["pool", "replicas", "GPU", "busy", "TTFT p99", "TPOT p99"],
                [
                    [
                        name,
                        num(p.get("replicas")),
                        str(p.get("gpu", "")),
                        num(p.get("busy_fraction") or p.get("busy")),
                        ms((p.get("ttft_s") or {}).get("p99")),
                        ms((p.get("tpot_s") or {}).get("p99")),
                    ]
                    for name, p in pools.items()
                ],
                "Pools",
            )
        )
    runs = [("simulated", doc.get("distributions") or {}), *others]
    return [answer, _latency_charts(runs, []), *_warnings(doc)]


def measure(doc: dict[str, Any], others: Runs) -> list[Section]:
    setup = doc.get("setup") or {}
    levels = [lv for lv in doc.get("levels") or [] if lv.get("requests")]
    answer = Section("Measured levels")
    answer.paragraphs.append(
        f"{num(doc.get('requests'))} requests, {num(doc.get('errors'))} errors"
        + (
            f"; server: {', '.join(f'{k} {v}' for k, v in setup.items() if v is not None)}"
            if setup
            else ""
        )
        + "."
    )
    answer.tables.append(
        Table(
            [
                "level",
                "requests",
                "output tok/s",
                "predicted tok/s",
                "TTFT p50",
                "predicted TTFT",
                "TPOT p50",
                "predicted TPOT",
                "$ per 1M output tokens",
            ],
            [
                [
                    str(lv.get("level")),
                    num(lv.get("requests")),
                    num(lv.get("throughput_output_tok_s")),
                    num((lv.get("predicted") or {}).get("throughput_output_tok_s")),
                    ms((lv.get("ttft_s") or {}).get("p50")),
                    ms((lv.get("predicted") or {}).get("ttft_s_p50")),
                    ms((lv.get("tpot_s") or {}).get("p50")),
                    ms((lv.get("predicted") or {}).get("tpot_s_p50")),
                    usd(lv.get("usd_per_million_output_tokens")),
                ]
                for lv in levels
            ],
        )
    )
    answer.tables.append(_latency_table([(str(lv.get("level")), lv) for lv in levels]))
    answer.figure(charts.levels(levels))
    markers: list[tuple[str, str, float]] = []
    for lv in levels:
        p = lv.get("predicted") or {}
        markers += [
            (f"predicted p50 ({lv.get('level')})", metric, float(p[f"{metric}_p50"]))
            for metric in ("ttft_s", "tpot_s")
            if p.get(f"{metric}_p50")
        ]
    runs = [(f"measured {lv.get('level')}", lv.get("distributions") or {}) for lv in levels]
    return [answer, _latency_charts([*runs, *others], markers)]


def _latency_charts(runs: Runs, markers: list[tuple[str, str, float]]) -> Section:
    out = Section("Latency")
    if len(runs) > 1:
        out.paragraphs.append("Runs overlaid: " + ", ".join(label for label, _ in runs) + ".")
    if markers:
        out.paragraphs.append("Dashed lines: the performance model's predicted medians.")
    out.figure(charts.latency_cdfs(runs, [m for m in markers if m[2]]))
    out.figure(charts.latency_over_time(runs))
    return out


def _warnings(doc: dict[str, Any]) -> list[Section]:
    found = doc.get("warnings") or []
    return [Section("Warnings", paragraphs=[str(w) for w in found])] if found else []


# --- validate -------------------------------------------------------------------------------


def calibrate(doc: dict[str, Any]) -> list[Section]:
    """Each measured level's throughput against the roofline's, raw and with the factors
    just fitted; the factors themselves."""
    levels = doc.get("levels") or []
    answer = Section("Predicted against measured, before and after the fit")
    answer.paragraphs.append(
        f"Factors fitted for {', '.join(doc.get('groups') or [])}, saved to {doc.get('saved')} "
        "(give it to estimate, reproduce or simulate with --calibration)."
    )
    answer.tables.append(
        Table(
            ["level", "measured tok/s", "predicted raw", "error", "predicted calibrated", "error"],
            [
                [
                    str(lv.get("level")),
                    num(lv.get("measured_tok_s")),
                    num(lv.get("raw_tok_s")),
                    _error(lv.get("raw_tok_s"), lv.get("measured_tok_s")),
                    num(lv.get("calibrated_tok_s")),
                    _error(lv.get("calibrated_tok_s"), lv.get("measured_tok_s")),
                ]
                for lv in levels
            ],
        )
    )
    points = [
        {"source": kind, "id": lv.get("level"), "metric": "output tok/s",
         "measured": lv.get("measured_tok_s"), "predicted": lv.get(f"{kind}_tok_s")}
        for kind in ("raw", "calibrated") for lv in levels
    ]  # fmt: skip
    answer.figure(
        charts.predicted_vs_measured(points, "Output tokens/s: predicted against measured")
    )
    factors = doc.get("factors") or {}
    answer.tables.append(pairs("The fitted factors", [(k, num(v)) for k, v in factors.items()]))
    return [answer]


def _error(predicted: Any, measured: Any) -> str:
    if not predicted or not measured:
        return "—"
    return pct((predicted / measured - 1) * 100)


def validate(doc: dict[str, Any]) -> list[Section]:
    summary = doc.get("summary") or {}
    raw = doc.get("summary_raw") or {}
    answer = Section("Predicted against measured")
    answer.paragraphs.append(
        f"{num(doc.get('mapped'))} of {num(doc.get('total'))} measured rows mapped onto the "
        f"catalog; calibration: {doc.get('calibration')}. MdAPE: the median absolute error."
    )
    answer.tables.append(
        _mdape(
            "family", [(k, v, (raw.get(k) or {}).get("mdape_percent")) for k, v in summary.items()]
        )
    )
    rows = doc.get("rows") or []
    answer.figure(charts.predicted_vs_measured(rows, "Predicted against measured (log-log)"))
    by_source = Section("By source")
    by_source.tables.append(
        _mdape(
            "source",
            [(k, v, v.get("raw_mdape_percent")) for k, v in (doc.get("by_source") or {}).items()],
        )
    )
    unmapped = doc.get("unmapped") or []
    if unmapped:
        by_source.tables.append(
            Table(
                ["row", "why not mapped"],
                [[str(u.get("id")), str(u.get("reason"))] for u in unmapped],
                "Rows not mapped",
            )
        )
    return [answer, by_source]


def _mdape(name: str, groups: list[tuple[str, dict[str, Any], Any]]) -> Table:
    """Rows and median absolute error per group, calibrated and not."""
    return Table(
        [name, "rows", "MdAPE", "MdAPE uncalibrated"],
        [
            [k, num(v.get("count")), f"{num(v.get('mdape_percent'))} %", f"{num(raw)} %"]
            for k, v, raw in groups
        ],
    )
