"""How long an HTML report takes to write and how big it is, against plotly's own page.

    python benchmarks/bench_report.py [--runs 5] [--out FILE.json]

1. Each verb run once in process (chatgpt-2023 reproduced, with 2,000 samples too; an
   estimate of Llama-3.1-70B on two accelerators at 8 req/s; 20,000 requests simulated on
   an H100; a small plan), then its report rendered from the `to_dict()` document
   (`infercost.report.html.report_html`, what `--html` and `infercost report` do, without
   the traffic reruns) `--runs` times: median seconds, and the file's size.
2. The baseline in the same run: plotly's `Figure.write_html(include_plotlyjs=True)` of one
   bar chart, the smallest self-contained plotly page (plotly.js inside), timed the same way.

Writes FILE.json and prints the rows for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "report.json"


def documents() -> dict[str, tuple[str, dict[str, Any]]]:
    import infercost

    return {
        "reproduce chatgpt-2023": (
            "reproduce",
            infercost.reproduce(scenario="chatgpt-2023").to_dict(),
        ),
        "reproduce --samples 2000": (
            "reproduce",
            infercost.reproduce(scenario="chatgpt-2023", samples=2000).to_dict(),
        ),
        "estimate (2 accelerators)": (
            "estimate",
            infercost.estimate(
                model="llama-3.1-70b", gpu=["h100", "mi300x"], tp=4, qps=8
            ).to_dict(),
        ),
        "simulate (20,000 requests)": (
            "simulate",
            infercost.simulate(model="llama-3.1-8b", gpu="h100", rate=4, requests=20_000).to_dict(),
        ),
        "plan (Llama-3.1-8B, 2 GPUs)": (
            "plan",
            infercost.plan(
                model=["llama-3.1-8b"],
                qps=4,
                input_tokens="800",
                output_tokens="150",
                slo="ttft_p99=2s,tpot_p99=60ms",
                gpu=["h100", "a100-80gb"],
                requests=1500,
                verify=2,
            ).to_dict(),
        ),
    }


def timed(func: Any, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    import plotly.graph_objects as go

    from infercost.report.html import report_html

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        baseline = Path(tmp) / "plotly.html"
        fig = go.Figure(go.Bar(y=[1, 2, 3]))
        fig.write_html(baseline, include_plotlyjs=True)  # warm-up
        times = timed(lambda: fig.write_html(baseline, include_plotlyjs=True), args.runs)
        base = {"median_s": statistics.median(times), "bytes": baseline.stat().st_size}
        report_html("reproduce", documents()["reproduce chatgpt-2023"][1])  # warm-up
        for name, (kind, doc) in documents().items():
            html: list[str] = []
            times = timed(
                lambda kind=kind, doc=doc, html=html: html.append(report_html(kind, doc)), args.runs
            )
            size = len(html[-1].encode("utf-8"))
            rows.append({"report": name, "median_s": statistics.median(times), "bytes": size,
                         "charts": html[-1].count('class="plotly-graph-div"')})  # fmt: skip
    doc = {
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.python_version()}",
        "runs": args.runs,
        "plotly_single_figure_page": base,
        "reports": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print("| report | charts | median time | size | size over plotly's one-chart page |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['report']} | {r['charts']} | {r['median_s'] * 1e3:.0f} ms | "
              f"{r['bytes'] / 1e6:.2f} MB | {r['bytes'] / base['bytes']:.3f}× |")  # fmt: skip
    print(f"| plotly write_html, one bar chart (baseline) | 1 | {base['median_s'] * 1e3:.0f} ms | "
          f"{base['bytes'] / 1e6:.2f} MB | 1× |")  # fmt: skip


if __name__ == "__main__":
    main()
