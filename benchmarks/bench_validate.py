"""Accuracy of the performance model against measured benchmarks, beside the peers'.

    python benchmarks/bench_validate.py [--runs N] [--peers benchmarks/results/peers]
                                        [--write BENCHMARKS.md]

(`make bench-accuracy` runs it with `--write BENCHMARKS.md`.)

Runs `infercost validate` in process (out of sample, leave one source out) and with
`--no-calibration` (the raw roofline), times it, and reads the peer results that
`benchmarks/peers/run_*.py` wrote (each peer in its own virtualenv). For every peer it
reports the peer's MdAPE on the rows the peer could express, and ours on exactly those rows.
Writes `benchmarks/results/validate.json` and prints Markdown tables for BENCHMARKS.md;
with `--write FILE` it replaces the tables between FILE's `<!-- accuracy:NAME -->` and
`<!-- /accuracy:NAME -->` markers (summary, peers, sources) with the ones just computed, so
the accuracy tables are regenerated from `validate`'s output, never typed.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
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


PEER_LABELS = {  # how the tables name each peer and the settings its runner used
    "aiconfigurator": "aiconfigurator {version} (kernel timings measured on GPUs; its own batch "
    "search)",
    "llm-analysis-tuned": "llm-analysis {version}, tuned (flops 0.6, HBM 0.8; largest batch "
    "that fits)",
    "llm-analysis": "llm-analysis {version}, defaults (efficiencies 1.0)",
}


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


def summary_table(doc: dict[str, Any]) -> str:
    total, mapped = doc["total"], doc["mapped"]
    share = f"{mapped / total:.0%}" if total else "—"
    lines = [
        "| model | rows mapped | throughput MdAPE (rows) | latency MdAPE (rows) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, key, bold in (
        ("infercost, out of sample (calibrated, leave one source out)", "calibrated", True),
        ("infercost, raw roofline (default efficiencies)", "raw", False),
    ):
        s = doc["ours"][key]
        cells = []
        for fam in ("throughput", "latency"):
            value = pct(s[fam]["mdape_percent"])
            cells.append(f"{f'**{value}**' if bold else value} ({s[fam]['count']})")
        rows = f"{mapped} / {total} ({share.replace('%', ' %')})" if bold else f"{mapped} / {total}"
        lines.append(f"| {label} | {rows} | {cells[0]} | {cells[1]} |")
    lines.append("| target | ≥ 90 % | ≤ 10 % | ≤ 20 % |")
    return "\n".join(lines)


def peers_table(doc: dict[str, Any]) -> str:
    lines = [
        "| peer (settings) | rows | peer throughput | ours, OOS | ours, raw | peer latency "
        "| ours, OOS | ours, raw |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, p in doc["peers"].items():
        mine, raw = p["ours_calibrated_same_rows"], p["ours_raw_same_rows"]
        label = PEER_LABELS.get(name, "{version}").format(version=p.get("version") or "")
        lines.append(
            f"| {label} | {p['rows']} "
            f"({p['throughput_count']} + {p['latency_count']}) | {pct(p['throughput'])} | "
            f"{pct(mine['throughput'])} | {pct(raw['throughput'])} | {pct(p['latency'])} | "
            f"{pct(mine['latency'])} | {pct(raw['latency'])} |"
        )
    return "\n".join(lines)


def sources_table(doc: dict[str, Any]) -> str:
    lines = ["| source | rows | OOS MdAPE | raw MdAPE |", "| --- | ---: | ---: | ---: |"]
    for source, s in sorted(doc["by_source"].items()):
        lines.append(
            f"| {source} | {s['count']} | {pct(s['mdape_percent'])} | "
            f"{pct(s['raw_mdape_percent'])} |"
        )
    return "\n".join(lines)


def write_tables(path: Path, tables: dict[str, str]) -> None:
    """Each table between `<!-- accuracy:NAME -->` and `<!-- /accuracy:NAME -->` in `path`."""
    text = path.read_text(encoding="utf-8")
    for name, table in tables.items():
        pattern = re.compile(
            rf"(<!-- accuracy:{name} -->\n).*?(\n<!-- /accuracy:{name} -->)", re.DOTALL
        )
        if not pattern.search(text):
            raise SystemExit(f"{path}: no <!-- accuracy:{name} --> markers")
        text = pattern.sub(lambda m, t=table: m.group(1) + t + m.group(2), text)
    path.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="timed runs of the calibrated check")
    parser.add_argument("--peers", type=Path, default=HERE / "results" / "peers")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "validate.json")
    parser.add_argument("--write", type=Path, help="replace the marked tables in this file")
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
    for path in sorted(args.peers.glob("*.json")):
        peer = json.loads(path.read_text())
        rows = peer["rows"]
        ids = {r["id"] for r in rows}
        doc["peers"][path.stem] = {
            "version": peer.get("version"),
            "settings": peer.get("settings"),
            "rows": len(rows),
            "throughput": mdape(errors(rows, "throughput")),
            "latency": mdape(errors(rows, "latency")),
            "throughput_count": len(errors(rows, "throughput")),
            "latency_count": len(errors(rows, "latency")),
            "ours_calibrated_same_rows": ours_on(result, ids, raw=False),
            "ours_raw_same_rows": ours_on(raw, ids, raw=True),
            "not_mapped_by_us": sorted(ids - {r.case.row_id for r in result.rows}),
        }
    tables = {"summary": summary_table(doc), "peers": peers_table(doc),
              "sources": sources_table(doc)}  # fmt: skip
    for name, table in tables.items():
        print(f"\n{name}:\n{table}")
    if args.write is not None:
        write_tables(args.write, tables)
        print(f"\ntables replaced in {args.write}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
