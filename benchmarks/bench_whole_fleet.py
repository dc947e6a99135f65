"""chatgpt-2023's whole fleet simulated replica by replica, against the sampled run.

    python benchmarks/bench_whole_fleet.py [--hours 1] [--profile none|diurnal]
        [--backends inline,pool,ray] [--out FILE.json]

1. The sampled run, as `infercost simulate chatgpt-2023` does it: 8 replicas fed 8/3,618 of
   the peak traffic (Poisson, least-outstanding), 200,000 requests.
2. The whole fleet, `simulate chatgpt-2023 --whole-fleet --hours H` (3,618 replicas in
   groups of 9, round-robin across groups, least-outstanding within; flat at the peak, or
   the day's diurnal shape with the scenario's daily mean), once per backend: in process
   (1 worker), a process pool of 2, a local Ray with 2 CPUs (its start-up included).
   Requests, seconds, requests per second per worker; p50/p99 TTFT and TPOT beside the
   sampled run's.

Writes FILE.json and prints the rows for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "whole_fleet.json"
BACKENDS = {"inline": {"workers": 1}, "pool": {"workers": 2}, "ray": {"workers": 2, "ray": "local"}}


def figures(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "requests": doc["requests"],
        "ttft_p50_s": doc["ttft_s"]["p50"],
        "ttft_p99_s": doc["ttft_s"]["p99"],
        "tpot_p50_s": doc["tpot_s"]["p50"],
        "tpot_p99_s": doc["tpot_s"]["p99"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--profile", default="none")
    parser.add_argument("--backends", default="inline,pool,ray")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    import infercost

    start = time.perf_counter()
    sampled = infercost.simulate(scenario="chatgpt-2023", requests=200_000).to_dict()
    rows: dict[str, Any] = {"sampled": {**figures(sampled), "seconds": time.perf_counter() - start}}
    profile = None if args.profile == "none" else args.profile
    for name in args.backends.split(","):
        start = time.perf_counter()
        doc = infercost.simulate(
            scenario="chatgpt-2023", whole_fleet=True, hours=args.hours, profile=profile,
            **BACKENDS[name],
        ).to_dict()  # fmt: skip
        w = doc["whole_fleet"]
        rows[name] = {**figures(doc), "seconds": time.perf_counter() - start,
                      "requests_per_s_per_worker": w["requests_per_s_per_worker"],
                      "groups": w["groups"], "runner": w["runner"]}  # fmt: skip
        print(name, json.dumps(rows[name]), flush=True)
    doc = {
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.python_version()}",
        "hours": args.hours,
        "profile": args.profile,
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    s = rows["sampled"]
    print("| run | requests | seconds | req/s per worker | TTFT p50 / p99 | TPOT p50 / p99 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, r in rows.items():
        rate = r.get("requests_per_s_per_worker")
        print(f"| {name} | {r['requests']:,} | {r['seconds']:.1f} | "
              f"{'—' if rate is None else f'{rate:,.0f}'} | "
              f"{r['ttft_p50_s'] * 1e3:.1f} / {r['ttft_p99_s'] * 1e3:.1f} ms | "
              f"{r['tpot_p50_s'] * 1e3:.2f} / {r['tpot_p99_s'] * 1e3:.2f} ms |")  # fmt: skip
    for name in rows:
        if name != "sampled":
            r = rows[name]
            ttft = r["ttft_p99_s"] / s["ttft_p99_s"] - 1
            tpot = r["tpot_p99_s"] / s["tpot_p99_s"] - 1
            print(f"{name}: TTFT p99 {ttft:+.1%}, TPOT p99 {tpot:+.1%} against sampled")


if __name__ == "__main__":
    main()
