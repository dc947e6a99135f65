"""A day of traffic: profiles, the autoscaling rule, and the day planned fixed and autoscaled."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

import infercost
from infercost.errors import InputError
from infercost.planning.day import Autoscale, Profile, autoscaled_replicas, profile_of

QUESTION = {
    "model": ["llama-3.1-8b"], "gpu": ["h100"], "precision": ["bf16"], "kv_precision": ["bf16"],
    "max_gpus_per_replica": 1, "price": 2.0, "qps": 25.0, "input_tokens": "1000",
    "output_tokens": "200", "slo": "ttft_p99=1s,tpot_p99=40ms", "disaggregated": False,
    "verify": 2, "requests": 4000,
}  # fmt: skip


def test_profiles_are_shapes_of_the_mean() -> None:
    day = Profile.diurnal()
    assert np.mean(day.hourly) == pytest.approx(1.0)
    assert day.peak_to_average == pytest.approx(max(day.hourly))
    wave = Profile.sinusoid(0.25)
    assert np.mean(wave.hourly) == pytest.approx(1.0)
    assert wave.peak_to_average == pytest.approx(1.25, abs=0.005)  # hour midpoints
    assert profile_of("sinusoid:0.25:3").hourly != wave.hourly  # another peak hour
    assert profile_of([2.0] * 24) == Profile.of([1.0] * 24, "the scenario's 24 hourly rates")


def test_a_profile_file_is_24_rates_in_any_unit(tmp_path: Path) -> None:
    plain = tmp_path / "rates.txt"
    plain.write_text("\n".join(str(10 + h) for h in range(24)) + "\n")
    table = tmp_path / "rates.csv"
    table.write_text("hour,qps\n" + "".join(f"{h},{2 * (10 + h)}\n" for h in range(24)))
    assert profile_of(str(plain)).hourly == pytest.approx(profile_of(str(table)).hourly)
    short = tmp_path / "short.txt"
    short.write_text("1\n2\n3\n")
    with pytest.raises(InputError, match="24"):
        profile_of(str(short))
    bad = tmp_path / "bad.csv"
    bad.write_text("1\n2\nthree\n")
    with pytest.raises(InputError, match="three"):
        profile_of(str(bad))
    with pytest.raises(InputError, match="amplitude"):
        profile_of("sinusoid:1.5")


def test_autoscaled_replicas_follow_the_load_within_the_peak_fleet() -> None:
    policy = Autoscale(min_replicas=2, headroom=0.0)
    rates = [1.0, 5.0, 9.5, 10.0, 30.0]
    assert autoscaled_replicas(rates, 1.0, policy, most=12) == [2, 5, 10, 10, 12]
    # DeepSeek's day: a peak of 278 nodes and 226.75 on average is a ratio of 0.82; a
    # fleet that follows a sinusoid a above its mean averages 1 / (1 + a) of its peak.
    for amplitude in (0.0, 0.22, 0.5):
        rates = list(Profile.sinusoid(amplitude).hourly)
        nodes = autoscaled_replicas(rates, max(rates) / 278, Autoscale(headroom=0.0), 278)
        assert np.mean(nodes) / max(nodes) == pytest.approx(1 / (1 + amplitude), abs=0.01)


@cache
def planned(profile: str | tuple[float, ...], **more: float) -> dict:
    shape = list(profile) if isinstance(profile, tuple) else profile
    return infercost.plan(**QUESTION, profile=shape, **more).to_dict()


def test_the_day_fixed_and_autoscaled() -> None:
    doc = planned("diurnal")
    fixed, auto = doc["fixed"], doc["autoscaled"]
    for policy in (fixed, auto):
        assert {
            "usd_per_day",
            "replicas_peak",
            "replicas_mean",
            "intervals_missed",
        } <= policy.keys()
        assert len(policy["hours"]) == 24
    assert fixed["replicas_peak"] == fixed["replicas_mean"] == doc["best"]["replicas"]
    assert fixed["intervals_missed"] == []
    assert auto["usd_per_day"] <= fixed["usd_per_day"]
    assert auto["replicas_peak"] <= fixed["replicas_peak"]
    # The plan's rate is the profile's peak hour; its cost is spread over the day's mean.
    assert doc["question"]["peak_to_average"] == pytest.approx(doc["profile"]["peak_to_average"])
    rates = [h["rate_per_s"] for h in fixed["hours"]]
    assert np.mean(rates) == pytest.approx(25.0)


def test_a_flat_day_autoscales_to_the_fixed_fleet() -> None:
    doc = planned("sinusoid:0", headroom=0.0)
    assert doc["autoscaled"]["hours"] == doc["fixed"]["hours"]


def test_a_sudden_peak_is_missed_while_new_replicas_start() -> None:
    spike = [1.0] * 24
    spike[12] = 6.0
    slow = planned(tuple(spike), scale_up_delay=600.0)
    assert 12 in slow["autoscaled"]["intervals_missed"]
    cold = slow["autoscaled"]["hours"][12]
    assert cold["cold_start_met"] is False
    assert any("cold start" in m for m in cold["misses"])
    instant = planned(tuple(spike), scale_up_delay=0.0)
    assert 12 not in instant["autoscaled"]["intervals_missed"]


def test_autoscaling_options_need_a_profile() -> None:
    with pytest.raises(InputError, match="give a profile"):
        infercost.plan(**QUESTION, headroom=0.2)
    with pytest.raises(InputError, match="profile sets"):
        infercost.plan(**QUESTION, profile="diurnal", peak_to_average=2.0)
