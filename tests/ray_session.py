"""One local Ray for the whole test session: 2 CPUs, no dashboard, a 200 MB object store,
always shut down at the end. A test that asks for `ray_local` gets the address the runner
joins ("local": the runner finds Ray already started and leaves it running)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def ray_local() -> Iterator[str]:
    ray = pytest.importorskip("ray")
    from infercost.planning.runner import RAY_OBJECT_STORE_BYTES

    ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=RAY_OBJECT_STORE_BYTES,
        log_to_driver=False,
        configure_logging=False,
    )
    try:
        yield "local"
    finally:
        ray.shutdown()
