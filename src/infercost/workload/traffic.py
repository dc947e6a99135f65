"""Traffic a fleet must serve, and the replicas, accelerators and servers that serve it.

Average demand is queries per second (daily users × queries per user ÷ 86,400, or given
directly). A fleet is sized for its peak and held at a target utilisation:

    capacity needed = average queries/s × peak-to-average ÷ target utilisation
    replicas        = ⌈capacity needed ÷ queries/s one replica serves⌉
    accelerators    = replicas × accelerators per replica
    servers         = ⌈accelerators ÷ accelerators per server⌉

Idle capacity costs the same as busy capacity: a fleet sized at 50 % utilisation pays for
twice the accelerator-hours its average load needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infercost.elementwise import ceil, every
from infercost.errors import InputError
from infercost.units import SECONDS_PER_DAY


@dataclass(frozen=True)
class Traffic:
    queries_per_s: float
    input_tokens_per_query: float
    output_tokens_per_query: float
    peak_to_average: float = 1.0
    target_utilisation: float = 1.0
    cached_input_fraction: float = 0.0  # share of input tokens served from a prefix cache

    def __post_init__(self) -> None:
        if not every(self.queries_per_s > 0):
            raise InputError("workload.queries_per_s", f"must be > 0, got {self.queries_per_s}")
        if not every(self.input_tokens_per_query >= 0):
            raise InputError("workload.input_tokens", "must be ≥ 0")
        if not every(self.output_tokens_per_query >= 1):
            raise InputError("workload.output_tokens", "must be ≥ 1")
        if not every(self.peak_to_average >= 1):
            raise InputError("workload.peak_to_average", "must be ≥ 1")
        if not every((self.target_utilisation > 0) & (self.target_utilisation <= 1)):
            raise InputError("workload.target_utilisation", "must be in (0, 1]")
        if not every((self.cached_input_fraction >= 0) & (self.cached_input_fraction < 1)):
            raise InputError("workload.cached_input_fraction", "must be in [0, 1)")

    @classmethod
    def from_users(cls, daily_users: float, queries_per_user_per_day: float, **kw: Any) -> Traffic:
        if not every(daily_users > 0):
            raise InputError("workload.daily_users", f"must be > 0, got {daily_users}")
        if not every(queries_per_user_per_day > 0):
            raise InputError(
                "workload.queries_per_user_per_day", f"must be > 0, got {queries_per_user_per_day}"
            )
        return cls(queries_per_s=daily_users * queries_per_user_per_day / SECONDS_PER_DAY, **kw)

    @property
    def queries_per_day(self) -> float:
        return self.queries_per_s * SECONDS_PER_DAY

    @property
    def input_tokens_per_day(self) -> float:
        return self.queries_per_day * self.input_tokens_per_query

    @property
    def output_tokens_per_day(self) -> float:
        return self.queries_per_day * self.output_tokens_per_query

    @property
    def capacity_queries_per_s(self) -> float:
        """Queries/s the fleet must be able to serve."""
        return self.queries_per_s * self.peak_to_average / self.target_utilisation

    def to_dict(self) -> dict[str, Any]:
        return {
            "queries_per_s": self.queries_per_s,
            "queries_per_day": self.queries_per_day,
            "input_tokens_per_query": self.input_tokens_per_query,
            "output_tokens_per_query": self.output_tokens_per_query,
            "peak_to_average": self.peak_to_average,
            "target_utilisation": self.target_utilisation,
            "cached_input_fraction": self.cached_input_fraction,
        }


@dataclass(frozen=True)
class FleetSize:
    replicas_exact: float
    replicas: int
    gpus: int
    servers: int
    gpus_per_replica: int
    gpus_per_server: int

    @property
    def gpus_exact(self) -> float:
        return self.replicas_exact * self.gpus_per_replica

    def to_dict(self) -> dict[str, Any]:
        return {
            "replicas_exact": self.replicas_exact,
            "replicas": self.replicas,
            "gpus": self.gpus,
            "servers": self.servers,
            "gpus_per_replica": self.gpus_per_replica,
        }


def size_fleet(
    capacity_per_s: float, per_replica_per_s: float, gpus_per_replica: int, gpus_per_server: int
) -> FleetSize:
    """Replicas, accelerators and servers to serve `capacity_per_s` (any unit, same for both)."""
    if not every(per_replica_per_s > 0):
        raise InputError("replica throughput", "must be > 0")
    exact = capacity_per_s / per_replica_per_s
    replicas = ceil(exact - 1e-9)
    gpus = replicas * gpus_per_replica
    return FleetSize(
        replicas_exact=exact,
        replicas=replicas,
        gpus=gpus,
        servers=ceil(gpus / gpus_per_server),
        gpus_per_replica=gpus_per_replica,
        gpus_per_server=gpus_per_server,
    )
