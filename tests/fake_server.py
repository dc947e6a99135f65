"""An in-process OpenAI-compatible server that streams on cue, for measure tests.

The prompt picks the behaviour: "ok" streams `max_tokens` tokens (first after `ttft_s`, then
one every `itl_s`) with usage and [DONE]; "http500" answers 500; "stall" never answers;
"broken" sends a malformed event; "drop" closes the connection mid-stream; "nousage" streams
without a usage event; "close" streams like "ok", then closes the connection it had kept
alive, as llama-server does after every streamed answer; "huge" sends a 600 KB event before
its tokens; "html" answers 200 with a web page; "garbage" streams bytes that are not UTF-8.
`/metrics` serves `metrics` (bytes) when given. With `tokenize`, `/tokenize` answers in
llama.cpp's shape, a token a word, and usage counts prompt tokens the same way. Every
request body received is kept in `bodies`. With `api_key`, every route wants
`Authorization: Bearer <key>` and answers 401 without it. Loopback only.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web


def app(
    ttft_s: float = 0.05,
    itl_s: float = 0.01,
    metrics: bytes | None = None,
    tokenize: bool = False,
    bodies: list[dict[str, object]] | None = None,
    api_key: str | None = None,
) -> web.Application:
    @web.middleware
    async def auth(request: web.Request, handler: object) -> web.StreamResponse:
        if api_key is not None and request.headers.get("Authorization") != f"Bearer {api_key}":
            return web.json_response({"error": "invalid api key"}, status=401)
        return await handler(request)  # type: ignore[operator,no-any-return]

    async def models(request: web.Request) -> web.Response:
        return web.json_response({"data": [{"id": "m"}]})

    async def metrics_page(request: web.Request) -> web.Response:
        return web.Response(body=metrics, content_type="text/plain")

    async def tokenize_page(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response({"tokens": list(range(len(str(body["content"]).split())))})

    async def completions(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if bodies is not None:
            bodies.append(body)
        mode = str(body.get("prompt") or body.get("messages", [{}])[-1].get("content", ""))
        tokens = int(body.get("max_tokens", 8))
        if mode == "http500":
            return web.Response(status=500, text="engine exploded")
        if mode == "stall":
            await asyncio.sleep(3600)
        if mode == "html":
            return web.Response(text="<html><body>502 Bad Gateway</body></html>" * 20)
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        if mode == "garbage":
            await resp.write(b"data: \xff\xfe\x00garbage\n\n" + bytes(range(256)) + b"\n\n")
            return resp
        if mode == "huge":
            pad = {"choices": [], "pad": "x" * 600_000}
            await resp.write(f"data: {json.dumps(pad)}\n\n".encode())
        await asyncio.sleep(ttft_s)
        for i in range(tokens):
            if i:
                await asyncio.sleep(itl_s)
            if mode == "broken" and i == 2:
                await resp.write(b"data: {not json\n\n")
                continue
            if mode == "drop" and i == 2:
                assert request.transport is not None
                request.transport.close()
                return resp
            event = {"choices": [{"text": f"t{i} "}]}
            await resp.write(f"data: {json.dumps(event)}\n\n".encode())
        if mode != "nousage":
            prompt_tokens = len(mode.split()) if tokenize else 7
            usage = {"prompt_tokens": prompt_tokens, "completion_tokens": tokens}
            done = {"choices": [{"text": "", "finish_reason": "length"}]}
            await resp.write(f"data: {json.dumps(done)}\n\n".encode())
            await resp.write(f"data: {json.dumps({'choices': [], 'usage': usage})}\n\n".encode())
        await resp.write(b"data: [DONE]\n\n")
        if mode == "close":
            await resp.write_eof()
            assert request.transport is not None
            request.transport.close()
        return resp

    application = web.Application(middlewares=[auth])
    application.router.add_post("/v1/completions", completions)
    application.router.add_get("/v1/models", models)
    if metrics is not None:
        application.router.add_get("/metrics", metrics_page)
    if tokenize:
        application.router.add_post("/tokenize", tokenize_page)
    return application


@asynccontextmanager
async def serving(
    ttft_s: float = 0.05,
    itl_s: float = 0.01,
    metrics: bytes | None = None,
    tokenize: bool = False,
    bodies: list[dict[str, object]] | None = None,
    api_key: str | None = None,
) -> AsyncIterator[str]:
    """Run the fake server on 127.0.0.1 for the block; yields its base URL."""
    application = app(ttft_s, itl_s, metrics, tokenize, bodies, api_key)
    runner = web.AppRunner(application, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


class ThreadedServer:
    """The fake server on its own event loop in a thread, for synchronous callers (the CLI)."""

    def __init__(
        self,
        ttft_s: float = 0.02,
        itl_s: float = 0.005,
        metrics: bytes | None = None,
        tokenize: bool = False,
        api_key: str | None = None,
    ) -> None:
        import threading

        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.url = ""
        self.bodies: list[dict[str, object]] = []
        self._args = (ttft_s, itl_s, metrics, tokenize, self.bodies, api_key)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            async with serving(*self._args) as url:
                self.url = url
                self._ready.set()
                await self._stop.wait()

        asyncio.run(main())

    def __enter__(self) -> str:
        self._thread.start()
        self._ready.wait(10)
        return self.url

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
