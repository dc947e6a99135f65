"""Replay a request trace: arrival time, prompt tokens and output tokens per request.

CSV (with a header) or JSON Lines. Column names are matched loosely so that common public
traces load as they are:

    time       timestamp | arrival_s | time | TIMESTAMP            (seconds, or ISO 8601)
    prompt     input_tokens | prompt_tokens | ContextTokens
    output     output_tokens | completion_tokens | GeneratedTokens

Times are shifted so the first request arrives at 0 and sorted.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from infercost.errors import InputError

TIME = ("timestamp", "arrival_s", "time", "TIMESTAMP")
PROMPT = ("input_tokens", "prompt_tokens", "ContextTokens")
OUTPUT = ("output_tokens", "completion_tokens", "GeneratedTokens")


def load_trace(
    path: Path | str,
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """(arrival_s, input_tokens, output_tokens) of every request in the file."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError("trace", f"cannot read {file}: {exc.strerror or exc}") from None
    rows = _jsonl(text, file) if file.suffix in (".jsonl", ".json") else _csv(text)
    if not rows:
        raise InputError("trace", f"{file} has no requests")
    time_key, prompt_key, output_key = (
        _key(rows[0], names, file) for names in (TIME, PROMPT, OUTPUT)
    )
    times = np.empty(len(rows))
    prompts = np.empty(len(rows), dtype=np.int64)
    outputs = np.empty(len(rows), dtype=np.int64)
    for i, row in enumerate(rows):
        where = f"{file.name} request {i + 1}"
        times[i] = _seconds(row[time_key], where)
        prompts[i] = _count(row[prompt_key], where, 0)
        outputs[i] = _count(row[output_key], where, 1)
    order = np.argsort(times, kind="stable")
    return times[order] - times.min(), prompts[order], outputs[order]


def _csv(text: str) -> list[dict[str, Any]]:
    return list(csv.DictReader(text.splitlines()))


def _jsonl(text: str, file: Path) -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InputError("trace", f"{file.name} line {n}: {exc.msg}") from None
    return rows


def _key(row: dict[str, Any], names: tuple[str, ...], file: Path) -> str:
    for name in names:
        if name in row:
            return name
    raise InputError("trace", f"{file.name} needs one of the columns {', '.join(names)}")


def _seconds(value: Any, where: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        pass
    try:
        return dt.datetime.fromisoformat(str(value).strip()).timestamp()
    except ValueError:
        raise InputError(
            "trace", f"{where}: time {value!r} is neither seconds nor ISO 8601"
        ) from None


def _count(value: Any, where: str, minimum: int) -> int:
    try:
        number = int(float(value))
    except (TypeError, ValueError):
        raise InputError("trace", f"{where}: token count {value!r} is not a number") from None
    if number < minimum:
        raise InputError("trace", f"{where}: token count must be ≥ {minimum}, got {number}")
    return number
