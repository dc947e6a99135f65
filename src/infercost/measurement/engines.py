"""Which engine a server runs, and the request fields that make it generate exactly the
number of tokens asked for.

An OpenAI-compatible server stops at `max_tokens` or at the model's end-of-sequence token,
whichever comes first; a load test that lets the model choose measures shorter answers than
it claims. Each engine family has its own switch (`FIXED_OUTPUT`, one table), sent unless the
user opts out (`--no-ignore-eos`); `OUTPUT` stands for the request's output length:

    vllm               ignore_eos, min_tokens       (vLLM's SamplingParams)
    sglang             ignore_eos                   (SGLang's sampling parameters)
    tensorrt-llm(-pt)  ignore_eos                   (trtllm-serve's OpenAI request)
    llama.cpp          ignore_eos, n_predict        (llama-server's completion options)
    tgi                nothing: TGI does not expose ignore_eos over HTTP, so shorter
                       answers can happen and are counted in the summary

The family is the one the user names (`--engine`), else the one the server's `/metrics`
names reveal (`vllm:`, `sglang:`, `llamacpp:`, `tgi_`), else an endpoint only that engine
serves (`/props`, `/version`, `/get_model_info`, `/info`). An unknown server gets no extra
fields (a hosted API may refuse them). The version is the one the server reports for itself
(`VERSIONS`: vLLM's `/version`, SGLang's `/get_server_info`, TGI's `/info`, llama-server's
`/props` build), else not stated.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

OUTPUT = "$output_tokens"
FIXED_OUTPUT: dict[str, dict[str, Any]] = {
    "vllm": {"ignore_eos": True, "min_tokens": OUTPUT},
    "sglang": {"ignore_eos": True},
    "tensorrt-llm": {"ignore_eos": True},
    "tensorrt-llm-pytorch": {"ignore_eos": True},
    "llama.cpp": {"ignore_eos": True, "n_predict": OUTPUT},
    "tgi": {},
}
METRIC_PREFIXES = (
    ("llamacpp:", "llama.cpp"),
    ("vllm:", "vllm"),
    ("sglang:", "sglang"),
    ("tgi_", "tgi"),
    ("trtllm", "tensorrt-llm"),
)
ENDPOINTS = (  # (path, a key its JSON answer has, engine)
    ("/props", "default_generation_settings", "llama.cpp"),
    ("/get_model_info", "model_path", "sglang"),
    ("/info", "model_id", "tgi"),
    ("/version", "version", "vllm"),
)
VERSIONS = {  # engine → (path, the key of its JSON answer that holds the version)
    "vllm": ("/version", "version"),
    "sglang": ("/get_server_info", "version"),
    "tgi": ("/info", "version"),
    "llama.cpp": ("/props", "build_info"),
}
TIMEOUT_S = 3.0


def fixed_output_fields(engine: str | None, output_tokens: int) -> dict[str, Any]:
    """The body fields that make `engine` generate exactly `output_tokens` tokens."""
    fields = FIXED_OUTPUT.get(engine or "", {})
    return {k: output_tokens if v == OUTPUT else v for k, v in fields.items()}


def detect(url: str, headers: dict[str, str] | None = None) -> str | None:
    """The engine family a server runs (see the module docstring), or None."""
    text = _get(url + "/metrics", headers or {})
    if text:
        for prefix, family in METRIC_PREFIXES:
            if f"\n{prefix}" in f"\n{text}":
                return family
    for path, key, family in ENDPOINTS:
        body = _get(url + path, headers or {})
        try:
            doc = json.loads(body) if body else None
        except ValueError:
            continue
        if isinstance(doc, dict) and key in doc:
            return family
    return None


def detect_version(url: str, engine: str | None, headers: dict[str, str] | None = None) -> str:
    """The version the server reports for itself (`VERSIONS`), or "" when it reports none."""
    path, key = VERSIONS.get(engine or "", ("", ""))
    body = _get(url + path, headers or {}) if path else None
    try:
        doc = json.loads(body) if body else None
    except ValueError:
        return ""
    found = doc.get(key) if isinstance(doc, dict) else None
    return str(found) if isinstance(found, str | int | float) else ""


def detect_slots(url: str, engine: str | None, headers: dict[str, str] | None = None) -> int | None:
    """How many sequences the server runs at once, where it says: llama-server's `/props`
    `total_slots` (its --parallel). None elsewhere: vLLM, SGLang and TGI do not report it."""
    if engine != "llama.cpp":
        return None
    body = _get(url + "/props", headers or {})
    try:
        doc = json.loads(body) if body else None
    except ValueError:
        return None
    slots = doc.get("total_slots") if isinstance(doc, dict) else None
    return slots if isinstance(slots, int) and not isinstance(slots, bool) and slots > 0 else None


def _get(url: str, headers: dict[str, str]) -> str | None:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            if response.status != 200:
                return None
            data: bytes = response.read(1 << 22)
            return data.decode("utf-8", "replace")
    except (OSError, urllib.error.URLError, ValueError):
        return None
