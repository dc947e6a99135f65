"""Fuzzing the command line and scenario files: whatever a user types, infercost answers with
a result or one line naming what is wrong, and never a traceback, a hang or a memory blow-up.

Each example runs one command in process. It must end with the documented exit status (0 for
an answer, 1 only from `measure` when the server failed requests, 2 for bad input); a status
of 2 must come with exactly one line on stderr of the form `error: FIELD: message`; no example
may take longer than `SECONDS` or grow the process by more than `MEMORY_BYTES`. The budget is
fixed and the search derandomised, so CI runs the same examples every time.
"""

from __future__ import annotations

import math
import re
import resource
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from scenario_files import own_scenario
from test_cli import invoke

SECONDS = 30
MEMORY_BYTES = 1_500_000_000
ERROR_LINE = re.compile(r"^error: ([^\s:][^:]*): \S")

NUMBERS = [
    "1",
    "2",
    "0",
    "-1",
    "-0.5",
    "0.5",
    "1e30",
    "-1e30",
    "nan",
    "inf",
    "-inf",
    "1000000000000000000000",
    "3.7",
    "abc",
    "",
    "ü",
    "1,2",
]
NAMES = ["h100", "llama-3.1-8b", "h1000", "llama-9", "", "ü", "a" * 300, "../x", "cpu"]
PRECISIONS = ["bf16", "fp8", "fp7", "int4", "w4a16", "", "NaN"]
ENGINES = ["vllm", "sglang", "foo", "", "other", "llama.cpp"]
SPECS = [
    "200",
    "0",
    "-5",
    "inf",
    "nan",
    "uniform:1:10",
    "uniform:10:1",
    "lognormal:200:1",
    "lognormal:1e30:1",
    "lognormal:200:-1",
    "file:/nonexistent",
    "weird:1",
    "file:",
]
SLOS = [
    "ttft_p99=2s",
    "tpot_p99=100ms,e2e_p50=30s",
    "ttft=fast",
    "ttft_p0=1s",
    "ttft_p101=1s",
    "e2e_p99=-1s",
    "",
]
URLS = [
    "http://127.0.0.1:9",
    "localhost:80",
    "http://",
    "ftp://example.com",
    "http://h:99999",
    "http://127.0.0.1:9/",
]


