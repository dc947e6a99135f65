"""`reproduce --samples`: ranges sampled through the same pipeline as the point estimate.

The oracle is always the point pipeline itself (`reproduce` with `--set`), never a formula
written again here.
"""

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scenario_files import own_scenario, write

import infercost
from infercost.errors import InputError
from infercost.scenario.loader import load

CHATGPT_RANGES = {
    "workload.queries_per_user_per_day",
    "workload.output_tokens",
    "workload.target_utilisation",
    "serving.concurrency",
    "cost.usd_per_gpu_hour",
}


def numeric(computed: dict[str, Any]) -> dict[str, float]:
    return {
        k: v for k, v in computed.items() if isinstance(v, int | float) and not isinstance(v, bool)
    }


def degenerate(scenario: str, paths: list[str], triangular: bool = False) -> list[str]:
    """--range PATH=V:V (or V:V:V) for each path, at the scenario's own value."""
    inputs = load(scenario).inputs.model_dump()
    out = []
    for path in paths:
        value: Any = inputs
        for part in path.split("."):
            value = value[part]
        out.append(f"{path}={value!r}:{value!r}" + (f":{value!r}" if triangular else ""))
    return out


@pytest.mark.parametrize(
    ("scenario", "paths"),
    [
        ("chatgpt-2023", sorted(CHATGPT_RANGES)),
        ("search-2023", ["workload.queries_per_second", "cost.usd_per_gpu_hour"]),
        # an input of the configuration (resolved once per value) and a disaggregated
        # deployment (one sample at a time)
        ("chatgpt-2023", ["efficiency.compute", "workload.output_tokens"]),
        ("deepseek-2025", ["workload.output_tokens_per_day", "cost.usd_per_gpu_hour"]),
    ],
)
def test_degenerate_ranges_give_the_point_estimate_exactly(scenario, paths):
    point = infercost.reproduce(scenario=scenario)
    paths = sorted({*paths, *load(scenario).ranges})  # the file's own ranges too
    for triangular in (False, True):
        sampled = infercost.reproduce(
            scenario=scenario, samples=64, range=degenerate(scenario, paths, triangular)
        )
        doc = sampled.to_dict()
        assert doc["computed"] == point.computed
        figures = numeric(point.computed)
        assert set(doc["quantiles"]) == set(figures)  # every figure has its quantiles
        for key, value in figures.items():
            q = doc["quantiles"][key]
            assert q["p10"] == q["p50"] == q["p90"] == value, key
            assert doc["uncertainty"]["mean"][key] == pytest.approx(value, rel=1e-15), key
        assert all(row["swing"] == 0 for row in doc["tornado"])


def test_each_sample_is_what_the_point_pipeline_gives_for_its_inputs():
    result = infercost.reproduce(scenario="chatgpt-2023", samples=500, seed=4)
    u = result.sampled.uncertainty
    for i in (0, 17, 123, 499):
        sets = [f"{p}={int(v) if p == 'serving.concurrency' else float(v)!r}" for p, v in
                ((p, u.draws[p][i]) for p in sorted(u.draws))]  # fmt: skip
        one = infercost.reproduce(scenario="chatgpt-2023", set=sets)
        for key, value in numeric(one.computed).items():
            assert u.outputs[key][i] == value, (key, i)


def test_a_monotone_output_follows_a_monotone_input_quantile_by_quantile():
    """Queries per user up, $/day never down. With 1,001 samples the P10, P50 and P90 are
    the 101st, 501st and 901st order statistics, so each quantile of $/day is $/day at that
    quantile of the input, read from the point pipeline."""
    path = "workload.queries_per_user_per_day"
    result = infercost.reproduce(
        scenario="chatgpt-2023", samples=1001, seed=2, range=[f"{path}=5:40"]
    )
    u = result.sampled.uncertainty
    assert list(u.inputs) == sorted(CHATGPT_RANGES)  # the file's other ranges are sampled too
    only = infercost.reproduce(
        scenario="chatgpt-2023",
        samples=1001,
        seed=2,
        range=[f"{path}=5:40", *degenerate("chatgpt-2023", sorted(CHATGPT_RANGES - {path}))],
    )
    q_in = {k: float(np.quantile(only.sampled.uncertainty.draws[path], p))
            for k, p in (("p10", 0.1), ("p50", 0.5), ("p90", 0.9))}  # fmt: skip
    q_out = only.to_dict()["quantiles"]["usd_per_day"]
    for name, x in q_in.items():
        at = infercost.reproduce(scenario="chatgpt-2023", set=[f"{path}={x!r}"])
        assert q_out[name] == at.computed["usd_per_day"], name
    assert q_out["p10"] < q_out["p50"] < q_out["p90"]
    shifted = infercost.reproduce(
        scenario="chatgpt-2023", samples=1001, seed=2, range=[f"{path}=6:41"]
    ).to_dict()["quantiles"]
    before = result.to_dict()["quantiles"]
    for key in ("usd_per_day", "gpus", "queries_per_day"):  # each sample's input moved up
        for name in ("p10", "p50", "p90"):
            assert shifted[key][name] >= before[key][name], (key, name)


