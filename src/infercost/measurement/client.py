"""One streaming request to an OpenAI-compatible server, timed chunk by chunk.

The client posts to `/v1/completions` (or `/v1/chat/completions`) with `stream: true` and
`stream_options.include_usage`, and reads the server-sent events line by line. Times are on
one monotonic clock shared by the whole run:

    send         when the request is written
    first token  the first event that carries content
    finish       the last event that carries content (E2E ends there, as `vllm bench serve`)
    chunks       every content event, for inter-token latencies

Output tokens come from the server's `usage` when it reports them, otherwise from counting
content events; so do the stop reason, the prompt tokens its cache served and, where the
server reports them (llama.cpp's `timings`), its own prompt and decode times. Anything that
goes wrong — an HTTP error, a timeout, a refused or dropped
connection, a malformed or oversized event, a stream that ends without `[DONE]` — is
recorded as the request's error, "cause: detail" (`cause_of` gives the cause); a request is
never lost and never raises.
"""

from __future__ import annotations

import asyncio
import errno
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

DONE = b"[DONE]"


@dataclass
class Request:
    """What to send: a prompt, its length as counted, and how many tokens to ask for."""

    prompt: str
    max_tokens: int
    chat: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    prompt_tokens: int | None = None  # as counted when it was built (None: not counted)
    length_source: str = "estimated"  # tokenizer | server | estimated | prompts file
    conversation: int | None = None  # one conversation's requests are its turns, in order
    turn: int = 0
    history: list[tuple[str, str]] = field(default_factory=list)  # earlier (prompt, answer)

    def body(self, model: str) -> dict[str, Any]:
        """The request body; a later turn resends the conversation so far, as chat clients
        do (messages, or the prompts and answers run together for a completion)."""
        payload: dict[str, Any] = {
            "model": model,
            "max_tokens": self.max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
            **self.extra,
        }
        if self.chat:
            messages = []
            for asked, answered in self.history:
                messages += [{"role": "user", "content": asked},
                             {"role": "assistant", "content": answered}]  # fmt: skip
            payload["messages"] = [*messages, {"role": "user", "content": self.prompt}]
        else:
            earlier = "".join(f"{asked}{answered}\n\n" for asked, answered in self.history)
            payload["prompt"] = earlier + self.prompt
        return payload


@dataclass
class Result:
    """One request as it happened (times in seconds on the run's clock)."""

    index: int
    send_s: float
    first_token_s: float = float("nan")
    finish_s: float = float("nan")
    input_tokens: int = 0  # as the server counted them (usage), else as built
    output_tokens: int = 0
    chunks_s: list[float] = field(default_factory=list)
    error: str = ""
    requested_input_tokens: int | None = None
    requested_output_tokens: int = 0
    length_source: str = ""
    finish_reason: str = ""  # the server's: length | stop | … ("" when it gave none)
    cached_tokens: int | None = None  # prompt tokens the server served from its cache
    server_prompt_s: float | None = None  # the server's own timings (llama.cpp reports them)
    server_decode_s: float | None = None
    retries: int = 0  # attempts that failed before the server could have begun the request
    conversation: int | None = None
    turn: int = 0
    text: str = ""  # the answer, kept for the conversation's next turn (not written)
    prompt_head: str = ""  # the prompt's first words: enough to tell two prompts apart

    def to_dict(self) -> dict[str, Any]:
        """The record as written to a level's .jsonl: times not reached are null."""
        return {
            "index": self.index,
            "send_s": self.send_s,
            "first_token_s": None if math.isnan(self.first_token_s) else self.first_token_s,
            "finish_s": None if math.isnan(self.finish_s) else self.finish_s,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "requested_input_tokens": self.requested_input_tokens,
            "requested_output_tokens": self.requested_output_tokens,
            "length_source": self.length_source,
            "finish_reason": self.finish_reason,
            "cached_tokens": self.cached_tokens,
            "server_prompt_s": self.server_prompt_s,
            "server_decode_s": self.server_decode_s,
            "retries": self.retries,
            "conversation": self.conversation,
            "turn": self.turn,
            "prompt_head": self.prompt_head,
            "itl_s": [b - a for a, b in zip(self.chunks_s, self.chunks_s[1:], strict=False)],
            "error": self.error,
        }


