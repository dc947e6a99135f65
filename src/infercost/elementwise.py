"""Arithmetic on a number or on a numpy array of numbers, element by element.

The performance, traffic and cost formulas are written once, for one number. The Monte
Carlo of `reproduce --samples` (`planning/uncertainty.py`) passes arrays of samples through
those same formulas, and numpy broadcasts `+ - * / **` by itself; the few operations
Python's builtins do not broadcast are here: `max`, `min`, `ceil`, truncation to a whole
number, "is every element true", a choice between two values, and a branch taken on a
value. For plain numbers each is the builtin (the same result and type as before); for
arrays, numpy's elementwise version.

A branch (`branch`) must go the same way for every sample of an array; when it does not,
`NotElementwise` is raised and the caller evaluates those samples one at a time. A step that
cannot take arrays at all (a search, a label) raises it too (`scalar`).
"""

from __future__ import annotations

import math
from typing import Any, TypeVar, cast

import numpy as np

Number = TypeVar("Number", int, float)


class NotElementwise(ValueError):
    """This step cannot be taken for a whole array of samples at once."""


def is_array(*values: object) -> bool:
    return any(isinstance(v, np.ndarray) for v in values)


def maximum(a: Number, b: Number) -> Number:
    """`max(a, b)`: a unless b is larger, as the builtin does."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return cast(Number, np.maximum(a, b))
    return b if b > a else a


def minimum(a: Number, b: Number) -> Number:
    """`min(a, b)`: a unless b is smaller, as the builtin does."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return cast(Number, np.minimum(a, b))
    return b if b < a else a


def ceil(x: float) -> int:
    """`math.ceil`; for an array, the ceiling of each element (as floats)."""
    if isinstance(x, np.ndarray):
        return cast(int, np.ceil(x))
    return math.ceil(x)


def whole(x: float) -> int:
    """`int(x)` (truncation); for an array, each element truncated (as floats)."""
    if isinstance(x, np.ndarray):
        return cast(int, np.trunc(x))
    return int(x)


def finite(x: float) -> bool:
    """`math.isfinite`; for an array, whether each element is finite."""
    if isinstance(x, np.ndarray):
        return cast(bool, np.isfinite(x))
    return math.isfinite(x)


def every(condition: bool) -> bool:
    """Whether the condition holds (for an array: for every element)."""
    if isinstance(condition, np.ndarray):
        return bool(condition.all())
    return bool(condition)


def largest(x: float) -> float:
    """The number itself; for an array, its largest element."""
    if isinstance(x, np.ndarray):
        return cast(float, x.max())
    return x


def choose(condition: bool, if_true: float, if_false: float) -> float:
    """`if_true if condition else if_false`, both already computed; for arrays, elementwise
    (`numpy.where`). For cheap alternatives that are defined whichever way the branch goes."""
    if is_array(condition, if_true, if_false):
        return cast(float, np.where(condition, if_true, if_false))
    return if_true if condition else if_false


def branch(condition: bool) -> bool:
    """The way a branch goes: the condition for a number; for an array, the condition if
    every element agrees, else `NotElementwise`."""
    if not isinstance(condition, np.ndarray):
        return bool(condition)
    if condition.all():
        return True
    if not condition.any():
        return False
    raise NotElementwise("the samples take different branches here")


def scalar(*values: Any) -> None:
    """Refuse arrays: the step that calls this is taken for one sample at a time."""
    if is_array(*values):
        raise NotElementwise("this step takes one sample at a time")
