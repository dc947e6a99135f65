"""How long a text is in the server's own tokens.

Three sources, tried in this order, and named in every record:

    tokenizer   a `tokenizer.json` the user passes (`--tokenizer`), through the `tokenizers`
                package: exact when it is the model's own
    server      the server's tokenize endpoint: llama.cpp's `POST /tokenize {"content": …,
                "add_special": true}` and vLLM's or SGLang's `POST /tokenize {"model": …,
                "prompt": …}`, detected with one probe (special tokens such as BOS are
                counted, as the server's usage counts them)
    estimated   neither: about four characters a token, the usual rule for English text; the
                output says the lengths are estimates

A server that answers the probe but fails later (it died, it is overloaded) makes the
counting fail with a clear error rather than silently falling back to estimates.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from infercost.errors import InputError

CHARS_PER_TOKEN = 4.0  # English text in common BPE vocabularies
PROBE = "The lighthouse keeper counted the seconds between flashes."
PROBE_TIMEOUT_S = 3.0
COUNT_TIMEOUT_S = 30.0
SOURCES = ("tokenizer", "server", "estimated")


class Counter(Protocol):
    source: str

    def count(self, text: str) -> int: ...


@dataclass
class Estimate:
    """No tokenizer: the length from the characters."""

    source: str = "estimated"

    def count(self, text: str) -> int:
        return max(math.ceil(len(text) / CHARS_PER_TOKEN), 1 if text else 0)


class TokenizerFile:
    """A Hugging Face `tokenizer.json`, read with the `tokenizers` package."""

    source = "tokenizer"

    def __init__(self, path: Path) -> None:
        from tokenizers import Tokenizer

        if not path.is_file():
            raise InputError("tokenizer", f"no such file: {path}")
        try:
            self._tokenizer = Tokenizer.from_file(str(path))
        except Exception as exc:  # the library raises its own exception types
            raise InputError("tokenizer", f"{path} is not a tokenizer.json: {exc}") from None

    def count(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=True).ids)


class ServerTokenizer:
    """The server's tokenize endpoint, in the body shape its probe answered to."""

    source = "server"

    def __init__(self, url: str, model: str, shape: str, headers: dict[str, str]) -> None:
        self.url, self.model, self.shape, self.headers = url, model, shape, headers

    def _body(self, text: str) -> dict[str, Any]:
        if self.shape == "llama.cpp":
            return {"content": text, "add_special": True}
        return {"model": self.model, "prompt": text}

    def count(self, text: str) -> int:
        found = _tokenize(self.url, self._body(text), self.headers, COUNT_TIMEOUT_S)
        if found is None:
            raise InputError(
                "url", "the server's /tokenize stopped answering while prompts were built"
            )
        return found

    @classmethod
    def probe(cls, url: str, model: str, headers: dict[str, str]) -> ServerTokenizer | None:
        """The endpoint in the first shape that answers with tokens, or None."""
        for shape in ("llama.cpp", "openai"):
            found = cls(url, model, shape, headers)
            if _tokenize(url, found._body(PROBE), headers, PROBE_TIMEOUT_S):
                return found
        return None


def _tokenize(
    url: str, body: dict[str, Any], headers: dict[str, str], timeout: float
) -> int | None:
    """The token count a tokenize endpoint gives for `body`, or None when it gives none."""
    data = json.dumps(body).encode()
    request = urllib.request.Request(
        url + "/tokenize",
        data=data,
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            doc = json.loads(response.read(1 << 24))
    except (OSError, urllib.error.URLError, ValueError):
        return None
    if not isinstance(doc, dict):
        return None
    tokens, count = doc.get("tokens"), doc.get("count")
    if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
        return count
    return len(tokens) if isinstance(tokens, list) else None


def counter_for(
    url: str, model: str, tokenizer: Path | None, headers: dict[str, str] | None = None
) -> Counter:
    """The best way to count this server's tokens (see the module docstring)."""
    if tokenizer is not None:
        return TokenizerFile(tokenizer)
    return ServerTokenizer.probe(url, model, headers or {}) or Estimate()