def _content(event: dict[str, Any], chat: bool) -> str:
    choices = event.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return ""
    choice = choices[0]
    if chat:
        delta = choice.get("delta")
        return str(delta.get("content") or "") if isinstance(delta, dict) else ""
    return str(choice.get("text") or "")


MAX_EVENT_BYTES = 8 << 20  # one server-sent event line; longer is a malformed stream
CONNECT_TIMEOUT_S = 10.0
RETRIES = 2  # fresh-connection tries of a request the server could not have begun


def cause_of(error: str) -> str:
    """The short cause of an error text ("http 500", "timeout", "connect refused")."""
    return error.split(":", 1)[0]


async def send(
    session: aiohttp.ClientSession,
    url: str,
    model: str,
    request: Request,
    index: int,
    origin: float,
    timeout_s: float = 60.0,
    headers: dict[str, str] | None = None,
) -> Result:
    """Send one request and time its stream (see the module docstring).

    `timeout_s` is the longest the server may stay silent: before the response starts, and
    between two chunks of the stream. A try that fails before any byte of a response came
    back (a pooled connection the server had closed, a reset while the body was written)
    could not have been begun by the server: it is tried again on a fresh connection, up
    to `RETRIES` times, and counted in the record.
    """
    result, retry = await _attempt(session, url, model, request, index, origin, timeout_s, headers)
    tries = 0
    while retry and tries < RETRIES:
        tries += 1
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=connector) as fresh:
            result, retry = await _attempt(
                fresh, url, model, request, index, origin, timeout_s, headers
            )
    result.retries = tries
    result.error = _redacted(result.error, headers)
    return result


PROMPT_HEAD_WORDS = 8  # the words of a prompt its record keeps
SECRET_MIN = 8  # header values this long are treated as secrets and never echoed


def _redacted(text: str, headers: dict[str, str] | None) -> str:
    """`text` with every header value that could be a credential replaced by ***."""
    for value in (headers or {}).values():
        for part in (value, value.removeprefix("Bearer ")):
            if len(part) >= SECRET_MIN:
                text = text.replace(part, "***")
    return text


async def _attempt(
    session: aiohttp.ClientSession,
    url: str,
    model: str,
    request: Request,
    index: int,
    origin: float,
    timeout_s: float,
    headers: dict[str, str] | None,
) -> tuple[Result, bool]:
    """One try: the result, and whether it failed before any response byte arrived."""
    path = "/v1/chat/completions" if request.chat else "/v1/completions"
    result = Result(
        index=index,
        send_s=time.perf_counter() - origin,
        requested_input_tokens=request.prompt_tokens if not request.history else None,
        requested_output_tokens=request.max_tokens,
        length_source=request.length_source,
        conversation=request.conversation,
        turn=request.turn,
        prompt_head=" ".join(request.prompt.split()[:PROMPT_HEAD_WORDS]),
    )
    timeout = aiohttp.ClientTimeout(
        total=None, connect=min(timeout_s, CONNECT_TIMEOUT_S), sock_read=timeout_s
    )
    responded = False
    try:
        async with session.post(
            url + path, json=request.body(model), timeout=timeout, headers=headers
        ) as resp:
            responded = True
            if resp.status != 200:
                text = (await resp.content.read(200)).decode("utf-8", "replace")
                cause = "auth: http" if resp.status in (401, 403) else "http"
                result.error = _redacted(
                    f"{cause} {resp.status}: {' '.join(text.split())}", headers
                )
                return result, False
            done = await _read_stream(resp, request, result, origin)
    except asyncio.CancelledError:
        result.error = "cancelled: the run was interrupted"
        raise
    except TimeoutError:
        result.error = f"timeout: no byte from the server for {timeout_s:g} s"
        return result, False
    except aiohttp.ClientConnectorError as exc:
        refused = getattr(exc.os_error, "errno", None) == errno.ECONNREFUSED
        result.error = f"{'connect refused' if refused else 'connect failed'}: {exc}"[:200]
        return result, False
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError) as exc:
        result.error = f"stream dropped: {type(exc).__name__}: {exc}"[:200]
        return result, not responded
    except (aiohttp.ClientError, ConnectionError, OSError) as exc:
        result.error = f"connection: {type(exc).__name__}: {exc}"[:200]
        return result, not responded
    except Exception as exc:  # a request never raises: anything else is its error
        result.error = f"client error: {type(exc).__name__}: {exc}"[:200]
        return result, False
    if result.error:
        return result, False
    if not done:
        result.error = "stream dropped: ended without [DONE]"
    elif not result.chunks_s:
        result.error = "no content: the stream carried no tokens"
    if not result.output_tokens:
        result.output_tokens = len(result.chunks_s)
    if not result.input_tokens and request.prompt_tokens is not None and not request.history:
        result.input_tokens = request.prompt_tokens
    return result, False