def test_the_tornado_ranks_price_above_a_small_traffic_change():
    """$/day is the fleet's GPUs × 24 h × $/GPU-hour. The fleet at the point is 28,944 GPUs
    (3,618 servers of 8); with the price uniform on [1, 3] its P10 and P90 are $1.20 and
    $2.80, so by hand $/day goes from 28,944 × 24 × 1.2 = $833,587.20 to 28,944 × 24 × 2.8 =
    $1,945,036.80. Daily users ±3 % move the fleet (and $/day) by about ±2.4 %: a far smaller
    swing, ranked second."""
    others = sorted(CHATGPT_RANGES - {"cost.usd_per_gpu_hour"})
    result = infercost.reproduce(
        scenario="chatgpt-2023",
        samples=4000,
        range=["cost.usd_per_gpu_hour=1:3", "workload.daily_users=12.6e6:13.4e6"],
        set=[r.rsplit(":", 1)[0] for r in degenerate("chatgpt-2023", others)],
    )  # the file's other ranges pinned at their points
    assert result.sampled.ranges.pinned == tuple(others)
    assert result.computed["gpus"] == 28_944
    price, users = result.sampled.uncertainty.tornado[:2]
    assert price.input == "cost.usd_per_gpu_hour"
    assert (price.low, price.high) == pytest.approx((833_587.2, 1_945_036.8))
    assert price.swing == pytest.approx(1_111_449.6)
    assert users.input == "workload.daily_users"
    assert users.low < result.computed["usd_per_day"] < users.high
    assert users.swing < 0.06 * result.computed["usd_per_day"]
    assert price.variance_share > users.variance_share


def test_chatgpt_ranges_load_with_a_declared_source_for_every_bound():
    s = load("chatgpt-2023")
    assert set(s.ranges) == CHATGPT_RANGES
    declared = {src.id: src for src in s.sources}
    for path, r in s.ranges.items():
        assert r.note
        for bound, source in r.sources.items():
            assert source == "infercost" or source in declared, (path, bound)
            if source != "infercost":
                assert declared[source].url.startswith("https://")
    answer = s.ranges["workload.output_tokens"]
    assert (answer.low, answer.mode, answer.high) == (350, 2000, 2000)
    assert answer.sources["low"] == "semianalysis-followup-2023"
    assert s.ranges["cost.usd_per_gpu_hour"].sources["high"] == "goldstein-2022"
    assert s.ranges["workload.target_utilisation"].sources["high"] == "deepseek-2025"
    assert "default" in s.ranges["workload.queries_per_user_per_day"].note


def test_a_set_pins_a_ranged_input():
    result = infercost.reproduce(
        scenario="chatgpt-2023", samples=200, set=["workload.output_tokens=350"]
    )
    doc = result.to_dict()
    assert doc["uncertainty"]["pinned"] == ["workload.output_tokens"]
    assert "workload.output_tokens" not in doc["uncertainty"]["inputs"]
    with pytest.raises(InputError, match="also given by --set"):
        infercost.reproduce(
            scenario="chatgpt-2023",
            samples=10,
            set=["workload.output_tokens=350"],
            range=["workload.output_tokens=300:400"],
        )


BAD_RANGES = [
    ({"workload.output_tokens": {"low": 300, "high": 100, "source": "logs", "note": "x"}},
     "ranges.workload.output_tokens", "low (300) must be ≤ high (100)"),
    ({"workload.output_tokens": {"low": 100, "mode": 900, "high": 400, "source": "logs",
                                 "note": "x"}}, "ranges.workload.output_tokens", "mode (900)"),
    ({"workload.output_tokens": {"low": 100, "median": 200, "source": "logs", "note": "x"}},
     "ranges.workload.output_tokens", "give {low, high}"),
    ({"workload.output_tokens": {"median": 200, "p90": 100, "source": "logs", "note": "x"}},
     "ranges.workload.output_tokens", "must be > the median"),
    ({"workload.outputs": {"low": 1, "high": 2, "source": "logs", "note": "x"}},
     "ranges.workload.outputs", "unknown field 'outputs'"),
    ({"model.name": {"low": 1, "high": 2, "source": "logs", "note": "x"}},
     "ranges.model.name", "is not a number"),
    ({"workload.daily_users": {"low": 1, "high": 2, "source": "logs", "note": "x"}},
     "ranges.workload.daily_users", "leaves unset"),
    ({"workload.target_utilisation": {"low": 0.5, "high": 1.2, "source": "logs", "note": "x"}},
     "ranges.workload.target_utilisation.high", "must be > 0 and ≤ 1, got 1.2"),
    ({"workload.target_utilisation": {"median": 0.5, "p90": 0.8, "source": "logs",
                                      "note": "x"}},
     "ranges.workload.target_utilisation", "a lognormal with median 0.5"),
    ({"workload.output_tokens": {"low": 100, "high": 400, "source": "blog", "note": "x"}},
     "ranges.workload.output_tokens.source", "'blog' (high) is not a declared source"),
    ({"workload.output_tokens": {"low": 100, "high": 400, "source": "infercost",
                                 "note": "a guess"}},
     "ranges.workload.output_tokens.note", "must say whether it is a default"),
    ({"workload.output_tokens": {"low": 100, "high": 400, "source": {"low": "logs"},
                                 "note": "x"}},
     "ranges.workload.output_tokens", "one per bound"),
]  # fmt: skip


