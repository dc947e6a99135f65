"""Traffic and fleet sizing: users to queries/s, capacity to replicas, GPUs and servers."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infercost.errors import InputError
from infercost.workload.traffic import Traffic, size_fleet


def _traffic(**kw: float) -> Traffic:
    args = {"queries_per_s": 100.0, "input_tokens_per_query": 500, "output_tokens_per_query": 200}
    args.update(kw)
    return Traffic(**args)


def test_users_to_queries_per_second_by_hand() -> None:
    # 13,000,000 users * 15 queries/day = 195,000,000 queries/day
    # / 86,400 s = 2,256.94 queries/s
    t = Traffic.from_users(13e6, 15, input_tokens_per_query=500, output_tokens_per_query=200)
    assert t.queries_per_s == pytest.approx(2_256.94, abs=0.01)
    assert t.queries_per_day == pytest.approx(195e6)
    # tokens per day: 195e6 * 500 = 97.5e9 in, 195e6 * 200 = 39e9 out
    assert t.input_tokens_per_day == pytest.approx(97.5e9)
    assert t.output_tokens_per_day == pytest.approx(39e9)


def test_capacity_covers_peak_at_target_utilisation() -> None:
    # 100 q/s * peak 2 / utilisation 0.5 = 400 q/s
    t = _traffic(peak_to_average=2.0, target_utilisation=0.5)
    assert t.capacity_queries_per_s == pytest.approx(400.0)


def test_size_fleet_rounds_replicas_up() -> None:
    # 1,000 / 300 = 3.33 replicas -> 4; 4 * 2 GPUs = 8 GPUs -> 1 server of 8
    fleet = size_fleet(1_000, 300, 2, 8)
    assert fleet.replicas_exact == pytest.approx(3.3333, rel=1e-4)
    assert (fleet.replicas, fleet.gpus, fleet.servers) == (4, 8, 1)


def test_size_fleet_exact_multiple_does_not_add_a_replica() -> None:
    # 900 / 300 = 3 exactly; 0.3 / 0.1 is 2.9999999999999996 in floats and still means 3
    assert size_fleet(900, 300, 1, 8).replicas == 3
    assert size_fleet(0.3, 0.1, 1, 8).replicas == 3


def test_servers_round_up() -> None:
    # 9 replicas * 1 GPU = 9 GPUs -> ceil(9 / 8) = 2 servers
    fleet = size_fleet(9, 1, 1, 8)
    assert (fleet.gpus, fleet.servers) == (9, 2)
    # 5 replicas * 8 GPUs = 40 GPUs -> 5 servers exactly
    fleet = size_fleet(4.5, 1, 8, 8)
    assert (fleet.replicas, fleet.gpus, fleet.servers) == (5, 40, 5)
    assert fleet.gpus_exact == pytest.approx(36.0)


def test_size_fleet_rejects_zero_replica_throughput() -> None:
    with pytest.raises(InputError):
        size_fleet(100, 0, 1, 8)


# --- bad input names its field ---------------------------------------------------------------


@pytest.mark.parametrize("users", [0, -5])
def test_users_must_be_positive(users: float) -> None:
    with pytest.raises(InputError) as err:
        Traffic.from_users(users, 15, input_tokens_per_query=10, output_tokens_per_query=10)
    assert err.value.field == "workload.daily_users"


@pytest.mark.parametrize("queries", [0, -1])
def test_queries_per_user_must_be_positive(queries: float) -> None:
    with pytest.raises(InputError) as err:
        Traffic.from_users(1e6, queries, input_tokens_per_query=10, output_tokens_per_query=10)
    assert err.value.field == "workload.queries_per_user_per_day"


@pytest.mark.parametrize("output", [0, 0.5, -3])
def test_output_tokens_at_least_one(output: float) -> None:
    with pytest.raises(InputError) as err:
        _traffic(output_tokens_per_query=output)
    assert err.value.field == "workload.output_tokens"


@pytest.mark.parametrize("utilisation", [0.0, -0.2, 1.01, 2.0])
def test_utilisation_in_zero_one(utilisation: float) -> None:
    with pytest.raises(InputError) as err:
        _traffic(target_utilisation=utilisation)
    assert err.value.field == "workload.target_utilisation"


def test_utilisation_of_exactly_one_is_allowed() -> None:
    assert _traffic(target_utilisation=1.0).capacity_queries_per_s == pytest.approx(100.0)


@pytest.mark.parametrize(
    ("field", "kw"),
    [
        ("workload.queries_per_s", {"queries_per_s": 0.0}),
        ("workload.input_tokens", {"input_tokens_per_query": -1}),
        ("workload.peak_to_average", {"peak_to_average": 0.5}),
        ("workload.cached_input_fraction", {"cached_input_fraction": 1.0}),
    ],
)
def test_other_fields_named(field: str, kw: dict[str, float]) -> None:
    with pytest.raises(InputError) as err:
        _traffic(**kw)
    assert err.value.field == field


@pytest.mark.parametrize(
    "name", ["input_tokens_per_query", "output_tokens_per_query", "peak_to_average"]
)
def test_nan_is_rejected(name: str) -> None:
    with pytest.raises(InputError):
        _traffic(**{name: math.nan})


# --- invariant -------------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(
    qps=st.floats(0.01, 1e6),
    extra=st.floats(0.0, 1e6),
    per_replica=st.floats(0.01, 1e4),
    gpus_per_replica=st.sampled_from([1, 2, 4, 8, 16]),
    peak=st.floats(1.0, 5.0),
    utilisation=st.floats(0.05, 1.0),
)
def test_more_traffic_never_needs_fewer_gpus(
    qps: float,
    extra: float,
    per_replica: float,
    gpus_per_replica: int,
    peak: float,
    utilisation: float,
) -> None:
    kw = {"peak_to_average": peak, "target_utilisation": utilisation}
    less = _traffic(queries_per_s=qps, **kw).capacity_queries_per_s
    more = _traffic(queries_per_s=qps + extra, **kw).capacity_queries_per_s
    small = size_fleet(less, per_replica, gpus_per_replica, 8)
    big = size_fleet(more, per_replica, gpus_per_replica, 8)
    assert big.gpus >= small.gpus
    assert big.servers >= small.servers
    # and the fleet always covers the load it was sized for
    assert small.replicas * per_replica >= less * (1 - 1e-9)
