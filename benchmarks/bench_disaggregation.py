"""The disaggregation gain infercost predicts, on AIConfigurator's README example.

    python benchmarks/bench_disaggregation.py [--qps 40] [--aic-log FILE]

The question (AIConfigurator's README): Qwen3-32B in FP8 on H200, 4,000-token prompts of
which 500 are a shared prefix, 500-token answers, TTFT ≤ 300 ms and TPOT ≤ 10 ms. Its
answer: 684.79 output tok/s per GPU disaggregated against 410.22 aggregated, 1.67×.
AIConfigurator sizes one replica at its SLA in a static model (its targets are means); here
`infercost plan` sizes whole fleets for a traffic (`--qps`, Poisson) and verifies them by
simulation, so the gain is the ratio of GPUs the best colocated fleet and the best
disaggregated fleet need for the same traffic (output tok/s per GPU, the same ratio). The
targets are read at p50 (nearest to AIConfigurator's means) and at p90.

With `--aic-log`, the output of `aiconfigurator cli default ... --serving-mode all` run on
the same question (see BENCHMARKS.md for the command) is read for its own agg and disagg
tok/s/GPU. Writes benchmarks/results/disaggregation.json.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path
from typing import Any

import infercost

HERE = Path(__file__).resolve().parent
QUESTION: dict[str, Any] = {
    "model": ["qwen3-32b"],
    "gpu": ["h200"],
    "precision": ["fp8"],
    "kv_precision": ["fp8"],
    "input_tokens": "4000",
    "output_tokens": "500",
    "cached_fraction": 500 / 4000,
    "objective": "gpus",
}


def best(doc: dict[str, Any], apart: bool) -> dict[str, Any]:
    """The cheapest verified fleet of the kind asked (the plan ranks both kinds together)."""
    met = [
        c for c in doc["candidates"] if c["meets_targets"] and bool(c.get("disaggregated")) == apart
    ]
    assert met, "no fleet of that kind meets the targets"
    b = met[0]
    if b.get("disaggregated"):
        p, d = b["prefill"], b["decode"]
        layout = (f"{p['replicas']} × tp{p['tp']} prefill + {d['replicas']} × tp{d['tp']} "
                  f"decode (cap {d['max_seqs']})")  # fmt: skip
    else:
        layout = f"{b['replicas']} × tp{b['tp']} pp{b['pp']} cap {b['max_seqs']}"
    return {"layout": layout, "gpus": b["gpus"], "usd_per_month": b["usd_per_month"],
            "simulated": b["simulated"]["upper_bound_s"] if b["simulated"] else None}  # fmt: skip


def run(qps: float, slo: str) -> dict[str, Any]:
    out: dict[str, Any] = {"slo": slo, "qps": qps}
    for name, flag in (("colocated", False), ("disaggregated", True)):
        start = time.perf_counter()
        doc = infercost.plan(**QUESTION, qps=qps, slo=slo, disaggregated=flag).to_dict()
        out[name] = {**best(doc, flag), "plan_s": time.perf_counter() - start}
    tokens_per_s = qps * 500
    for name in ("colocated", "disaggregated"):
        out[name]["output_tok_s_per_gpu"] = tokens_per_s / out[name]["gpus"]
    out["gain"] = out["colocated"]["gpus"] / out["disaggregated"]["gpus"]
    return out


def aiconfigurator(log: Path) -> dict[str, Any] | None:
    """AIConfigurator's best agg and disagg tok/s/GPU: the first row of each of its
    "Top Configurations" tables in the `cli default` output."""
    if not log.exists():
        return None
    found: dict[str, Any] = {}
    mode = None
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        head = re.match(r"(agg|disagg) Top Configurations", line.strip())
        if head:
            mode = head.group(1)
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if mode and len(cells) > 3 and cells[0] == "1":
            found[mode] = {"tok_s_per_gpu": float(cells[2]), "tok_s_per_user": float(cells[3]),
                           "requests_per_s": float(cells[4]), "row": cells}  # fmt: skip
            mode = None
    if {"agg", "disagg"} <= found.keys():
        found["gain"] = found["disagg"]["tok_s_per_gpu"] / found["agg"]["tok_s_per_gpu"]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qps", type=float, default=40.0)
    parser.add_argument("--aic-log", type=Path, default=Path("/tmp/aic-dis.log"))
    args = parser.parse_args()
    rows = [run(args.qps, "ttft_p50=300ms,tpot_p50=10ms"),
            run(args.qps, "ttft_p90=300ms,tpot_p90=10ms")]  # fmt: skip
    doc = {
        "command": f"python benchmarks/bench_disaggregation.py --qps {args.qps:g}",
        "date": time.strftime("%Y-%m-%d"),
        "question": QUESTION,
        "rows": rows,
        "aiconfigurator_readme": {"agg": 410.22, "disagg": 684.79, "gain": 684.79 / 410.22},
        "aiconfigurator_here": aiconfigurator(args.aic_log),
    }
    out = HERE / "results" / "disaggregation.json"
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print("| targets | colocated | disaggregated | tok/s/GPU colocated · apart | gain |")
    print("| --- | --- | --- | ---: | ---: |")
    for r in rows:
        c, d = r["colocated"], r["disaggregated"]
        print(f"| {r['slo']} | {c['layout']} ({c['gpus']} GPUs) | {d['layout']} ({d['gpus']} "
              f"GPUs) | {c['output_tok_s_per_gpu']:.0f} · {d['output_tok_s_per_gpu']:.0f} | "
              f"{r['gain']:.2f}× |")  # fmt: skip
    print(json.dumps(doc["aiconfigurator_here"], indent=1)[:1500])
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
