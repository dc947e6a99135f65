"""A day of traffic: fixed for the peak against autoscaled, and DeepSeek's peak / average.

    python benchmarks/bench_day.py

1. DeepSeek served 278 nodes at its peak and 226.75 on average over 27–28 February 2025, a
   ratio of 0.82. A fleet that follows its traffic hour by hour (autoscaled, no headroom)
   averages mean(profile) / max(profile) of its peak: this script gives that ratio for the
   diurnal shape infercost ships and for sinusoids, and the sinusoid amplitude that gives
   0.82 — computed here, not fitted into any default.
2. `infercost plan --profile diurnal` for Llama-3.1-70B on H100 (20 requests/s on average,
   1,000 → 200 tokens, p99 TTFT ≤ 1 s, p99 TPOT ≤ 40 ms): the fleet fixed for the peak hour
   against autoscaled (5-minute cold start, 10 % headroom), every hour simulated.
Writes benchmarks/results/day.json.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from scipy.optimize import brentq

import infercost
from infercost.planning.day import Autoscale, Profile, autoscaled_replicas

HERE = Path(__file__).resolve().parent
PEAK_NODES, MEAN_NODES = 278, 226.75


def ratio(profile: Profile) -> float:
    """An autoscaled fleet's mean ÷ peak nodes, sized to DeepSeek's 278 at the peak hour."""
    rates = list(profile.hourly)
    nodes = autoscaled_replicas(rates, max(rates) / PEAK_NODES, Autoscale(headroom=0.0),
                                PEAK_NODES)  # fmt: skip
    return float(np.mean(nodes) / max(nodes))


def main() -> None:
    published = MEAN_NODES / PEAK_NODES
    amplitude = brentq(lambda a: ratio(Profile.sinusoid(a)) - published, 0.0, 0.9)
    ratios = {
        "diurnal (shipped)": ratio(Profile.diurnal()),
        **{f"sinusoid {a:g}": ratio(Profile.sinusoid(a)) for a in (0.1, 0.22, 0.3, 0.5)},
    }
    start = time.perf_counter()
    doc = infercost.plan(model=["llama-3.1-70b"], gpu=["h100"], qps=20.0, input_tokens="1000",
                         output_tokens="200", slo="ttft_p99=1s,tpot_p99=40ms",
                         profile="diurnal", disaggregated=False).to_dict()  # fmt: skip
    seconds = time.perf_counter() - start
    out = {
        "command": "python benchmarks/bench_day.py",
        "date": time.strftime("%Y-%m-%d"),
        "deepseek": {
            "peak_nodes": PEAK_NODES,
            "mean_nodes": MEAN_NODES,
            "ratio": published,
            "sinusoid_amplitude_for_it": amplitude,
            "ratios": ratios,
        },
        "plan_s": seconds,
        "fixed": {
            k: doc["fixed"][k]
            for k in ("usd_per_day", "replicas_peak", "replicas_mean", "intervals_missed")
        },
        "autoscaled": {
            k: doc["autoscaled"][k]
            for k in (
                "usd_per_day",
                "replicas_peak",
                "replicas_mean",
                "intervals_missed",
                "saving_vs_fixed",
            )
        },
        "autoscaled_hours": [h["replicas"] for h in doc["autoscaled"]["hours"]],
        "best": doc["best"]["gpu"] + f" tp{doc['best']['tp']}",
    }
    (HERE / "results" / "day.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"DeepSeek {PEAK_NODES} / {MEAN_NODES}: ratio {published:.3f}; a sinusoid of "
          f"amplitude {amplitude:.3f} gives it")  # fmt: skip
    for name, r in ratios.items():
        print(f"  {name}: {r:.3f}")
    print(json.dumps({k: out[k] for k in ("fixed", "autoscaled", "autoscaled_hours", "best",
                                           "plan_s")}, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
