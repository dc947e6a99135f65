"""The report of a plan: the chosen fleet, its pools, the ranked candidates, the Pareto
frontiers with the planned fleet starred, a day of traffic, API prices, ranges."""

from __future__ import annotations

from typing import Any

from infercost.report import charts
from infercost.report.layout import Section, Table, ms, num, pairs, usd
from infercost.report.scenarios import uncertainty

# --- plan -----------------------------------------------------------------------------------


def plan(doc: dict[str, Any]) -> list[Section]:
    q = doc.get("question") or {}
    best = doc.get("best")
    answer = Section("The answer")
    targets = ", ".join(
        f"{s['metric']} p{s['percentile']:g} ≤ {ms(s['threshold_s'])}"
        for s in (q.get("targets") or {}).get("slo") or []
    )
    answer.paragraphs.append(
        f"{', '.join(q.get('models') or [])} at {num(q.get('rate_per_s'))} requests/s at peak "
        f"({num(q.get('queries_per_day'))} a day), {num(q.get('input_tokens_mean'))} tokens in, "
        f"{num(q.get('output_tokens_mean'))} out; targets: {targets or 'none'}."
    )
    if best is None:
        answer.paragraphs.append("No configuration meets the targets; the closest are listed.")
        answer.tables.append(_candidates(doc.get("closest") or []))
    else:
        answer.tables.append(pairs("The chosen fleet", _best_rows(best)))
    answer.tables.append(_candidates((doc.get("candidates") or [])[:10], "The ranked candidates"))
    pools = Section("Cost by pool")
    pools.figure(charts.by_pool(_plan_pools(doc)))
    if best and not best.get("disaggregated"):
        pools.figure(
            charts.cost_breakdown(
                [
                    (
                        str(best.get("gpu")),
                        {
                            "usd_per_gpu_hour": best.get("usd_per_gpu_hour"),
                            "rental_usd": best.get("usd_per_gpu_hour"),
                        },
                    )
                ]
            )
        )
    front = Section("Frontiers")
    front.paragraphs.append(
        "The best each accelerator can do at each speed per user; the star is where the "
        "planned fleet runs."
    )
    front.figure(charts.frontier(doc.get("frontier") or [], doc.get("chosen_point")))
    out = [answer, pools, front]
    if doc.get("fixed") and doc.get("autoscaled"):
        day = Section("A day of traffic")
        day.tables.append(
            Table(
                ["policy", "$ per day", "replicas at peak", "mean replicas", "hours missed"],
                [
                    [
                        name,
                        usd(doc[name].get("usd_per_day")),
                        num(doc[name].get("replicas_peak")),
                        num(doc[name].get("replicas_mean")),
                        num(doc[name].get("intervals_missed")),
                    ]
                    for name in ("fixed", "autoscaled")
                ],
            )
        )
        day.figure(charts.day(doc["fixed"], doc["autoscaled"]))
        out.append(day)
    if doc.get("api"):
        out.append(
            Section(
                "Against API prices",
                tables=[
                    pairs(
                        "",
                        [
                            (k, num(v))
                            for k, v in doc["api"].items()
                            if not isinstance(v, dict | list)
                        ],
                    )
                ],
            )
        )
    if doc.get("quantiles"):
        out.append(uncertainty(doc))
    if doc.get("warnings"):
        out.append(Section("Warnings", paragraphs=[str(w) for w in doc["warnings"]]))
    return out


def _best_rows(best: dict[str, Any]) -> list[tuple[str, str]]:
    if best.get("disaggregated"):
        rows = []
        for name in ("prefill", "decode"):
            p = best[name]
            rows.append(
                (
                    f"{name} pool",
                    f"{p['replicas']} × {p['gpus_per_replica']} {p['gpu']} "
                    f"(tp{p['tp']}), {usd(p.get('usd_per_month'))} a month",
                )
            )
        rows.append(("KV link", str((best.get("kv_link") or {}).get("name", "—"))))
    else:
        rows = [
            (
                "configuration",
                f"{best.get('replicas')} × {best.get('gpus_per_replica')} "
                f"{best.get('gpu')} tp{best.get('tp')} pp{best.get('pp')} "
                f"{best.get('weight_precision')}/{best.get('kv_precision')}",
            )
        ]
    simulated = best.get("simulated") or {}
    slo = simulated.get("slo") or {}
    return [
        *rows,
        ("GPUs", num(best.get("gpus"))),
        ("servers", num(best.get("servers"))),
        ("$ per month", usd(best.get("usd_per_month"))),
        ("$ per day", usd(best.get("usd_per_day"))),
        ("$ per 1M output tokens", usd(best.get("usd_per_million_output_tokens"))),
        ("verified by simulation", "yes" if best.get("verified") else "no"),
        *[
            (f"simulated {k}", f"{ms(v.get('achieved_s'))} (target {ms(v.get('threshold_s'))})")
            for k, v in slo.items()
        ],
    ]


def _candidates(rows: list[dict[str, Any]], caption: str = "") -> Table:
    def label(c: dict[str, Any]) -> str:
        if c.get("disaggregated"):
            p, d = c["prefill"], c["decode"]
            return (
                f"{p['replicas']}×{p['gpu']} tp{p['tp']} + {d['replicas']}×{d['gpu']} tp{d['tp']}"
            )
        return f"{c.get('replicas')}× {c.get('gpu')} tp{c.get('tp')} {c.get('weight_precision')}"

    return Table(
        ["fleet", "GPUs", "$ per month", "meets targets"],
        [
            [
                label(c),
                num(c.get("gpus")),
                usd(c.get("usd_per_month")),
                _met(c.get("meets_targets")),
            ]
            for c in rows
        ],
        caption,
    )


def _plan_pools(doc: dict[str, Any]) -> list[tuple[str, float | None]]:
    best = doc.get("best") or {}
    per_day = 12 / 365  # $ a month → $ a day (a month is a twelfth of a year)
    if doc.get("mix"):
        return [
            (f"{p.get('gpu')} tp{p.get('tp')}", p["usd_per_month"] * per_day)
            for p in doc["mix"].get("pools") or []
            if p.get("usd_per_month")
        ]
    if best.get("disaggregated"):
        return [
            (name, best[name]["usd_per_month"] * per_day)
            for name in ("prefill", "decode")
            if best[name].get("usd_per_month") is not None
        ]
    return [(str(best.get("gpu")), best["usd_per_day"])] if best.get("usd_per_day") else []


def _met(value: Any) -> str:
    return "not simulated" if value is None else ("yes" if value else "no")
