"""The elementwise helpers: builtins for numbers, numpy for arrays, and a branch that must
go one way for a whole array."""

import numpy as np
import pytest

from infercost.elementwise import (
    NotElementwise,
    branch,
    ceil,
    every,
    finite,
    largest,
    maximum,
    minimum,
    scalar,
    whole,
)


def test_numbers_keep_their_builtin_results_and_types():
    assert maximum(2, 3) == 3
    assert type(maximum(2, 3)) is int
    assert minimum(2.5, 1.0) == 1.0
    assert ceil(2.01) == 3
    assert type(ceil(2.01)) is int
    assert whole(7.9) == 7
    assert type(whole(7.9)) is int
    assert every(True) is True
    assert largest(4.0) == 4.0
    assert finite(float("inf")) is False


def test_arrays_are_taken_element_by_element():
    a = np.array([1.0, 5.0, 3.0])
    assert maximum(a, 2.0).tolist() == [2.0, 5.0, 3.0]
    assert minimum(a, 2.0).tolist() == [1.0, 2.0, 2.0]
    assert ceil(np.array([0.2, 2.0])).tolist() == [1.0, 2.0]
    assert whole(np.array([1.9, 2.1])).tolist() == [1.0, 2.0]
    assert every(a > 0) is True
    assert every(a > 2) is False
    assert largest(a) == 5.0


def test_a_branch_must_go_one_way_for_every_sample():
    assert branch(np.array([1.0, 2.0]) > 0) is True
    assert branch(np.array([1.0, 2.0]) > 5) is False
    with pytest.raises(NotElementwise):
        branch(np.array([1.0, 2.0]) > 1.5)
    with pytest.raises(NotElementwise):
        scalar(1.0, np.array([1.0]))
    scalar(1.0, 2)  # numbers pass


def test_max_and_min_of_numbers_are_the_builtins_even_with_nan():
    nan = float("nan")
    for a, b in ((nan, 1.0), (1.0, nan), (2.0, 2), (2, 2.0), (-0.0, 0.0), (0.0, -0.0)):
        assert repr(maximum(a, b)) == repr(max(a, b))
        assert repr(minimum(a, b)) == repr(min(a, b))
