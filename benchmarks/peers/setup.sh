#!/usr/bin/env bash
# Create one virtualenv per peer tool, outside the project's own dependencies.
#   /tmp/peers/llm-analysis    llm-analysis   (roofline calculator, cli99/llm-analysis)
#   /tmp/peers/aiconfigurator  aiconfigurator (NVIDIA, measured-kernel database)
# Idempotent: an existing venv that already has the pinned version is left alone.
# Override the location with PEERS_DIR=/some/dir.
set -euo pipefail

PEERS_DIR="${PEERS_DIR:-/tmp/peers}"
PYTHON="${PYTHON:-python3.11}"
LLM_ANALYSIS_VERSION="0.2.2"
AICONFIGURATOR_VERSION="0.12.0"

make_venv() {  # name package version
    local venv="$PEERS_DIR/$1" package="$2" version="$3"
    if [ -x "$venv/bin/python" ] \
        && [ "$("$venv/bin/python" -m pip show "$package" 2>/dev/null \
                | sed -n 's/^Version: //p')" = "$version" ]; then
        echo "$package==$version already in $venv"
        return
    fi
    "$PYTHON" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip
    "$venv/bin/python" -m pip install -q "$package==$version"
    echo "installed $package==$version in $venv"
}

mkdir -p "$PEERS_DIR"
make_venv llm-analysis llm-analysis "$LLM_ANALYSIS_VERSION"
make_venv aiconfigurator aiconfigurator "$AICONFIGURATOR_VERSION"
"$PEERS_DIR/llm-analysis/bin/python" -m pip freeze > "$PEERS_DIR/llm-analysis.freeze.txt"
"$PEERS_DIR/aiconfigurator/bin/python" -m pip freeze > "$PEERS_DIR/aiconfigurator.freeze.txt"
echo "pip freeze of each venv written to $PEERS_DIR/<tool>.freeze.txt"