@pytest.mark.parametrize(("ranges", "field", "message"), BAD_RANGES)
def test_a_bad_range_in_a_file_is_one_error_naming_it(tmp_path: Path, ranges, field, message):
    path = write(tmp_path, own_scenario(ranges=ranges))
    with pytest.raises(InputError) as err:
        load(path)
    assert err.value.field == field
    assert message in err.value.message


def test_a_good_range_in_a_file_is_sampled(tmp_path: Path):
    ranges = {"workload.output_tokens": {"median": 200, "p90": 600, "source": "logs",
                                         "note": "answer lengths in our logs"}}  # fmt: skip
    path = write(tmp_path, own_scenario(ranges=ranges))
    doc = infercost.reproduce(scenario=path, samples=2000).to_dict()
    q = doc["quantiles"]["usd_per_million_output_tokens"]
    assert q["p10"] <= q["p50"] <= q["p90"]
    assert doc["uncertainty"]["headline"] == "usd_per_day"  # nothing published: the default
    assert doc["uncertainty"]["inputs"]["workload.output_tokens"]["sources"] == {
        "median": "logs",
        "p90": "logs",
    }


def test_a_scenario_without_ranges_has_nothing_to_sample(tmp_path: Path):
    with pytest.raises(InputError, match="no ranges to sample"):
        infercost.reproduce(scenario=write(tmp_path, own_scenario()), samples=10)


def test_samples_that_do_not_fit_are_counted_in_the_error():
    with pytest.raises(InputError, match=r"of 1,000 samples\)"):
        infercost.reproduce(
            scenario="chatgpt-2023", samples=1000, range=["serving.concurrency=120:200"]
        )


def test_an_input_written_as_a_range_is_its_point_and_a_range(tmp_path: Path):
    """`output_tokens: {low, high}` inline is the same scenario as the midpoint with a
    `ranges:` entry; the range cites the input's provenance unless it names its own."""
    inline = own_scenario()
    inline["inputs"]["workload"]["output_tokens"] = {"low": 100, "high": 400}
    inline["inputs"]["cost"]["usd_per_gpu_hour"] = {
        "low": 2.0, "mode": 2.5, "high": 4.0, "source": "invoice", "note": "reserved to list"
    }  # fmt: skip
    block = own_scenario(
        ranges={
            "workload.output_tokens": {"low": 100, "high": 400, "source": "logs",
                                       "note": "the range given at inputs.workload.output_tokens"},
            "cost.usd_per_gpu_hour": {"low": 2.0, "mode": 2.5, "high": 4.0, "source": "invoice",
                                      "note": "reserved to list"},
        }
    )  # fmt: skip
    block["inputs"]["workload"]["output_tokens"] = 250  # the midpoint
    a, b = load(write(tmp_path, inline, "a.yaml")), load(write(tmp_path, block, "b.yaml"))
    assert a.inputs == b.inputs
    assert a.ranges == b.ranges
    one = infercost.reproduce(scenario=write(tmp_path, inline, "a.yaml"), samples=500, seed=3)
    two = infercost.reproduce(scenario=write(tmp_path, block, "b.yaml"), samples=500, seed=3)
    assert one.to_dict()["quantiles"] == two.to_dict()["quantiles"]


def test_an_inline_range_given_twice_or_without_numbers_is_refused(tmp_path: Path):
    doc = own_scenario(
        ranges={"workload.output_tokens": {"low": 1, "high": 2, "source": "logs", "note": "x"}}
    )
    doc["inputs"]["workload"]["output_tokens"] = {"low": 100, "high": 300}
    with pytest.raises(InputError, match="give it once") as err:
        load(write(tmp_path, doc))
    assert err.value.field == "inputs.workload.output_tokens"
    doc = own_scenario()
    doc["inputs"]["workload"]["output_tokens"] = {"low": "short", "high": 300}
    with pytest.raises(InputError, match="with numbers"):
        load(write(tmp_path, doc))
