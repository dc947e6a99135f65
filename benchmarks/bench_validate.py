"""Accuracy of the performance model against measured benchmarks, beside the peers'.

    python benchmarks/bench_validate.py [--runs N] [--peers benchmarks/results/peers]

Runs `infercost validate` in process (out of sample, leave one source out) and with
`--no-calibration` (the raw roofline), times it, and reads the peer results that
`benchmarks/peers/run_*.py` wrote (each peer in its own virtualenv). For every peer it
reports the peer's MdAPE on the rows the peer could express, and ours on exactly those rows.
Writes `benchmarks/results/validate.json` and prints Markdown tables for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path
from typing import Any

from infercost.validation.report import Validation, mdape, validate

HERE = Path(__file__).resolve().parent
THROUGHPUT = (
    "throughput_output_tok_s",
    "throughput_per_gpu_output_tok_s",
    "prefill_tok_s",
    "decode_tok_s_single_stream",
    "requests_per_s",
)


def family(metric: str) -> str:
    return "throughput" if metric in THROUGHPUT else "latency"


def errors(rows: list[dict[str, Any]], fam: str) -> list[float]:
    return [
        (r["predicted"] - r["measured"]) / r["measured"] * 100
        for r in rows
        if family(r["metric"]) == fam
    ]


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} %"


def ours_on(result: Validation, ids: set[str], raw: bool) -> dict[str, Any]:
    rows = [r for r in result.rows if r.case.row_id in ids]
    out: dict[str, Any] = {"rows": len(rows)}
    for fam in ("throughput", "latency"):
        errs = [
            r.raw_error_percent if raw else r.error_percent for r in rows if r.case.family == fam
        ]
        out[fam] = mdape(errs)
        out[f"{fam}_count"] = len(errs)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="timed runs of the calibrated check")
    parser.add_argument("--peers", type=Path, default=HERE / "results" / "peers")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "validate.json")
    args = parser.parse_args()

    walls = []
    result: Validation | None = None
    for _ in range(max(args.runs, 1)):
        start = time.perf_counter()
        result = validate()
        walls.append(time.perf_counter() - start)
    assert result is not None
    start = time.perf_counter()
    raw = validate(calibrated=False)
    raw_wall = time.perf_counter() - start

    doc: dict[str, Any] = {
        "machine": f"{platform.node()} {platform.machine()} {platform.processor() or ''}".strip(),
        "python": platform.python_version(),
        "validate_wall_s": {"median": statistics.median(walls), "runs": walls},
        "raw_wall_s": raw_wall,
        "total": result.total,
        "mapped": result.mapped,
        "ours": {"calibrated": result.summary(), "raw": raw.summary()},
        "by_source": result.by_source(),
        "peers": {},
    }
    wall = statistics.median(walls)
    print(f"ours: {result.mapped}/{result.total} rows mapped; validate {wall:.1f} s")
    print()
    print("| model | rows | throughput MdAPE | latency MdAPE |")
    print("| --- | ---: | ---: | ---: |")
    for label, s in (
        ("infercost, out of sample", result.summary()),
        ("infercost, raw", raw.summary()),
    ):
        rows = s["throughput"]["count"] + s["latency"]["count"]
        print(
            f"| {label} | {rows} ({s['throughput']['count']} + {s['latency']['count']}) | "
            f"{pct(s['throughput']['mdape_percent'])} | {pct(s['latency']['mdape_percent'])} |"
        )
    print()
    head = ["peer", "rows it expresses", "peer throughput", "ours (OOS)", "ours (raw)"]
    head += ["peer latency", "ours (OOS)", "ours (raw)"]
    print("| " + " | ".join(head) + " |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for path in sorted(args.peers.glob("*.json")):
        peer = json.loads(path.read_text())
        rows = peer["rows"]
        ids = {r["id"] for r in rows}
        mine = ours_on(result, ids, raw=False)
        mine_raw = ours_on(raw, ids, raw=True)
        entry = {
            "version": peer.get("version"),
            "settings": peer.get("settings"),
            "rows": len(rows),
            "throughput": mdape(errors(rows, "throughput")),
            "latency": mdape(errors(rows, "latency")),
            "ours_calibrated_same_rows": mine,
            "ours_raw_same_rows": mine_raw,
            "not_mapped_by_us": sorted(ids - {r.case.row_id for r in result.rows}),
        }
        doc["peers"][path.stem] = entry
        print(
            f"| {path.stem} {peer.get('version', '')} | {len(rows)} | {pct(entry['throughput'])} | "
            f"{pct(mine['throughput'])} | {pct(mine_raw['throughput'])} | "
            f"{pct(entry['latency'])} | {pct(mine['latency'])} | {pct(mine_raw['latency'])} |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
