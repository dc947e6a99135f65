"""The runner: in process, a process pool and Ray give the same results for the same chunks,
each chunk once, as they complete; a missing Ray is a clear error."""

from __future__ import annotations

import statistics

import pytest

from infercost.errors import InputError
from infercost.planning.runner import Runner

# A function the workers can import (a test module is not on a Ray worker's path).
square_sum = statistics.fmean
CHUNKS = [[x * x for x in range(i, i + 7)] for i in range(0, 70, 7)]
EXPECTED = {i: statistics.fmean(c) for i, c in enumerate(CHUNKS)}


@pytest.mark.parametrize("runner", [Runner(), Runner(workers=2)], ids=["inline", "pool"])
def test_every_backend_gives_each_chunk_its_result(runner: Runner) -> None:
    got = dict(runner.map(square_sum, CHUNKS))
    assert got == EXPECTED


def test_ray_gives_the_same_results(ray_local: str) -> None:
    got = list(Runner(workers=2, ray=ray_local).map(square_sum, CHUNKS))
    assert dict(got) == EXPECTED
    assert len(got) == len(CHUNKS)  # each chunk once


def test_a_bad_worker_count_is_refused() -> None:
    with pytest.raises(InputError, match="workers"):
        list(Runner(workers=0).map(square_sum, CHUNKS))
