"""Cost per GPU-hour (rented or owned) and what a fleet costs per day, query and token."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infercost.catalog.hardware import Server
from infercost.catalog.prices import OwnerInputs
from infercost.cost.fleet import FleetCost
from infercost.cost.gpu_hour import GpuHourCost, capital_recovery_factor, own, rent
from infercost.errors import InputError

DGX_A100 = Server(
    id="test-dgx-a100",
    name="8x A100 test server",
    accelerator="a100-80gb",
    accelerators_per_server=8,
    intra_node_bandwidth_bytes_per_s=300e9,
    scale_out_bandwidth_bytes_per_s=25e9,
    power_w=6500,
    price_usd=199_000,
    source="test",
    as_of="2026-01",
)


def _owner(cost_of_capital: float = 0.0) -> OwnerInputs:
    return OwnerInputs(
        id="test-owner",
        depreciation_years=4,
        cost_of_capital=cost_of_capital,
        networking_share=0.15,
        pue=1.2,
        usd_per_kwh=0.08,
        facility_usd_per_kw_month=150,
        power_utilisation=0.7,
        source="test",
        as_of="2026-01",
    )


def _fleet(gpus: float, rate: GpuHourCost, **kw: float) -> FleetCost:
    args = {
        "queries_per_day": 195e6,
        "input_tokens_per_day": 195e6 * 1000,
        "output_tokens_per_day": 195e6 * 500,
        "prefill_time_share": 0.25,
        "watts_per_gpu": 400.0,
        "power_utilisation": 0.7,
        "pue": 1.2,
    }
    args.update(kw)
    return FleetCost(gpus=gpus, rate=rate, **args)


# --- rent ------------------------------------------------------------------------------------


def test_rent_fleet_per_day_by_hand() -> None:
    # 28,936 GPUs * 24 h * $1.00 = $694,464 a day
    assert _fleet(28_936, rent(1.0)).usd_per_day == pytest.approx(694_464)


def test_rent_per_query_and_per_token_by_hand() -> None:
    # $694,464 / 195,000,000 queries = $0.0035614 a query
    # output: 195e6 * 500 = 97.5e9 tokens -> $694,464 / 97,500 M = $7.1227 per M
    # all tokens: 195e6 * 1500 = 292.5e9 -> $694,464 / 292,500 M = $2.3742 per M
    cost = _fleet(28_936, rent(1.0))
    assert cost.usd_per_query == pytest.approx(0.0035614, rel=1e-4)
    assert cost.usd_per_million_output_tokens == pytest.approx(7.1227, rel=1e-4)
    assert cost.usd_per_million_tokens == pytest.approx(2.3742, rel=1e-4)


def test_attributed_split_by_prefill_share_by_hand() -> None:
    # 25 % of $694,464 = $173,616 to 195e9 input tokens -> $0.89034 per M
    # 75 % = $520,848 to 97.5e9 output tokens -> $5.3420 per M
    cost = _fleet(28_936, rent(1.0))
    assert cost.usd_per_million_input_tokens_attributed == pytest.approx(0.89034, rel=1e-4)
    assert cost.usd_per_million_output_tokens_attributed == pytest.approx(5.3420, rel=1e-4)


def test_no_input_tokens_has_no_input_price() -> None:
    cost = _fleet(8, rent(2.0), input_tokens_per_day=0.0)
    assert cost.usd_per_million_input_tokens_attributed is None


@pytest.mark.parametrize("price", [0.0, -1.0])
def test_rent_must_be_positive(price: float) -> None:
    with pytest.raises(InputError) as err:
        rent(price)
    assert err.value.field == "cost.usd_per_gpu_hour"


# --- capital recovery ------------------------------------------------------------------------


@pytest.mark.parametrize("years", [1, 3, 4, 5.5])
def test_crf_at_zero_rate_is_straight_line(years: float) -> None:
    assert capital_recovery_factor(0.0, years) == pytest.approx(1 / years)


def test_crf_at_8_percent_over_4_years_by_hand() -> None:
    # 1.08^4 = 1.36048896
    # 0.08 * 1.36048896 / 0.36048896 = 0.108839117 / 0.36048896 = 0.30192
    assert capital_recovery_factor(0.08, 4) == pytest.approx(0.30192, abs=1e-5)


def test_crf_bad_inputs_name_fields() -> None:
    with pytest.raises(InputError) as err:
        capital_recovery_factor(0.08, 0)
    assert err.value.field == "cost.depreciation_years"
    with pytest.raises(InputError) as err:
        capital_recovery_factor(-0.01, 4)
    assert err.value.field == "cost.cost_of_capital"


# --- own -------------------------------------------------------------------------------------


def test_own_a100_server_by_hand() -> None:
    # capital:  $199,000 / 8 GPUs = $24,875 a GPU / 4 years (0 % capital)
    #           = $6,218.75 a year / 8,760 h = $0.709903 an hour
    # network:  15 % of that: $0.106485 an hour (capex in all $0.816388)
    # power:    6,500 W / 8 = 812.5 W = 0.8125 kW * 0.7 use * 1.2 PUE = 0.6825 kW
    #           * $0.08/kWh = $0.0546 an hour
    # facility: 0.8125 kW * $150/kW-month * 12 = $1,462.50 a year / 8,760 h = $0.166952
    # total:    0.816388 + 0.0546 + 0.166952 = $1.037940 a GPU-hour
    cost = own(DGX_A100, _owner())
    assert cost.mode == "own"
    assert cost.capital_usd == pytest.approx(0.709903, rel=1e-5)
    assert cost.networking_usd == pytest.approx(0.106485, rel=1e-5)
    assert cost.power_usd == pytest.approx(0.0546, rel=1e-6)
    assert cost.facility_usd == pytest.approx(0.166952, rel=1e-5)
    assert cost.usd_per_gpu_hour == pytest.approx(1.037940, rel=1e-5)


def test_own_with_8_percent_capital_by_hand() -> None:
    # capex: $28,606.25 a GPU * CRF 0.3019208 = $8,636.82 a year / 8,760 h = $0.985939,
    # of which networking is 0.15 / 1.15 = $0.128601
    cost = own(DGX_A100, _owner(cost_of_capital=0.08))
    assert cost.capital_usd + cost.networking_usd == pytest.approx(0.985939, rel=1e-5)
    assert cost.networking_usd == pytest.approx(0.128601, rel=1e-5)
    assert cost.power_usd == pytest.approx(0.0546, rel=1e-6)


def test_own_price_override() -> None:
    # half the price, half the capex: 0.816388 / 2 = 0.408194
    cost = own(DGX_A100, _owner(), server_price_usd=99_500)
    assert cost.capital_usd + cost.networking_usd == pytest.approx(0.408194, rel=1e-5)


def test_own_rejects_non_positive_price() -> None:
    with pytest.raises(InputError) as err:
        own(DGX_A100, _owner(), server_price_usd=0)
    assert err.value.field == "cost.server_price_usd"


# --- energy ----------------------------------------------------------------------------------


def test_energy_per_query_by_hand() -> None:
    # 8 GPUs * 400 W * 0.7 use * 1.2 PUE = 2,688 W; * 24 h = 64,512 Wh a day
    # / 10,000 queries a day = 6.4512 Wh a query
    cost = _fleet(8, rent(2.0), queries_per_day=10_000)
    assert cost.energy_wh_per_query == pytest.approx(6.4512)


# --- invariants ------------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(
    gpus=st.integers(1, 1_000_000),
    price=st.floats(0.01, 100.0),
    factor=st.floats(0.1, 10.0),
)
def test_usd_per_day_linear_in_price_and_gpus(gpus: int, price: float, factor: float) -> None:
    base = _fleet(gpus, rent(price)).usd_per_day
    assert _fleet(gpus * 2, rent(price)).usd_per_day == pytest.approx(2 * base)
    assert _fleet(gpus, rent(price * 2)).usd_per_day == pytest.approx(2 * base)
    assert _fleet(gpus, rent(price * factor)).usd_per_day == pytest.approx(factor * base)


@settings(max_examples=50, deadline=None)
@given(
    gpus=st.integers(1, 100_000),
    price=st.floats(0.01, 100.0),
    share=st.floats(0.0, 1.0),
    input_tokens=st.floats(1.0, 1e12),
    output_tokens=st.floats(1.0, 1e12),
)
def test_attributed_costs_add_up_to_the_day(
    gpus: int, price: float, share: float, input_tokens: float, output_tokens: float
) -> None:
    cost = _fleet(
        gpus,
        rent(price),
        input_tokens_per_day=input_tokens,
        output_tokens_per_day=output_tokens,
        prefill_time_share=share,
    )
    in_rate = cost.usd_per_million_input_tokens_attributed
    assert in_rate is not None
    paid = in_rate * input_tokens / 1e6
    paid += cost.usd_per_million_output_tokens_attributed * output_tokens / 1e6
    assert paid == pytest.approx(cost.usd_per_day)
