"""Closed loops past the batch cap queue for slots; MLPerf Server's rate is the largest that
meets its latency constraints."""

import pytest

from infercost.evaluate.config import Config, resolve
from infercost.evaluate.pipeline import (
    Serving,
    Workload,
    at_rate,
    closed_loop,
    highest_rate,
    performance,
)

R = resolve(Config(model="llama-3.1-8b", gpu="h100-sxm", max_sequences=16), None)
W = Workload(1000, 200)


@pytest.mark.parametrize("users", [1, 8, 16])
def test_no_queue_while_users_fit_the_batch(users: int) -> None:
    loop = closed_loop(R, W, users)
    steady = performance(R, W, Serving(), users)
    assert loop.queue_wait_s == 0.0
    assert loop.ttft_s == steady.ttft_s
    assert loop.output_tokens_per_s == steady.output_tokens_per_s


def test_users_beyond_the_batch_wait_for_a_slot() -> None:
    # 48 users, 16 slots: 32 wait, and the replica frees X slots a second.
    loop = closed_loop(R, W, 48)
    full = performance(R, W, Serving(), 16)
    assert loop.served.concurrency == 16
    assert loop.queue_wait_s == pytest.approx(32 / full.requests_per_s)
    assert loop.ttft_s == pytest.approx(32 / full.requests_per_s + full.ttft_s)
    assert loop.output_tokens_per_s == full.output_tokens_per_s  # the batch is full anyway
    # Little's law over the loop: users = throughput × (wait + time holding a slot).
    x = full.requests_per_s
    assert pytest.approx(x * (loop.queue_wait_s + 16 / x)) == 48


def test_server_rate_is_the_largest_that_meets_the_constraints() -> None:
    limits = (("ttft", 99.0, 0.2), ("tpot", 99.0, 0.02))
    rate, perf = highest_rate(R, W, limits)
    assert perf.ttft_s <= 0.2
    assert perf.tpot_s <= 0.02
    above = rate * 1.01
    try:
        over = at_rate(R, W, above)
        assert over.ttft_s > 0.2 or over.tpot_s > 0.02
    except Exception:  # past the replica's capacity: no steady state at all
        pass


def test_looser_constraints_never_lower_the_server_rate() -> None:
    tight, _ = highest_rate(R, W, (("tpot", 99.0, 0.012),))
    loose, _ = highest_rate(R, W, (("tpot", 99.0, 0.02),))
    assert loose >= tight
