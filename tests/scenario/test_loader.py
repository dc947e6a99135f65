"""Reading scenario files: a user's own file, provenance, `base:`, `--set`, and bad input.

Every mistake in a scenario file or an override ends in one `InputError` that names the
field, never in a pydantic traceback.
"""

from pathlib import Path

import pytest
from scenario_files import own_scenario, write

from infercost.errors import InputError
from infercost.perf.calibration import FITTED
from infercost.perf.deployment import Efficiency
from infercost.scenario.engine import run
from infercost.scenario.loader import load


def test_own_scenario_runs(tmp_path: Path) -> None:
    result = run(load(write(tmp_path, own_scenario())))
    c = result.computed
    assert c["gpus"] >= 1
    assert c["queries_per_day"] == pytest.approx(10 * 86_400)
    assert c["usd_per_day"] == pytest.approx(c["gpus"] * 24 * 2.5)  # cost is linear in hours
    assert c["usd_per_query"] > 0
    assert result.calibration() is None
    from_files = ("calibration.yaml", "engines.yaml")
    stated = {a["path"] for a in result.assumptions() if a["source"] not in from_files}
    assert stated == set(own_scenario()["provenance"])
    fitted = {a["path"] for a in result.assumptions() if a["basis"] == "calibrated"}
    assert fitted == {f"efficiency.{name}" for name in FITTED}
    engine = {a["path"] for a in result.assumptions() if a["source"] == "engines.yaml"}
    assert engine == {"efficiency.memory_reserve_fraction", "efficiency.max_batched_tokens"}


def test_own_scenario_without_calibration_uses_perf_defaults(tmp_path: Path) -> None:
    result = run(load(write(tmp_path, own_scenario())), calibration=None)
    defaults = Efficiency()
    assert result.details["efficiency"]["calibration_group"] == "default"
    for name in FITTED:
        assert result.details["efficiency"][name] == getattr(defaults, name)


def test_stated_efficiency_wins_over_calibration(tmp_path: Path) -> None:
    doc = own_scenario()
    doc["inputs"]["efficiency"] = {"compute": 0.33}
    doc["provenance"]["efficiency.compute"] = {"basis": "stated", "source": "design-doc"}
    result = run(load(write(tmp_path, doc)))
    assert result.details["efficiency"]["compute"] == 0.33
    assert result.details["efficiency"]["calibration_group"] != "default"


def test_own_scenario_cost_is_linear_in_price(tmp_path: Path) -> None:
    path = write(tmp_path, own_scenario())
    cheap = run(load(path)).computed
    dear = run(load(path, ["cost.usd_per_gpu_hour=5"])).computed
    assert dear["gpus"] == cheap["gpus"]
    assert dear["usd_per_day"] == pytest.approx(2 * cheap["usd_per_day"])


def test_missing_provenance_names_the_input(tmp_path: Path) -> None:
    doc = own_scenario()
    del doc["provenance"]["hardware.gpu"]
    with pytest.raises(InputError, match="provenance") as info:
        load(write(tmp_path, doc))
    assert info.value.field == "inputs.hardware.gpu"


def test_provenance_of_a_parent_covers_its_leaves(tmp_path: Path) -> None:
    doc = own_scenario()
    for key in ("queries_per_second", "input_tokens", "output_tokens"):
        del doc["provenance"][f"workload.{key}"]
    doc["provenance"]["workload"] = {"basis": "stated", "source": "logs"}
    assert load(write(tmp_path, doc)).inputs.workload.queries_per_second == 10


def test_two_calibrated_inputs_are_refused(tmp_path: Path) -> None:
    doc = own_scenario()
    doc["inputs"]["serving"] = {"concurrency": 32}
    doc["provenance"]["serving.concurrency"] = {"basis": "calibrated", "source": "infercost"}
    doc["provenance"]["workload.input_tokens"] = {"basis": "calibrated", "source": "infercost"}
    with pytest.raises(InputError, match="at most one calibrated"):
        load(write(tmp_path, doc))


