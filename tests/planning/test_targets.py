"""Latency targets: read from text, refused when impossible, checked against records."""

from __future__ import annotations

import numpy as np
import pytest

from infercost.errors import InputError
from infercost.planning.targets import check_records, parse_targets
from infercost.records import Records


def test_targets_read_units_percentiles_and_interactivity() -> None:
    t = parse_targets("ttft_p99=2s, tpot_p95=50ms,e2e_p90=1500ms,interactivity_p50=20")
    got = {s.name: s.threshold_s for s in t.slos}
    assert got == {
        "ttft_p99": 2.0,
        "tpot_p95": pytest.approx(0.05),
        "e2e_p90": pytest.approx(1.5),
        "tpot_p50": pytest.approx(0.05),  # 20 tokens/s per user is a 50 ms TPOT
    }
    assert parse_targets(None, min_interactivity=10).threshold("tpot") == pytest.approx(0.1)
    assert parse_targets("ttft_p99.9=250us").slos[0].threshold_s == pytest.approx(250e-6)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("ttft_p99=-1s", "must be > 0"),
        ("ttft_p100=2s", "(0, 100)"),
        ("ttft_p0=2s", "(0, 100)"),
        ("latency_p99=2s", "unknown metric"),
        ("ttft_p99=2", "needs a unit"),
        ("ttft_p99=2s,ttft_p99=3s", "set ttft_p99 twice"),
        ("ttft_p99=nan s", "finite"),
        ("fast", "cannot read"),
        ("", "at least one target"),
        ("interactivity_p50=20ms", "tokens/s"),
    ],
)
def test_impossible_targets_are_refused_naming_the_field(text: str, needle: str) -> None:
    with pytest.raises(InputError) as err:
        parse_targets(text)
    assert err.value.field == "slo"
    assert needle in err.value.message


@pytest.mark.parametrize("fraction", [0.0, 1.0, 1.5, float("nan")])
def test_a_goodput_fraction_is_a_share(fraction: float) -> None:
    with pytest.raises(InputError) as err:
        parse_targets("ttft_p99=1s", goodput_fraction=fraction)
    assert err.value.field == "goodput"


def _records(ttft: list[float], decode_s: list[float], errors: int = 0) -> Records:
    n = len(ttft)
    arrival = np.arange(n, dtype=float)
    first = arrival + np.asarray(ttft)
    errs = np.array(["boom"] * errors + [""] * (n - errors), dtype=object)
    return Records(
        arrival_s=arrival,
        first_token_s=first,
        finish_s=first + np.asarray(decode_s),
        input_tokens=np.full(n, 10),
        output_tokens=np.full(n, 11),  # ten gaps: TPOT = decode time / 10
        replica=np.zeros(n, dtype=np.int64),
        preemptions=np.zeros(n, dtype=np.int64),
        error=errs,
    )


def test_a_run_meets_a_target_when_its_upper_bound_does() -> None:
    # 1,000 requests, TTFT 0.1 s except the slowest 4 at 3 s: the p99 is 0.1 s, and its
    # upper 95 % bound (index ⌈990 + 1.645·√9.9⌉ − 1 = 995) stops just short of them.
    ttft = [0.1] * 996 + [3.0] * 4
    r = _records(ttft, [0.5] * 1000)  # TPOT 50 ms for everyone
    met = check_records(r, parse_targets("ttft_p99=1s,tpot_p99=60ms"))
    assert met.met
    assert met.achieved_s["ttft_p99"] == pytest.approx(0.1)
    ttft = [0.1] * 990 + [3.0] * 10
    missed = check_records(_records(ttft, [0.5] * 1000), parse_targets("ttft_p99=1s"))
    assert not missed.met
    assert missed.misses == ("ttft_p99 3,000.0 ms > 1,000.0 ms",)


def test_failed_requests_count_as_misses() -> None:
    r = _records([0.1] * 100, [0.5] * 100, errors=5)
    check = check_records(r, parse_targets("ttft_p90=1s", goodput_fraction=0.99))
    assert check.goodput_fraction == pytest.approx(0.95)
    assert not check.met
    assert any("goodput" in m for m in check.misses)
