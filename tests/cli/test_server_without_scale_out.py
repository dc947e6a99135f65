"""A user's server with no scale-out bandwidth: a replica stays inside one server.

Before this was checked, a replica wider than such a server divided by its zero bandwidth
(estimate) and plan walked straight into the same division.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from test_cli import assert_user_error, invoke

GPU = {
    "id": "acme-x2", "name": "ACME X2", "vendor": "acme", "kind": "gpu", "memory_gb": 48,
    "memory_bandwidth_gb_per_s": 1000, "dense_tflops": {"bf16": 200}, "interconnect": "acme-link",
    "interconnect_gb_per_s": 100, "power_w": 300, "price_usd": 5000,
    "source": "https://acme.example/x2", "as_of": "2026-11",
}  # fmt: skip
SERVER = {
    "id": "acme-box", "name": "ACME box of 4", "accelerator": "acme-x2",
    "accelerators_per_server": 4, "intra_node_gb_per_s": 100, "power_w": 2000,
    "price_usd": 40000, "source": "https://acme.example/box", "as_of": "2026-11",
}  # fmt: skip


def _catalog(tmp_path: Path) -> str:
    (tmp_path / "gpus.yaml").write_text(yaml.safe_dump({"rows": [GPU]}))
    (tmp_path / "servers.yaml").write_text(yaml.safe_dump({"rows": [SERVER]}))
    return str(tmp_path)


def test_a_replica_wider_than_the_server_is_refused_naming_tp(tmp_path: Path) -> None:
    mine = _catalog(tmp_path)
    base = ("--catalog", mine, "estimate", "-m", "llama-3.1-70b", "-g", "acme-x2", "--precision",
            "int8", "--price", "1")  # fmt: skip
    inside = invoke(*base, "--tp", "4", "--json")
    assert inside.exit_code != 0 or json.loads(inside.stdout)  # fits or is refused, never a crash
    across = invoke(*base, "--tp", "8")
    assert_user_error(across, "tp", "scale-out")


def test_plan_keeps_replicas_inside_a_server_with_no_scale_out(tmp_path: Path) -> None:
    mine = _catalog(tmp_path)
    result = invoke("--catalog", mine, "plan", "-m", "llama-3.1-70b", "-g", "acme-x2", "--qps",
                    "2", "--price", "acme-x2=1", "--slo", "ttft_p99=5s,tpot_p99=200ms",
                    "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["best"]["gpus_per_replica"] == 4  # 141 GB of weights: 4 × 48 GB, one box
    widths = {c["gpus_per_replica"] for c in doc["candidates"]}
    assert widths
    assert max(widths) <= 4, widths


def test_a_replica_wider_than_a_pod_is_refused(tmp_path: Path) -> None:
    mine = _catalog(tmp_path)
    pod = {**SERVER, "scale_out_gb_per_s": 100, "pod_accelerators": 8}
    (tmp_path / "servers.yaml").write_text(yaml.safe_dump({"rows": [pod]}))
    base = ("--catalog", mine, "estimate", "-m", "llama-3.1-70b", "-g", "acme-x2", "--price", "1")
    assert invoke(*base, "--tp", "8", "--json").exit_code == 0  # two boxes, one pod
    assert_user_error(invoke(*base, "--tp", "16"), "tp", "pod")


def test_a_pod_is_whole_servers(tmp_path: Path) -> None:
    mine = _catalog(tmp_path)
    odd = {**SERVER, "scale_out_gb_per_s": 100, "pod_accelerators": 6}
    (tmp_path / "servers.yaml").write_text(yaml.safe_dump({"rows": [odd]}))
    result = invoke("--catalog", mine, "estimate", "-m", "llama-3.1-8b", "-g", "acme-x2")
    assert_user_error(result, "pod_accelerators", "whole number of servers of 4")