def test_unknown_key_in_inputs_names_the_field(tmp_path: Path) -> None:
    doc = own_scenario()
    doc["inputs"]["workload"]["daly_users"] = 5
    doc["provenance"]["workload.daly_users"] = {"basis": "stated", "source": "logs"}
    with pytest.raises(InputError) as info:
        load(write(tmp_path, doc))
    assert info.value.field == "inputs.workload.daly_users"


def test_unknown_basis_is_refused(tmp_path: Path) -> None:
    doc = own_scenario()
    doc["provenance"]["hardware.gpu"]["basis"] = "guessed"
    with pytest.raises(InputError) as info:
        load(write(tmp_path, doc))
    assert info.value.field == "provenance.hardware.gpu.basis"


def test_malformed_yaml(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("scenario: broken\ninputs: [1,\n")
    with pytest.raises(InputError, match="malformed YAML"):
        load(str(path))


def test_a_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(InputError, match="mapping"):
        load(str(path))


def test_unknown_scenario_name_suggests_builtins() -> None:
    with pytest.raises(InputError, match="chatgpt-2023"):
        load("chatgpt-2032")


def test_base_inheritance(tmp_path: Path) -> None:
    child = {
        "scenario": "chatgpt-on-h100",
        "title": "ChatGPT 2023 on H100",
        "base": "chatgpt-2023",
        "inputs": {"hardware": {"gpu": "h100-sxm", "server": "hgx-h100"}},
        "provenance": {
            "hardware.gpu": {"basis": "override", "source": "infercost"},
            "hardware.server": {"basis": "override", "source": "infercost"},
        },
    }
    scenario = load(write(tmp_path, child))
    base = load("chatgpt-2023")
    assert scenario.inputs.hardware.gpu == "h100-sxm"
    assert scenario.inputs.workload == base.inputs.workload  # inherited
    assert scenario.inputs.model == base.inputs.model
    assert scenario.provenance["workload.daily_users"] == base.provenance["workload.daily_users"]
    assert scenario.provenance["hardware.gpu"].source == "infercost"
    assert scenario.calibrated_path == "serving.concurrency"
    assert run(scenario).computed["gpus"] < run(base).computed["gpus"]


def test_base_can_clear_an_input(tmp_path: Path) -> None:
    child = {
        "scenario": "chatgpt-at-qps",
        "title": "ChatGPT at a fixed rate",
        "base": "chatgpt-2023",
        "inputs": {
            "workload": {
                "daily_users": None,
                "queries_per_user_per_day": None,
                "queries_per_second": 1000,
            }
        },
        "provenance": {"workload.queries_per_second": {"basis": "stated", "source": "infercost"}},
    }
    scenario = load(write(tmp_path, child))
    assert scenario.inputs.workload.daily_users is None
    assert "workload.daily_users" not in scenario.provenance


def test_unknown_set_path_lists_allowed_keys() -> None:
    with pytest.raises(InputError) as info:
        load("chatgpt-2023", ["workload.nope=1"])
    assert "nope" in str(info.value)
    assert "allowed" in info.value.message
    assert "queries_per_second" in info.value.message
    assert "daily_users" in info.value.message


def test_unknown_top_level_set_path() -> None:
    with pytest.raises(InputError, match=r"allowed: .*workload"):
        load("chatgpt-2023", ["wrkload.daily_users=1"])


def test_set_below_a_leaf_is_refused() -> None:
    with pytest.raises(InputError, match="leaf"):
        load("chatgpt-2023", ["serving.concurrency.x=1"])


def test_set_without_equals_sign() -> None:
    with pytest.raises(InputError, match="PATH=VALUE"):
        load("chatgpt-2023", ["workload.daily_users"])


def test_set_with_inputs_prefix() -> None:
    scenario = load("chatgpt-2023", ["inputs.workload.daily_users=1e6"])
    assert scenario.inputs.workload.daily_users == 1e6


def test_wrong_type_via_set_names_the_field() -> None:
    with pytest.raises(InputError) as info:
        load("chatgpt-2023", ["workload.daily_users=abc"])
    assert info.value.field == "inputs.workload.daily_users"


@pytest.mark.parametrize(
    "override",
    [
        "workload.daily_users=0",
        "workload.daily_users=-13e6",
        "workload.queries_per_user_per_day=0",
        "workload.queries_per_user_per_day=-1",
    ],
)
def test_zero_or_negative_users_are_refused(override: str) -> None:
    with pytest.raises(InputError) as info:
        load("chatgpt-2023", [override])
    assert info.value.field == "inputs." + override.split("=")[0]


@pytest.mark.parametrize("qps", [0, -10])
def test_zero_or_negative_rate_is_refused(tmp_path: Path, qps: float) -> None:
    doc = own_scenario()
    doc["inputs"]["workload"]["queries_per_second"] = qps
    with pytest.raises(InputError) as info:
        load(write(tmp_path, doc))
    assert info.value.field == "inputs.workload.queries_per_second"


def test_two_traffic_volumes_are_refused() -> None:
    with pytest.raises(InputError, match="exactly one volume"):
        load("chatgpt-2023", ["workload.queries_per_second=10"])


def test_serving_engine_picks_its_calibrated_group(tmp_path: Path) -> None:
    doc = own_scenario()
    doc["inputs"]["serving"] = {"engine": "vllm"}
    doc["provenance"]["serving.engine"] = {"basis": "stated", "source": "design-doc"}
    result = run(load(write(tmp_path, doc)))
    assert result.details["efficiency"]["calibration_group"].startswith("vllm")


def test_unknown_serving_engine_is_named(tmp_path: Path) -> None:
    doc = own_scenario()
    doc["inputs"]["serving"] = {"engine": "warp-drive"}
    doc["provenance"]["serving.engine"] = {"basis": "stated", "source": "design-doc"}
    with pytest.raises(InputError, match=r"serving\.engine.*warp-drive"):
        run(load(write(tmp_path, doc)))


def test_a_builtin_name_is_the_builtin_whatever_the_working_folder_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file named like a built-in scenario in the working folder (the web app's, say) is
    not read in its place, nor through `base:`; `./NAME` still reads the file."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "chatgpt-2023").write_text("not: [a scenario\n", encoding="utf-8")
    assert load("chatgpt-2023").scenario == "chatgpt-2023"
    assert load("chatgpt-2023-today").scenario == "chatgpt-2023-today"  # base: chatgpt-2023
    with pytest.raises(InputError, match="YAML"):
        load("./chatgpt-2023")


def test_athena_is_the_owned_fleet_with_a_third_off_its_capex() -> None:
    """chatgpt-2023's athena variant against its owned one: the same fleet, capex × 2/3, so
    the capital and networking parts of the GPU-hour drop by exactly a third and nothing
    else moves (power and facility are the A100's: no Athena figure was published)."""
    from infercost.api import reproduce

    owned = reproduce(scenario="chatgpt-2023", variant="owned").to_dict()
    athena = reproduce(scenario="chatgpt-2023", variant="athena").to_dict()
    assert athena["computed"]["gpus"] == owned["computed"]["gpus"]
    a, o = athena["details"]["gpu_hour"], owned["details"]["gpu_hour"]
    assert a["capital_usd"] == pytest.approx(o["capital_usd"] * 2 / 3, rel=1e-6)
    assert a["networking_usd"] == pytest.approx(o["networking_usd"] * 2 / 3, rel=1e-6)
    assert (a["power_usd"], a["facility_usd"]) == (o["power_usd"], o["facility_usd"])
    assert "athena" in athena["scenario"]["title"]
    sources = {x["path"]: x["source"] for x in athena["assumptions"]}
    assert sources["cost.server_price_usd"] == "athena-2023"


def test_a_variant_and_set_together_are_refused() -> None:
    from infercost.api import reproduce

    with pytest.raises(InputError, match="variant"):
        reproduce(scenario="chatgpt-2023", variant="athena", set=["workload.output_tokens=350"])
