"""One streaming request to an OpenAI-compatible server, timed chunk by chunk.

The client posts to `/v1/completions` (or `/v1/chat/completions`) with `stream: true` and
`stream_options.include_usage`, and reads the server-sent events line by line. Times are on
one monotonic clock shared by the whole run:

    send         when the request is written
    first token  the first event that carries content
    finish       the last event that carries content (E2E ends there, as `vllm bench serve`)
    chunks       every content event, for inter-token latencies

Output tokens come from the server's `usage` when it reports them, otherwise from counting
content events. Anything that goes wrong — an HTTP error, a timeout, a dropped connection, a
malformed event, a stream that ends without `[DONE]` — is recorded as the request's error
with its cause; a request is never lost and never raises.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

DONE = b"[DONE]"


@dataclass
class Request:
    """What to send: a prompt and how many tokens to ask for."""

    prompt: str
    max_tokens: int
    chat: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def body(self, model: str) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": model,
            "max_tokens": self.max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
            **self.extra,
        }
        if self.chat:
            payload["messages"] = [{"role": "user", "content": self.prompt}]
        else:
            payload["prompt"] = self.prompt
        return payload


@dataclass
class Result:
    """One request as it happened (times in seconds on the run's clock)."""

    index: int
    send_s: float
    first_token_s: float = float("nan")
    finish_s: float = float("nan")
    input_tokens: int = 0
    output_tokens: int = 0
    chunks_s: list[float] = field(default_factory=list)
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "send_s": self.send_s,
            "first_token_s": self.first_token_s,
            "finish_s": self.finish_s,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "itl_s": [b - a for a, b in zip(self.chunks_s, self.chunks_s[1:], strict=False)],
            "error": self.error,
        }


def _content(event: dict[str, Any], chat: bool) -> str:
    choices = event.get("choices") or []
    if not choices:
        return ""
    choice = choices[0]
    if chat:
        return str((choice.get("delta") or {}).get("content") or "")
    return str(choice.get("text") or "")


async def send(
    session: aiohttp.ClientSession,
    url: str,
    model: str,
    request: Request,
    index: int,
    origin: float,
    timeout_s: float = 600.0,
) -> Result:
    """Send one request and time its stream (see the module docstring)."""
    result = await _attempt(session, url, model, request, index, origin, timeout_s)
    # A pooled connection the server had already closed fails before anything is sent
    # (llama.cpp closes after each stream): one retry, on a fresh connection.
    if result.error.startswith("connection") and "write request body" in result.error:
        result = await _attempt(session, url, model, request, index, origin, timeout_s)
    return result


async def _attempt(
    session: aiohttp.ClientSession,
    url: str,
    model: str,
    request: Request,
    index: int,
    origin: float,
    timeout_s: float,
) -> Result:
    path = "/v1/chat/completions" if request.chat else "/v1/completions"
    result = Result(index=index, send_s=time.perf_counter() - origin)
    seen_done = False
    try:
        timeout = aiohttp.ClientTimeout(total=timeout_s, sock_read=timeout_s)
        async with session.post(url + path, json=request.body(model), timeout=timeout) as resp:
            if resp.status != 200:
                text = (await resp.text())[:200]
                result.error = f"http {resp.status}: {text}"
                return result
            async for raw in resp.content:
                line = raw.strip()
                if not line.startswith(b"data:"):
                    continue
                data = line[5:].strip()
                if data == DONE:
                    seen_done = True
                    break
                try:
                    event = json.loads(data)
                except json.JSONDecodeError:
                    result.error = f"malformed SSE event: {data[:80]!r}"
                    return result
                now = time.perf_counter() - origin
                if _content(event, request.chat):
                    if not result.chunks_s:
                        result.first_token_s = now
                    result.chunks_s.append(now)
                    result.finish_s = now
                usage = event.get("usage")
                if isinstance(usage, dict):
                    result.input_tokens = int(usage.get("prompt_tokens") or 0)
                    result.output_tokens = int(usage.get("completion_tokens") or 0)
    except TimeoutError:
        result.error = f"timeout after {timeout_s:g} s"
        return result
    except (aiohttp.ClientError, ConnectionError) as exc:
        result.error = f"connection: {type(exc).__name__}: {exc}"[:200]
        return result
    except asyncio.CancelledError:
        result.error = "cancelled: the run was interrupted"
        raise
    if not seen_done:
        result.error = "stream ended without [DONE]"
    elif not result.chunks_s:
        result.error = "no content in the stream"
    if not result.output_tokens:
        result.output_tokens = len(result.chunks_s)
    return result