def _paths(root: Path) -> list[str]:
    """Files a user might point at: missing, a folder, empty, not UTF-8, duplicate keys, CSV
    with a time of 1e300, a JSON line that is a list."""
    root.mkdir(parents=True, exist_ok=True)
    files = {
        "empty.yaml": b"",
        "latin1.yaml": "scenario: caf\xe9\n".encode("latin-1"),
        "dupes.yaml": b"scenario: a\ntitle: b\ntitle: c\n",
        "list.yaml": b"- 1\n- 2\n",
        "far.csv": b"timestamp,input_tokens,output_tokens\n0,10,10\n1e300,10,10\n",
        "neg.csv": b"timestamp,input_tokens,output_tokens\n0,-5,10\n",
        "list.jsonl": b"[1, 2]\n",
        "bytes.bin": bytes(range(256)),
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    return [str(root / n) for n in files] + [str(root), str(root / "missing.yaml"), "/dev/null"]


def _options(draw: Any, flags: dict[str, list[str]], most: int = 4) -> list[str]:
    args: list[str] = []
    for flag in draw(st.lists(st.sampled_from(sorted(flags)), max_size=most, unique=True)):
        values = flags[flag]
        args += [flag] if not values else [flag, draw(st.sampled_from(values))]
    return args


@st.composite
def commands(draw: Any, paths: list[str]) -> list[str]:
    kind = draw(
        st.sampled_from(
            [
                "estimate",
                "plan",
                "simulate",
                "reproduce",
                "measure",
                "calibrate",
                "catalog",
                "import-model",
                "validate",
            ]
        )
    )
    if kind == "estimate":
        flags = {
            "--gpus": NUMBERS,
            "--tp": NUMBERS,
            "--pp": NUMBERS,
            "--precision": PRECISIONS,
            "--kv-precision": PRECISIONS,
            "--engine": ENGINES,
            "--input-tokens": NUMBERS,
            "--output-tokens": NUMBERS,
            "--concurrency": NUMBERS,
            "--price": NUMBERS,
            "--qps": NUMBERS,
            "--queries-per-day": NUMBERS,
            "--peak-to-average": NUMBERS,
            "--utilisation": NUMBERS,
            "--target-interactivity": NUMBERS,
            "--max-seqs": NUMBERS,
            "--cached-fraction": NUMBERS,
            "--calibration": paths,
            "--no-calibration": [],
            "--json": [],
        }
        gpu = draw(st.sampled_from(["h100", "h100,h200", "a100-80gb", "h1000", "h100,,"]))
        return ["estimate", "-m", draw(st.sampled_from(NAMES)), "-g", gpu, *_options(draw, flags)]
    if kind == "plan":
        flags = {
            "--qps": NUMBERS,
            "--queries-per-day": NUMBERS,
            "--daily-users": NUMBERS,
            "--queries-per-user": NUMBERS,
            "--peak-to-average": NUMBERS,
            "--input-tokens": SPECS,
            "--output-tokens": SPECS,
            "--trace": paths,
            "--arrival": ["poisson", "gamma", "diurnal", "weird"],
            "--burstiness": NUMBERS,
            "--slo": SLOS,
            "--goodput": NUMBERS,
            "--min-interactivity": NUMBERS,
            "--gpu": ["h100", "h100,b200", "l40s", "h1000", "cpu-avx512-2c", ""],
            "--server": ["hgx-h100", "hgx-x", ""],
            "--gpus-per-replica": NUMBERS,
            "--max-gpus-per-replica": NUMBERS,
            "--max-gpus": NUMBERS,
            "--precision": PRECISIONS,
            "--kv-precision": PRECISIONS,
            "--engine": ENGINES,
            "--price": [*NUMBERS, "h100=2", "h100=-1", "x=1", "=", "h100=2,3,4"],
            "--own": [],
            "--owner-profile": ["hyperscaler-2025", "nobody"],
            "--objective": ["gpus", "energy", "usd_per_month", "speed"],
            "--seed": ["0", "-1", "99999999999"],
            "--router": ["round-robin", "least-outstanding", "random"],
            "--max-candidates": NUMBERS,
            "--frontier": [*paths, "/missing/dir/x.csv", "x.txt"],
            "--plot": [*paths, "x.png"],
            "--compare-api": [],
            "--json": [],
        }
        head = draw(
            st.sampled_from(
                [
                    ["-m", "llama-3.1-8b", "--qps", "5", "--slo", "ttft_p99=2s"],
                    ["-m", "llama-3.1-70b,h100"],
                    ["chatgpt-2023"],
                    [],
                ]
            )
        )
        return ["plan", *head, "--verify", "1", "--requests", "1000", *_options(draw, flags)]
    if kind == "simulate":
        flags = {
            "--rate": NUMBERS,
            "--requests": ["100", "0", "-1", "10000001", "1000000000000", "abc"],
            "--replicas": ["1", "2", "0", "100000000"],
            "--max-seqs": ["8", "0", "2000000000"],
            "--tp": NUMBERS,
            "--input-tokens": SPECS,
            "--output-tokens": SPECS,
            "--arrival": ["poisson", "gamma", "diurnal", "constant", "weird"],
            "--burstiness": NUMBERS,
            "--seed": ["0", "-1", "99999999999"],
            "--slo": SLOS,
            "--trace": paths,
            "--records": [*paths, "/missing/dir/x.csv", "x.txt"],
            "--router": ["round-robin", "least-outstanding", "random"],
            "--scheduler-steps": NUMBERS,
            "--cached-fraction": NUMBERS,
            "--engine": ENGINES,
            "--precision": PRECISIONS,
            "--json": [],
        }
        head = draw(
            st.sampled_from(
                [
                    ["-m", "llama-3.1-8b", "-g", "h100", "--rate", "5"],
                    ["chatgpt-2023"],
                    ["-m", "llama-3.1-8b"],
                    [],
                ]
            )
        )
        return ["simulate", *head, "--requests", "200", *_options(draw, flags)]
    if kind == "reproduce":
        sets = [
            "workload.queries_per_second=.inf",
            "parallelism.tp=100000",
            "hardware.gpu=h1000",
            "hardware.server=hgx-h100",
            "workload.nope=1",
            "cost.usd_per_gpu_hour=-1",
            "workload.output_tokens=nan",
            "model.weight_precision=fp7",
            "serving=3",
            "=",
            "noequals",
        ]
        target = draw(st.sampled_from(["chatgpt-2023", "deepseek-2025", "chatgpt-2032", *paths]))
        extra = _options(draw, {"--set": sets, "--json": [], "--calibration": paths})
        return ["reproduce", target, *extra]
    if kind == "measure":
        flags = {
            "--concurrency": ["1", "0", "-1", "abc", "1,2", "100000"],
            "--rate": NUMBERS,
            "--requests": ["1", "2", "0", "10000000"],
            "--input-tokens": NUMBERS,
            "--output-tokens": NUMBERS,
            "--price": NUMBERS,
            "--timeout": ["1", "0", "nan"],
            "--gpu": NAMES,
            "--catalog-model": NAMES,
            "--engine": ENGINES,
            "--precision": PRECISIONS,
            "--extra": ["{", "[1]", '{"a": 1}', "null"],
            "--trace": paths,
            "--prompts": paths,
            "--out": [*paths, "/missing/dir"],
            "--sweep": [],
            "--slo": SLOS,
            "--max-error-rate": NUMBERS,
            "--seed": NUMBERS,
            "--duration": NUMBERS,
        }
        url = draw(st.sampled_from(URLS))
        return [
            "measure",
            "--url",
            url,
            "--model",
            "m",
            "--requests",
            "2",
            *_options(draw, flags),
            "--json",
        ]
    if kind == "calibrate":
        flags = {
            "--gpu": NAMES,
            "--model": NAMES,
            "--gpus": NUMBERS,
            "--precision": PRECISIONS,
            "--engine": ENGINES,
            "--out": paths,
        }
        return ["calibrate", draw(st.sampled_from(paths)), *_options(draw, flags)]
    if kind == "catalog":
        table = draw(
            st.sampled_from(
                ["gpus", "models", "servers", "prices", "api-prices", "engines", "tpus"]
            )
        )
        return ["catalog", "show", table, *_options(draw, {"--json": []})]
    if kind == "import-model":
        flags = {"--id": NAMES, "--into": paths, "--json": []}
        return ["catalog", "import-model", draw(st.sampled_from(paths)), *_options(draw, flags)]
    # Validation of the whole built-in data set takes seconds to minutes: fuzz it on files.
    flags = {"--plot": [*paths, "x.txt"], "--write-calibration": paths, "--json": []}
    data = draw(st.sampled_from(paths))
    return ["validate", "--data", data, *_options(draw, flags, most=2)]


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    def stop(*_: object) -> None:
        raise TimeoutError(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def check(args: list[str]) -> None:
    before = peak_rss_bytes()
    with time_limit(SECONDS):
        result = invoke(*args)
    growth = peak_rss_bytes() - before
    assert growth < MEMORY_BYTES, f"{args}: grew by {growth:,} bytes"
    exc = result.exception
    assert exc is None or isinstance(exc, SystemExit), f"{args}: {exc!r}"
    event(f"{args[0]} exit {result.exit_code}")
    allowed = {0, 1, 2} if args[0] == "measure" else {0, 2}
    assert result.exit_code in allowed, f"{args}: exit {result.exit_code}: {result.output}"
    if result.exit_code == 2:
        err = result.stderr.strip()
        assert len(err.splitlines()) == 1, f"{args}: {err}"
        assert ERROR_LINE.match(err), f"{args}: {err}"
    if result.exit_code == 1:
        assert result.stderr.strip(), f"{args}: a failed measurement says why on stderr"
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return _paths(tmp_path_factory.mktemp("fuzz"))


FUZZ = settings(
    max_examples=160,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@FUZZ
@given(data=st.data())
def test_command_line(paths: list[str], data: st.DataObject) -> None:
    check(data.draw(commands(paths)))


# --- scenario files ----------------------------------------------------------------------

VALUES = [
    0,
    -1,
    1e300,
    math.inf,
    -math.inf,
    math.nan,
    "",
    "x",
    [],
    {},
    None,
    True,
    10**30,
    "h1000",
    100_000,
    0.5,
]


def _leaves(node: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(node, dict):
        out = [prefix] if prefix else []
        for key, value in node.items():
            out += _leaves(value, (*prefix, key))
        return out
    return [prefix]


def _put(doc: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = doc
    for key in path[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[path[-1]] = value


@st.composite
def scenario_files(draw: Any) -> bytes:
    doc = own_scenario()
    leaves = _leaves(doc)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["set", "delete", "unknown", "base"]))
        path = draw(st.sampled_from(leaves))
        if kind == "set":
            _put(doc, path, draw(st.sampled_from(VALUES)))
        elif kind == "delete" and len(path) > 0:
            parent = doc
            for key in path[:-1]:
                parent = parent.get(key, {}) if isinstance(parent, dict) else {}
            if isinstance(parent, dict):
                parent.pop(path[-1], None)
        elif kind == "unknown":
            _put(doc, (*path[:-1], "typo_key"), 1)
        else:
            doc["base"] = draw(st.sampled_from(["chatgpt-2023", "mine.yaml", "nope", 3]))
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True).encode()
    if draw(st.booleans()) and draw(st.booleans()):
        text += draw(st.sampled_from([b"\ntitle: twice\n", b"\n\xff\xfe\n", b"\n  - [\n"]))
    return text


@FUZZ
@given(text=scenario_files(), verb=st.sampled_from(["reproduce", "simulate"]))
def test_scenario_files(tmp_path_factory: pytest.TempPathFactory, text: bytes, verb: str) -> None:
    folder = tmp_path_factory.mktemp("scenario")
    path = folder / "mine.yaml"
    path.write_bytes(text)
    extra = ["--requests", "200"] if verb == "simulate" else []
    check([verb, str(path), *extra, "--json"])