async def _read_stream(
    resp: aiohttp.ClientResponse, request: Request, result: Result, origin: float
) -> bool:
    """Read the event stream into `result`; True when it ended with [DONE]."""
    pending = b""
    async for chunk in resp.content.iter_any():
        pending += chunk
        *lines, pending = pending.split(b"\n")
        if len(pending) > MAX_EVENT_BYTES:
            result.error = f"malformed stream: an event line over {MAX_EVENT_BYTES:,} bytes"
            return False
        for raw in lines:
            state = _event(raw.strip(), request, result, origin)
            if state is not None:
                return state
    return _event(pending.strip(), request, result, origin) or False


def _event(line: bytes, request: Request, result: Result, origin: float) -> bool | None:
    """Take one line: True at [DONE], False on a malformed event, None to read on."""
    if not line.startswith(b"data:"):
        return None
    data = line[5:].strip()
    if data == DONE:
        return True
    try:
        event = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        result.error = f"malformed stream: {data[:80]!r}"
        return False
    if not isinstance(event, dict):
        result.error = f"malformed stream: not an event object: {data[:80]!r}"
        return False
    now = time.perf_counter() - origin
    content = _content(event, request.chat)
    if content:
        result.text += content
        if not result.chunks_s:
            result.first_token_s = now
        result.chunks_s.append(now)
        result.finish_s = now
    _take_usage(event, result)
    return None


def _take_usage(event: dict[str, Any], result: Result) -> None:
    """What the server says of the request: the stop reason, its token counts, how much of
    the prompt its cache served, and (llama.cpp) its own prompt and decode time."""
    choices = event.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        reason = choices[0].get("finish_reason")
        if isinstance(reason, str) and reason:
            result.finish_reason = reason[:40]
    usage = event.get("usage")
    if isinstance(usage, dict):
        result.input_tokens = _count(usage.get("prompt_tokens"))
        result.output_tokens = _count(usage.get("completion_tokens"))
        details = usage.get("prompt_tokens_details")
        if isinstance(details, dict) and "cached_tokens" in details:
            result.cached_tokens = _count(details.get("cached_tokens"))
    timings = event.get("timings")
    if isinstance(timings, dict):
        result.server_prompt_s = _seconds(timings.get("prompt_ms"))
        result.server_decode_s = _seconds(timings.get("predicted_ms"))
        if result.cached_tokens is None and "cache_n" in timings:
            result.cached_tokens = _count(timings.get("cache_n"))


def _seconds(ms: Any) -> float | None:
    ok = isinstance(ms, int | float) and not isinstance(ms, bool) and math.isfinite(ms) and ms >= 0
    return ms / 1000.0 if ok else None


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
