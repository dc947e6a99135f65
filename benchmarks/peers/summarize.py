"""Print rows expressed and MdAPE (throughput / latency family) for each peer result file.

    python3 benchmarks/peers/summarize.py [--rows] [--only ID_PREFIX,...]

MdAPE = median over rows of |predicted - measured| / measured x 100. Throughput family:
output tok/s (group or per GPU), prefill tok/s, single-stream decode tok/s, requests/s.
Latency family: ttft_ms_*, tpot_ms_*, itl_*.
"""

from __future__ import annotations

import argparse
import json

from measured_rows import RESULTS_DIR, mdape


def summary_line(name: str, result: dict, ids: set[str] | None) -> str:
    rows = [r for r in result["rows"] if ids is None or r["id"] in ids]
    return (
        f"{name:<22} {len(rows):>4} rows  throughput MdAPE {mdape(rows, 'throughput')!s:>6} %"
        f"  latency MdAPE {mdape(rows, 'latency')!s:>6} %  all {mdape(rows)!s:>6} %"
        f"  elapsed {result['elapsed_s']} s"
    )


def row_lines(result: dict) -> list[str]:
    lines = []
    for r in result["rows"]:
        err = (r["predicted"] - r["measured"]) / r["measured"] * 100
        lines.append(
            f"  {r['id']:<20} {r['metric']:<32} {r['measured']:>10.4g} {r['predicted']:>10.4g}"
            f" {err:>+8.1f} %"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", action="store_true", help="print every row")
    parser.add_argument("--common", action="store_true", help="only rows every tool expressed")
    args = parser.parse_args()
    results = {p.stem: json.loads(p.read_text()) for p in sorted(RESULTS_DIR.glob("*.json"))}
    ids = None
    if args.common:
        ids = set.intersection(*({r["id"] for r in res["rows"]} for res in results.values()))
    for name, result in results.items():
        print(summary_line(name, result, ids))
        if args.rows:
            print("\n".join(row_lines(result)))


if __name__ == "__main__":
    main()
