#!/usr/bin/env bash
# Create a virtualenv for vllm-sr-sim, the fleet simulator of vLLM Semantic Router
# (PyPI `vllm-sr-sim`, source: github.com/vllm-project/semantic-router, src/fleet-sim).
# It is a speed peer for `benchmarks/bench_simulate.py` and not a project dependency.
#   /tmp/peers/vllm-sr-sim              the venv (CLI: bin/vllm-sr-sim)
#   /tmp/peers/vllm-sr-sim.freeze.txt   its pip freeze
# Idempotent: a venv that already has the pinned version is left alone.
# Override the location with PEERS_DIR=/some/dir and the interpreter with PYTHON=...
#
# What the package ships (read from its source, version below):
#   - `vllm-sr-sim simulate --cdf FILE --lam RATE --n-s N --n-l N ...`: Poisson arrivals at
#     RATE, total lengths (prompt + output) sampled from an empirical CDF and split 80/20,
#     two pools of "GPU" instances (short ≤ --b-short tokens, long) behind a length router.
#   - fleet_sim/data/azure_cdf.json: an 18-point CDF of total tokens from the Azure LLM
#     Inference Trace 2023; no request-level Azure trace is shipped (TraceWorkload can
#     replay an azure_csv file you bring).
#   - GPU profiles a100 / h100 / a10g: W + H·n per iteration, "Llama-3-70B calibration,
#     8-GPU TP", so one simulated "GPU" instance is one tensor-parallel replica.
set -euo pipefail

PEERS_DIR="${PEERS_DIR:-/tmp/peers}"
PYTHON="${PYTHON:-python3.11}"
VERSION="0.1.0.dev20260713123629"
VENV="$PEERS_DIR/vllm-sr-sim"

mkdir -p "$PEERS_DIR"
if [ -x "$VENV/bin/python" ] \
    && [ "$("$VENV/bin/python" -m pip show vllm-sr-sim 2>/dev/null \
            | sed -n 's/^Version: //p')" = "$VERSION" ]; then
    echo "vllm-sr-sim==$VERSION already in $VENV"
else
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q "vllm-sr-sim==$VERSION"
    echo "installed vllm-sr-sim==$VERSION in $VENV"
fi
"$VENV/bin/python" -m pip freeze > "$PEERS_DIR/vllm-sr-sim.freeze.txt"
echo "pip freeze written to $PEERS_DIR/vllm-sr-sim.freeze.txt"
"$VENV/bin/vllm-sr-sim" --version
