"""Reports of a scenario recomputed (`reproduce`: published against computed, the cost
breakdown, traffic, assumptions with their sources, variants, ranges and tornado) and of a
replica estimated per accelerator (`estimate`)."""

from __future__ import annotations

from typing import Any

from infercost.report import charts
from infercost.report.layout import Cell, Link, Section, Table, ms, num, pairs, pct, usd
from infercost.scenario.figures import VARIANT_FIGURES, figures_present

# --- reproduce ------------------------------------------------------------------------------


def reproduce(doc: dict[str, Any], curve: list[dict[str, Any]]) -> list[Section]:
    sources = {s.get("id"): s for s in doc.get("sources") or []}
    c = doc.get("computed") or {}
    answer = Section("Published against computed")
    answer.paragraphs.append(
        "Each published figure beside what the model computes from the stated assumptions "
        "below; 'uncalibrated' is the same computation without the one calibrated input."
    )
    answer.tables.append(
        Table(
            ["figure", "published", "computed", "difference", "uncalibrated", "source"],
            [
                [
                    row["key"],
                    num(row.get("published")),
                    num(row.get("computed")),
                    pct(row.get("diff_pct")),
                    num(row.get("uncalibrated")),
                    _source(row.get("source"), sources),
                ]
                for row in doc.get("comparison") or []
            ],
        )
    )
    answer.figure(charts.published_vs_computed(doc.get("comparison") or []))
    answer.tables.append(pairs("Computed", [(k, num(v)) for k, v in c.items()]))
    cost = Section("Cost")
    details = doc.get("details") or {}
    cost.figure(
        charts.cost_breakdown(
            [(str(details.get("server") or "GPU"), details.get("gpu_hour") or {})]
        )
    )
    cost.figure(charts.by_pool(_scenario_pools(c)))
    traffic = Section("Against traffic")
    traffic.paragraphs.append("The same scenario with its traffic scaled, nothing else changed.")
    traffic.figure(charts.traffic_curve(curve))
    out = [answer, *_implied(doc), cost, traffic, _assumptions(doc, sources), *_variants(doc)]
    if doc.get("quantiles"):
        out.append(uncertainty(doc))
    out.append(_notes(doc, sources))
    return out


def _scenario_pools(c: dict[str, Any]) -> list[tuple[str, float | None]]:
    """$/day by pool: a disaggregated scenario's nodes, split by their share of the GPUs."""
    nodes = c.get("nodes")
    day = c.get("usd_per_day")
    if nodes and day and c.get("nodes_prefill") is not None:
        return [
            ("prefill", day * c["nodes_prefill"] / nodes),
            ("decode", day * c["nodes_decode"] / nodes),
        ]
    return [("fleet", day)] if day is not None else []


def _source(name: Any, sources: dict[Any, dict[str, Any]]) -> Cell:
    found = sources.get(name)
    if found and found.get("url"):
        return Link(str(name), str(found["url"]))
    return "—" if name is None else str(name)


def _assumptions(doc: dict[str, Any], sources: dict[Any, dict[str, Any]]) -> Section:
    out = Section("Assumptions")
    out.paragraphs.append(
        "Every input, with its basis: stated by a source, derived by arithmetic, calibrated to a "
        "measurement, or a default infercost chose."
    )
    out.tables.append(
        Table(
            ["input", "value", "basis", "source", "note"],
            [
                [
                    a["path"],
                    num(a.get("value")),
                    str(a.get("basis", "")),
                    _source(a.get("source"), sources),
                    str(a.get("note") or ""),
                ]
                for a in doc.get("assumptions") or []
            ],
        )
    )
    return out


def _implied(doc: dict[str, Any]) -> list[Section]:
    """What each input alone would have to be for the published figure (scenario.implied)."""
    rows = doc.get("implied") or []
    if not rows:
        return []
    first = rows[0]
    out = Section("What the published figure implies")
    out.paragraphs.append(
        f"The published {first['figure']} ({num(first['target'])}) comes without the inputs "
        "behind it. Each input below is solved for alone, every other input as stated; none "
        "is fitted."
    )
    out.tables.append(
        Table(
            ["input", "stated", "would have to be", "× stated"],
            [
                [
                    r["input"],
                    num(r["stated"]),
                    num(r["implied"]) if r["implied"] is not None else f"none: {r['why']}",
                    num(r.get("ratio")),
                ]
                for r in rows
            ],
        )
    )
    return [out]


def _variants(doc: dict[str, Any]) -> list[Section]:
    variants = doc.get("variants") or {}
    if not variants:
        return []
    keys = figures_present([doc.get("computed") or {}, *variants.values()], VARIANT_FIGURES)
    rows: list[list[Cell]] = [
        ["(as given)", *[num((doc.get("computed") or {}).get(k)) for k in keys]]
    ]
    rows += [[name, *[num(v.get(k)) for k in keys]] for name, v in variants.items()]
    return [Section("Variants", tables=[Table(["variant", *keys], rows)])]


