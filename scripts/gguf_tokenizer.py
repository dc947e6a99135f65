"""Build a Hugging Face ``tokenizer.json`` from the vocabulary inside a GGUF model file.

There is no model hub on our machines, yet peers such as AIPerf want a Hugging Face tokenizer,
and ``infercost measure --tokenizer`` can use one instead of asking the server. A GGUF file
carries the whole vocabulary: for byte-level BPE models (``tokenizer.ggml.model = gpt2``) the
tokens and merges are all a ``tokenizers`` BPE model needs; the pre-tokenizer follows the
``tokenizer.ggml.pre`` name, the way llama.cpp itself chooses its split pattern.

    python scripts/gguf_tokenizer.py MODEL.gguf OUT_DIR [--check-server URL]

writes ``OUT_DIR/tokenizer.json`` (plus ``tokenizer_config.json`` and
``special_tokens_map.json``, so that ``AutoTokenizer.from_pretrained(OUT_DIR)`` works), and
with ``--check-server`` compares its counts with a llama-server's own ``/tokenize`` on texts
from the shipped corpus and a few awkward ones, exiting non-zero on any difference.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from pathlib import Path

import gguf
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers

# llama.cpp's split patterns by ``tokenizer.ggml.pre`` (the families we can reproduce). The
# "starcoder" family (smollm among them) splits every digit apart before the GPT-2 pattern.
_GPT2 = "gpt2"
_DIGITS_THEN_GPT2 = {"smollm", "starcoder", "refact", "codeshell", "command-r", "exaone"}
_LLAMA3 = {"llama3", "llama-bpe", "smaug-bpe"}
_LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def _field(reader: gguf.GGUFReader, key: str) -> object | None:
    field = reader.fields.get(key)
    if field is None:
        return None
    kind = field.types[0]
    if kind == gguf.GGUFValueType.ARRAY:
        return [_scalar(field, i) for i in field.data]
    return _scalar(field, field.data[0])


def _scalar(field: gguf.ReaderField, index: int) -> object:
    part = field.parts[index]
    kind = field.types[-1]
    if kind == gguf.GGUFValueType.STRING:
        return bytes(part).decode("utf-8")
    return part.tolist()[0]


def build(path: Path) -> tuple[Tokenizer, dict[str, object]]:
    reader = gguf.GGUFReader(str(path))
    kind = _field(reader, "tokenizer.ggml.model")
    if kind != "gpt2":
        raise SystemExit(
            f"{path}: tokenizer.ggml.model is {kind!r}; only byte-level BPE (gpt2) is supported"
        )
    pre = str(_field(reader, "tokenizer.ggml.pre") or "default")
    tokens = [str(t) for t in _field(reader, "tokenizer.ggml.tokens") or []]
    merges = [tuple(str(m).split(" ", 1)) for m in _field(reader, "tokenizer.ggml.merges") or []]
    vocab = {token: i for i, token in enumerate(tokens)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, fuse_unk=False))
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    if pre in _DIGITS_THEN_GPT2:
        tok.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.Digits(individual_digits=True), byte_level]
        )
    elif pre in _LLAMA3:
        tok.pre_tokenizer = pre_tokenizers.Sequence(
            [
                pre_tokenizers.Split(Regex(_LLAMA3_PATTERN), behavior="isolated"),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
            ]
        )
    elif pre in {_GPT2, "default"}:
        tok.pre_tokenizer = byte_level
    else:
        raise SystemExit(f"{path}: tokenizer.ggml.pre {pre!r} has no known split pattern here")
    tok.decoder = decoders.ByteLevel()
    types = _field(reader, "tokenizer.ggml.token_type") or []
    special = [tokens[i] for i, t in enumerate(types) if t == gguf.TokenType.CONTROL]
    tok.add_special_tokens(special)

    def token(key: str) -> str | None:
        index = _field(reader, key)
        return tokens[int(index)] if isinstance(index, int) and index < len(tokens) else None

    meta: dict[str, object] = {
        "pre": pre,
        "vocab": len(tokens),
        "merges": len(merges),
        "add_bos": bool(_field(reader, "tokenizer.ggml.add_bos_token")),
        "bos_token": token("tokenizer.ggml.bos_token_id"),
        "eos_token": token("tokenizer.ggml.eos_token_id"),
        "chat_template": _field(reader, "tokenizer.chat_template"),
    }
    return tok, meta


def save(tok: Tokenizer, meta: dict[str, object], out: Path) -> None:
    """``tokenizer.json`` plus the two small files ``AutoTokenizer.from_pretrained`` reads."""
    out.mkdir(parents=True, exist_ok=True)
    tok.save(str(out / "tokenizer.json"))
    special = {"bos_token": meta["bos_token"], "eos_token": meta["eos_token"],
               "unk_token": meta["eos_token"], "pad_token": meta["eos_token"]}  # fmt: skip
    config: dict[str, object] = {"tokenizer_class": "PreTrainedTokenizerFast", **special}
    config["add_bos_token"] = meta["add_bos"]
    if isinstance(meta["chat_template"], str):
        config["chat_template"] = meta["chat_template"]
    (out / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n")
    (out / "special_tokens_map.json").write_text(json.dumps(special, indent=2) + "\n")


def _server_count(url: str, text: str) -> int:
    body = json.dumps({"content": text, "add_special": False}).encode()
    request = urllib.request.Request(
        url.rstrip("/") + "/tokenize", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return len(json.load(response)["tokens"])


def check(tok: Tokenizer, url: str, texts: list[str]) -> int:
    wrong = 0
    for text in texts:
        ours = len(tok.encode(text, add_special_tokens=False).ids)
        theirs = _server_count(url, text)
        if ours != theirs:
            wrong += 1
            if wrong <= 5:
                print(f"  differs: ours {ours}, server {theirs}: {text[:60]!r}", file=sys.stderr)
    return wrong


def _sample_texts() -> list[str]:
    from infercost.measurement.prompts import corpus_words

    words = list(corpus_words())
    texts = [" ".join(words[i : i + 1 + (i % 97)]) for i in range(0, min(len(words), 6000), 23)]
    texts += [
        "2026-12-07 costs $694,444.17 a day on 28,936 GPUs.",
        "  two  spaces\n\nand lines\t",
        "naïve café — Tōkyō 東京 😀 don't we'll I'M",
        "def f(x):\n    return x**2  # comment",
    ]
    return texts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gguf", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--check-server", metavar="URL")
    args = parser.parse_args()
    tok, meta = build(args.gguf)
    save(tok, meta, args.out)
    print(f"{args.out}: {meta['vocab']} tokens, {meta['merges']} merges, pre {meta['pre']!r}")
    if args.check_server:
        texts = _sample_texts()
        wrong = check(tok, args.check_server, texts)
        same = len(texts) - wrong
        print(f"checked against {args.check_server}/tokenize: {same}/{len(texts)} equal")
        return 1 if wrong else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
