"""The closed form and the simulator tell one latency story.

Without queueing the closed-form steady state is the simulator's limit: N requests always in
flight (arrivals evenly spaced at N / E2E, fixed lengths) must give the simulator the same
mean TTFT, TPOT and E2E the closed form predicts, for prompts far longer than answers (RAG),
answers far longer than prompts, and both, at low and high concurrency, for engines that mix
prompt chunks into decode steps and engines that run prefill apart. Nothing is fitted here:
both sides read the same step-time model; the simulator steps through every engine step.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from infercost.evaluate.config import Config, resolve
from infercost.evaluate.pipeline import Serving, Workload, evaluate
from infercost.sim.engine import Fleet, simulate

SHAPES = [(8000, 50), (1000, 200), (200, 1000), (2000, 2000)]
CONCURRENCY = [2, 8, 32]
TOLERANCE = 0.06


def _simulated(mixed: bool, prompt: int, output: int, concurrency: int) -> tuple[object, dict]:
    r = resolve(Config("llama-3.1-8b", "h100", engine="vllm", mixed_prefill=mixed), "builtin")
    closed = evaluate(r, Workload(prompt, output), Serving(concurrency=concurrency))
    assert closed.feasibility.fits
    perf = closed.performance
    rate = concurrency / perf.e2e_s
    n = 2400
    times = np.arange(1, n + 1) / rate
    run = simulate(r.deployment, times, np.full(n, prompt), np.full(n, output), Fleet.of(r, 1))
    steady = slice(n // 3, 2 * n // 3)  # past the start-up, before the drain
    rec = run.records
    return perf, {
        "ttft_s": float(np.mean(rec.ttft_s[steady])),
        "tpot_s": float(np.nanmean(rec.tpot_s[steady])),
        "e2e_s": float(np.mean(rec.e2e_s[steady])),
        "concurrency": float(np.mean(rec.e2e_s[steady])) * rate,
    }


@pytest.mark.parametrize("mixed", [True, False], ids=["chunked-prefill", "prefill-apart"])
@pytest.mark.parametrize(("prompt", "output"), SHAPES)
@pytest.mark.parametrize("concurrency", CONCURRENCY)
def test_closed_form_is_the_simulators_limit(
    mixed: bool, prompt: int, output: int, concurrency: int
) -> None:
    perf, sim = _simulated(mixed, prompt, output, concurrency)
    assert sim["concurrency"] == pytest.approx(concurrency, rel=TOLERANCE)
    assert perf.ttft_s == pytest.approx(sim["ttft_s"], rel=TOLERANCE)  # type: ignore[attr-defined]
    assert perf.tpot_s == pytest.approx(sim["tpot_s"], rel=TOLERANCE)  # type: ignore[attr-defined]
    assert perf.e2e_s == pytest.approx(sim["e2e_s"], rel=TOLERANCE)  # type: ignore[attr-defined]


def test_estimate_and_simulate_agree_on_one_long_prompt_at_a_time() -> None:
    """The issue's case: Llama-3.1-8B on one H100, 32,000 prompt tokens, 100 output tokens,
    one request at a time. A user's own prefill is in its TTFT only; TPOT is the decode."""
    from typer.testing import CliRunner

    from infercost.cli.main import app

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(app, list(args))

    shape = ("--input-tokens", "32000", "--output-tokens", "100")
    estimated = invoke("estimate", "-m", "llama-3.1-8b", "-g", "h100", *shape,
                       "--concurrency", "1", "--json")  # fmt: skip
    assert estimated.exit_code == 0, estimated.output
    (e,) = json.loads(estimated.stdout)["estimates"]
    simulated = invoke("simulate", "-m", "llama-3.1-8b", "-g", "h100", *shape, "--rate", "0.1",
                       "--arrival", "constant", "--requests", "50", "--json")  # fmt: skip
    assert simulated.exit_code == 0, simulated.output
    s = json.loads(simulated.stdout)
    assert e["replica"]["tpot_s"] == pytest.approx(s["tpot_s"]["p50"], rel=0.01)
    assert e["replica"]["ttft_s"] == pytest.approx(s["ttft_s"]["p50"], rel=0.01)
    assert e["replica"]["e2e_s"] == pytest.approx(s["e2e_s"]["p50"], rel=0.01)
    assert e["replica"]["tpot_s"] == pytest.approx(e["replica"]["decode_step"]["total_s"])