def uncertainty(doc: dict[str, Any]) -> Section:
    u = doc.get("uncertainty") or {}
    out = Section("Ranges and tornado")
    out.paragraphs.append(
        f"{num(u.get('samples'))} samples of the uncertain inputs (seed {u.get('seed')}) "
        "through the same computation: P10, P50 and P90 of each figure."
    )
    out.tables.append(
        Table(
            ["figure", "P10", "P50", "P90"],
            [
                [k, num(q.get("p10")), num(q.get("p50")), num(q.get("p90"))]
                for k, q in (doc.get("quantiles") or {}).items()
            ],
        )
    )
    out.tables.append(
        Table(
            ["input", "range", "P10", "P90", "sources", "note"],
            [
                [
                    name,
                    f"{r.get('kind')}: {num(r.get('low'))} … {num(r.get('high'))}",
                    num(r.get("p10")),
                    num(r.get("p90")),
                    ", ".join(f"{k}: {v}" for k, v in (r.get("sources") or {}).items()),
                    str(r.get("note") or ""),
                ]
                for name, r in (u.get("inputs") or {}).items()
            ],
        )
    )
    headline = str(u.get("headline") or "headline")
    out.figure(charts.tornado(doc.get("tornado") or [], headline))
    out.tables.append(
        Table(
            ["input", "at P10", "at P90", "swing", "variance share"],
            [
                [
                    t["input"],
                    num(t.get("low")),
                    num(t.get("high")),
                    num(t.get("swing")),
                    "—" if t.get("variance_share") is None else f"{t['variance_share']:.0%}",
                ]
                for t in doc.get("tornado") or []
            ],
        )
    )
    return out


def _notes(doc: dict[str, Any], sources: dict[Any, dict[str, Any]]) -> Section:
    out = Section("Notes and sources")
    out.paragraphs += [str(n) for n in doc.get("notes") or []]
    out.tables.append(
        Table(
            ["source", "title", "as of"],
            [
                [_source(i, sources), str(s.get("title", "")), str(s.get("as_of", ""))]
                for i, s in sources.items()
            ],
        )
    )
    return out


# --- estimate -------------------------------------------------------------------------------


def estimate(doc: dict[str, Any], curve: list[dict[str, Any]]) -> list[Section]:
    rows = doc.get("estimates") or []
    answer = Section("One replica per accelerator")
    answer.tables.append(
        Table(
            [
                "accelerator",
                "layout",
                "concurrency",
                "TTFT",
                "TPOT",
                "output tok/s per GPU",
                "$ per GPU-hour",
                "$ per 1M output tokens",
                "fleet GPUs",
                "$ per day",
            ],
            [
                [
                    e["deployment"]["gpu"],
                    _layout(e["deployment"]),
                    num(e.get("concurrency")),
                    ms(e["replica"].get("ttft_s")),
                    ms(e["replica"].get("tpot_s")),
                    num(e.get("output_tokens_per_s_per_gpu")),
                    usd(e.get("usd_per_gpu_hour")),
                    usd(e.get("usd_per_million_output_tokens")),
                    num((e.get("fleet") or {}).get("gpus")),
                    usd((e.get("fleet_cost") or {}).get("usd_per_day")),
                ]
                for e in rows
            ],
        )
    )
    for e in rows:
        step = (e.get("replica") or {}).get("decode_step") or {}
        answer.paragraphs.append(
            f"{e['deployment']['gpu']}: concurrency {num(e.get('concurrency'))} "
            f"({e.get('concurrency_basis', '')}); a decode step takes {ms(step.get('total_s'))}, "
            f"{step.get('bound', '?')}-bound."
        )
    refused = doc.get("refused") or []
    if refused:
        answer.tables.append(
            Table(
                ["accelerator", "why not"],
                [[str(r.get("gpu")), str(r.get("reason") or r.get("message"))] for r in refused],
                "Refused",
            )
        )
    cost = Section("Cost")
    cost.figure(
        charts.cost_breakdown([(e["deployment"]["gpu"], e.get("gpu_hour") or {}) for e in rows])
    )
    cost.figure(
        charts.by_pool(
            [
                (e["deployment"]["gpu"], (e.get("fleet_cost") or {}).get("usd_per_day"))
                for e in rows
            ],
            "$ per day, by accelerator",
        )
    )
    out = [answer, cost]
    if curve:
        traffic = Section("Against traffic")
        traffic.paragraphs.append(
            f"The first accelerator ({rows[0]['deployment']['gpu']}) with the traffic scaled."
        )
        traffic.figure(charts.traffic_curve(curve))
        out.append(traffic)
    return out


def _layout(d: dict[str, Any]) -> str:
    p = d.get("parallelism") or {}
    parts = [f"{k}{v}" for k, v in p.items() if v and v != 1]
    return f"{d.get('gpus', '?')} GPU {' '.join(parts) or 'tp1'} {d.get('weight_precision', '')}"
