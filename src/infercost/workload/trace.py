"""Replay a request trace: arrival time, prompt tokens and output tokens per request.

CSV (with a header) or JSON Lines. Column names are matched loosely so that common public
traces load as they are:

    time       timestamp | arrival_s | time | TIMESTAMP            (seconds, or ISO 8601)
    prompt     input_tokens | prompt_tokens | ContextTokens
    output     output_tokens | completion_tokens | GeneratedTokens

Times are shifted so the first request arrives at 0 and sorted. Bounds, checked before a
run: at most `MAX_REQUESTS` requests spanning at most a year, token counts up to
`MAX_TOKENS`, finite times.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from infercost.errors import InputError
from infercost.files import read_text
from infercost.limits import MAX_REQUESTS, MAX_TOKENS, MAX_TRACE_BYTES, MAX_TRACE_SPAN_S

TIME = ("timestamp", "arrival_s", "time", "TIMESTAMP")
PROMPT = ("input_tokens", "prompt_tokens", "ContextTokens")
OUTPUT = ("output_tokens", "completion_tokens", "GeneratedTokens")


def load_trace(
    path: Path | str,
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """(arrival_s, input_tokens, output_tokens) of every request in the file."""
    file = Path(path)
    text = read_text(file, "trace", MAX_TRACE_BYTES)
    rows = _jsonl(text, file) if file.suffix in (".jsonl", ".json") else _csv(text)
    if not rows:
        raise InputError("trace", f"{file} has no requests")
    if len(rows) > MAX_REQUESTS:
        raise InputError("trace", f"{file} has {len(rows):,} requests; at most {MAX_REQUESTS:,}")
    time_key, prompt_key, output_key = (
        _key(rows[0], names, file) for names in (TIME, PROMPT, OUTPUT)
    )
    times = np.empty(len(rows))
    prompts = np.empty(len(rows), dtype=np.int64)
    outputs = np.empty(len(rows), dtype=np.int64)
    for i, row in enumerate(rows):
        where = f"{file.name} request {i + 1}"
        times[i] = _seconds(row.get(time_key), where)
        prompts[i] = _count(row.get(prompt_key), where, 0)
        outputs[i] = _count(row.get(output_key), where, 1)
    order = np.argsort(times, kind="stable")
    span = float(times.max() - times.min())
    if span > MAX_TRACE_SPAN_S:
        raise InputError(
            "trace", f"{file.name} spans {span:,.0f} s; at most {MAX_TRACE_SPAN_S:,.0f} s (a year)"
        )
    return times[order] - times.min(), prompts[order], outputs[order]


def _csv(text: str) -> list[dict[str, Any]]:
    try:
        return list(csv.DictReader(text.splitlines()))
    except csv.Error as exc:
        raise InputError("trace", f"unreadable CSV: {exc}") from None


def _jsonl(text: str, file: Path) -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError("trace", f"{file.name} line {n}: {exc.msg}") from None
            if not isinstance(row, dict):
                raise InputError("trace", f"{file.name} line {n}: expected a JSON object")
            rows.append(row)
    return rows


def _key(row: dict[str, Any], names: tuple[str, ...], file: Path) -> str:
    for name in names:
        if name in row:
            return name
    raise InputError("trace", f"{file.name} needs one of the columns {', '.join(names)}")


def _seconds(value: Any, where: str) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        try:
            seconds = dt.datetime.fromisoformat(str(value).strip()).timestamp()
        except (ValueError, OverflowError, OSError):
            raise InputError(
                "trace", f"{where}: time {value!r} is neither seconds nor ISO 8601"
            ) from None
    if not math.isfinite(seconds) or abs(seconds) > 1e12:
        raise InputError("trace", f"{where}: time {value!r} is not a finite number of seconds")
    return seconds


def _count(value: Any, where: str, minimum: int) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError("trace", f"{where}: token count {value!r} is not a number") from None
    if not minimum <= number <= MAX_TOKENS:
        raise InputError(
            "trace", f"{where}: token count must be in [{minimum}, {MAX_TOKENS:,}], got {value!r}"
        )
    return int(number)
