"""Arrival processes, length laws and trace replay."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from infercost.errors import InputError
from infercost.workload.arrivals import DIURNAL_DEFAULT, arrivals
from infercost.workload.lengths import lengths
from infercost.workload.trace import load_trace


@pytest.mark.parametrize("kind", ["poisson", "gamma", "diurnal"])
def test_mean_rate_is_the_asked_rate(kind: str) -> None:
    times = arrivals(kind, 0.5, 200_000, 1)  # 4.6 days: whole diurnal cycles
    assert np.all(np.diff(times) >= 0)
    assert len(times) / times[-1] == pytest.approx(0.5, rel=0.03)


def test_gamma_burstiness_sets_the_gap_spread() -> None:
    for cv in (0.5, 1.0, 3.0):
        gaps = np.diff(arrivals("gamma", 10.0, 100_000, 2, burstiness=cv))
        assert gaps.std() / gaps.mean() == pytest.approx(cv, rel=0.05)


def test_diurnal_peak_hour_is_busier_than_the_night() -> None:
    times = arrivals("diurnal", 1.0, 3 * 86_400, 3)  # three days
    hours = (times % 86_400 // 3600).astype(int)
    counts = np.bincount(hours, minlength=24)
    peak, trough = int(np.argmax(DIURNAL_DEFAULT)), int(np.argmin(DIURNAL_DEFAULT))
    ratio = DIURNAL_DEFAULT[peak] / DIURNAL_DEFAULT[trough]
    assert counts[peak] / counts[trough] == pytest.approx(ratio, rel=0.1)


def test_unknown_process_and_bad_rate_are_named() -> None:
    with pytest.raises(InputError, match="arrival"):
        arrivals("lumpy", 1.0, 10, 0)
    with pytest.raises(InputError, match="rate"):
        arrivals("poisson", 0.0, 10, 0)


def test_length_laws() -> None:
    rng = np.random.default_rng(0)
    assert set(lengths("200", 100, rng, "x")) == {200}
    uniform = lengths("uniform:10:20", 10_000, rng, "x")
    assert (uniform.min(), uniform.max()) == (10, 20)
    logn = lengths("lognormal:300:1.0", 200_000, rng, "x")
    assert logn.mean() == pytest.approx(300, rel=0.03)
    assert logn.min() >= 1


def test_empirical_lengths_resample_the_file(tmp_path: Path) -> None:
    path = tmp_path / "l.txt"
    path.write_text("5\n7\n9\n")
    drawn = lengths(f"file:{path}", 1_000, np.random.default_rng(0), "x")
    assert set(drawn) == {5, 7, 9}


@pytest.mark.parametrize("spec", ["-3", "uniform:5:2", "lognormal:0:1", "gauss:1:2", "abc"])
def test_bad_length_specs_name_the_field(spec: str) -> None:
    with pytest.raises(InputError, match="output_tokens"):
        lengths(spec, 10, np.random.default_rng(0), "output_tokens")


def test_trace_csv_and_jsonl(tmp_path: Path) -> None:
    csv_path = tmp_path / "t.csv"
    csv_path.write_text("TIMESTAMP,ContextTokens,GeneratedTokens\n10.5,100,20\n10.0,50,5\n")
    t, p, o = load_trace(csv_path)
    assert list(t) == [0.0, 0.5]
    assert (list(p), list(o)) == ([50, 100], [5, 20])
    jsonl = tmp_path / "t.jsonl"
    rows = [
        {"timestamp": "2024-05-01T00:00:01", "input_tokens": 3, "output_tokens": 4},
        {"timestamp": "2024-05-01T00:00:00", "input_tokens": 1, "output_tokens": 2},
    ]
    jsonl.write_text("\n".join(json.dumps(r) for r in rows))
    t, p, o = load_trace(jsonl)
    assert list(t) == [0.0, 1.0]
    assert list(p) == [1, 3]


def test_trace_errors_name_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("when,prompt\n1,2\n")
    with pytest.raises(InputError, match="columns"):
        load_trace(bad)
    neg = tmp_path / "neg.csv"
    neg.write_text("timestamp,input_tokens,output_tokens\n0,5,0\n")
    with pytest.raises(InputError, match="token count"):
        load_trace(neg)
