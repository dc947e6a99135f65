"""Prompt and output lengths per request: fixed, uniform, lognormal, or drawn from a file.

A spec is a short string, so that it fits a CLI flag and a scenario field alike:

    "200"                  fixed at 200 tokens
    "uniform:100:300"      uniform integers in [100, 300]
    "lognormal:220:1.0"    lognormal with mean 220 tokens and sigma 1.0 (of the log)
    "file:lengths.txt"     resampled from one whole number per line (an empirical law)

Every length is at least `minimum` (1 for outputs, 0 allowed for prompts).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from infercost.errors import InputError
from infercost.files import read_text
from infercost.limits import MAX_TOKENS


def lengths(
    spec: str | float, n: int, rng: np.random.Generator, field: str, minimum: int = 1
) -> NDArray[np.int64]:
    """`n` lengths drawn as `spec` says (see the module docstring)."""
    text = str(spec).strip()
    kind, _, args = text.partition(":")
    try:
        if not args:
            value = float(kind)
            if not minimum <= value <= MAX_TOKENS:
                raise InputError(field, f"must be in [{minimum}, {MAX_TOKENS:,}], got {value:g}")
            return np.full(n, round(value), dtype=np.int64)
        if kind == "uniform":
            low, high = (int(x) for x in args.split(":"))
            if not minimum <= low <= high <= MAX_TOKENS:
                raise InputError(
                    field, f"uniform needs {minimum} ≤ low ≤ high ≤ {MAX_TOKENS:,}, got {args}"
                )
            return rng.integers(low, high + 1, n, dtype=np.int64)
        if kind == "lognormal":
            mean, sigma = (float(x) for x in args.split(":"))
            if not (0 < mean <= MAX_TOKENS and 0 <= sigma <= 4):
                raise InputError(
                    field,
                    f"lognormal needs 0 < mean ≤ {MAX_TOKENS:,} and 0 ≤ sigma ≤ 4, got {args}",
                )
            mu = np.log(mean) - sigma**2 / 2  # so that the mean is `mean`
            draws = np.rint(rng.lognormal(mu, sigma, n))
            return np.clip(draws, minimum, MAX_TOKENS).astype(np.int64)
        if kind == "file":
            return _empirical(Path(args), n, rng, field, minimum)
    except InputError:
        raise
    except ValueError:
        raise InputError(field, f"cannot read length spec {text!r}") from None
    raise InputError(
        field, f"unknown length spec {text!r}; use N, uniform:A:B, lognormal:MEAN:SIGMA, file:PATH"
    )


def _empirical(
    path: Path, n: int, rng: np.random.Generator, field: str, minimum: int
) -> NDArray[np.int64]:
    text = read_text(path, field)
    try:
        values = np.array([float(line) for line in text.split()], dtype=float)
    except ValueError:
        raise InputError(field, f"{path} must hold whole numbers, one per line") from None
    good = np.isfinite(values) & (values >= minimum) & (values <= MAX_TOKENS)
    if values.size == 0 or not good.all() or np.any(values != np.rint(values)):
        raise InputError(
            field, f"{path} must hold whole numbers in [{minimum}, {MAX_TOKENS:,}], one per line"
        )
    return rng.choice(values.astype(np.int64), n)
