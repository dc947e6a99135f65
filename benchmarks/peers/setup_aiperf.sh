#!/usr/bin/env bash
# Create the AIPerf virtualenv (NVIDIA's LLM benchmarking tool, PyPI `aiperf`), outside the
# project's own dependencies, plus a tiny offline tokenizer for it (no model hub here).
#   /tmp/peers/aiperf              aiperf (pinned below; falls back to the latest release)
#   /tmp/peers/aiperf.freeze.txt   pip freeze of that venv
#   /tmp/peers/aiperf-tokenizer    HF-compatible WordLevel tokenizer, trained on a few lines,
#                                  for the stub server only (bench_measure_peer.py builds the
#                                  real model's tokenizer from its GGUF)
# Idempotent: an existing venv that already has aiperf installed is left alone, and an
# existing tokenizer directory is kept. Override the location with PEERS_DIR=/some/dir.
set -euo pipefail

PEERS_DIR="${PEERS_DIR:-/tmp/peers}"
PYTHON="${PYTHON:-python3.11}"
AIPERF_VERSION="${AIPERF_VERSION:-0.13.0}"
venv="$PEERS_DIR/aiperf"
tok="$PEERS_DIR/aiperf-tokenizer"

mkdir -p "$PEERS_DIR"
installed="$("$venv/bin/python" -m pip show aiperf 2>/dev/null | sed -n 's/^Version: //p' || true)"
if [ -n "$installed" ]; then
    echo "aiperf==$installed already in $venv"
else
    "$PYTHON" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip
    if ! "$venv/bin/python" -m pip install -q "aiperf==$AIPERF_VERSION"; then
        echo "aiperf==$AIPERF_VERSION unavailable; installing the latest release" >&2
        "$venv/bin/python" -m pip install -q aiperf
    fi
    installed="$("$venv/bin/python" -m pip show aiperf | sed -n 's/^Version: //p')"
    echo "installed aiperf==$installed in $venv"
fi
"$venv/bin/python" -m pip freeze > "$PEERS_DIR/aiperf.freeze.txt"

if [ ! -f "$tok/tokenizer.json" ]; then
    HF_HUB_OFFLINE=1 "$venv/bin/python" - "$tok" <<'PY'
import sys

from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

text = [
    "hello world the quick brown fox jumps over the lazy dog",
    "a load generator sends requests to an openai compatible server",
    "tokens are streamed back one by one until the response is done",
    "x y z lorem ipsum dolor sit amet consectetur adipiscing elit",
]
tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
tok.pre_tokenizer = pre_tokenizers.Whitespace()
tok.train_from_iterator(text, trainers.WordLevelTrainer(special_tokens=["[UNK]", "[PAD]"]))
fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]")
fast.save_pretrained(sys.argv[1])
print(f"tokenizer ({fast.vocab_size} words) written to {sys.argv[1]}")
PY
else
    echo "tokenizer already in $tok"
fi
echo "aiperf $installed: venv $venv, tokenizer $tok, freeze $PEERS_DIR/aiperf.freeze.txt"
