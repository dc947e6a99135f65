"""The saving a mixed fleet finds on a two-class workload, against the best single type.

    python benchmarks/bench_mix.py [--qps 30]

Llama-3.1-70B, every priced accelerator of the catalog, 30 requests/s (Poisson) of two
classes: chat (85 %: lognormal prompts of mean 400 tokens, answers of mean 250; p99 TTFT
≤ 1 s, p99 TPOT ≤ 60 ms) and RAG (15 %: 12,000-token prompts, 400-token answers; p99 TTFT
≤ 6 s, p99 TPOT ≤ 100 ms). `infercost plan --classes` solves the mix (HiGHS through
scipy.optimize.milp) and simulates it and the best single configuration, each pool grown
and then bisected to the fewest replicas that meet every class's targets. Writes
benchmarks/results/mix.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import infercost

HERE = Path(__file__).resolve().parent
CLASSES = """classes:
  - name: chat
    share: 0.85
    input_tokens: lognormal:400:0.8
    output_tokens: lognormal:250:0.6
    slo: ttft_p99=1s,tpot_p99=60ms
  - name: rag
    share: 0.15
    input_tokens: 12000
    output_tokens: 400
    slo: ttft_p99=6s,tpot_p99=100ms
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qps", type=float, default=30.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "classes.yaml"
        spec.write_text(CLASSES, encoding="utf-8")
        start = time.perf_counter()
        doc = infercost.plan(
            model=["llama-3.1-70b"], qps=args.qps, classes=str(spec),
            slo="ttft_p99=2s,tpot_p99=60ms", disaggregated=False,
        ).to_dict()  # fmt: skip
        seconds = time.perf_counter() - start
    mix, single = doc["mix"], doc["best_single"]
    out = {
        "command": f"python benchmarks/bench_mix.py --qps {args.qps:g}",
        "date": time.strftime("%Y-%m-%d"),
        "plan_s": seconds,
        "classes": doc["classes"],
        "mix": mix,
        "best_single": single,
    }
    (HERE / "results" / "mix.json").write_text(json.dumps(out, indent=2) + "\n")
    for name, fleet in (("mix", mix), ("best single", single)):
        pools = "; ".join(
            f"{p['replicas']} × {p['gpu']} tp{p['tp']} {p['weight_precision']} "
            f"({', '.join(f'{k} {v:.0%}' for k, v in p['shares'].items())})"
            for p in fleet["pools"]
        )
        print(f"{name}: ${fleet['usd_per_month']:,.0f} a month, {fleet['gpus']} GPUs, "
              f"met {fleet['meets_targets']}: {pools}")  # fmt: skip
    print(f"saving {mix['saving_vs_best_single']:.1%}; plan {seconds:.1f} s")


if __name__ == "__main__":
    main()
