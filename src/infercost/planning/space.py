"""The configurations a plan searches: accelerator × server × layout × precisions × batch cap.

For each allowed model and accelerator (its catalog server sets the node size):

    layouts     tensor parallel over the sizes that split the model's heads, within one
                server; pipeline parallel (2, 4, 8 stages) on the widest of those; for a MoE
                model each of them with experts spread over every accelerator (ep = GPUs),
                and attention data parallelism (dp copies of attention, ep = dp)
    weights     bf16 and the 8-bit format the chip multiplies in (fp8, else int8); a model
                published narrower (DeepSeek-V3 in fp8, gpt-oss in MXFP4) as published;
                4-bit formats only when the user allows them, since they change the
                model's answers more than 8-bit ones do; or the precisions the user lists
    KV cache    bf16 and the chip's 8-bit format (or the user's list)
    batch caps  the engine's cap and the powers of two below it, down to 8: a smaller cap
                trades throughput for a faster TPOT; `screen` adds the KV ceiling

Each is one `Config`; the batch caps are screened per configuration (one performance curve
serves all of them). The search is bounded (`MAX_PLAN_CANDIDATES`) before any work starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Literal

from infercost.catalog.engines import engine
from infercost.catalog.hardware import Accelerator, accelerator, accelerators, server, server_for
from infercost.catalog.models import ModelArch, model
from infercost.catalog.prices import owner_profiles, prices_for
from infercost.errors import InputError
from infercost.evaluate.config import Config
from infercost.evaluate.pipeline import CostBasis
from infercost.limits import MAX_FLEET_GPUS as MAX_GPUS
from infercost.limits import MAX_PLAN_CANDIDATES
from infercost.perf.deployment import tensor_parallel_sizes
from infercost.units import precision, weight_and_compute

DEFAULT_MAX_GPUS_PER_REPLICA = 32
PIPELINE_STAGES = (2, 4, 8)
SMALLEST_CAP = 8


@dataclass(frozen=True)
class Pricing:
    """What an accelerator-hour costs in a plan: rented (the stated price, per accelerator
    or for all, else the newest catalog price) or owned (the catalog server under an owner
    profile)."""

    mode: Literal["rent", "own"] = "rent"
    usd_per_gpu_hour: float | None = None  # every accelerator at this price
    per_gpu: tuple[tuple[str, float], ...] = ()  # accelerator id → price, over the above
    owner_profile: str = "hyperscaler-2025"

    def basis(self, gpu_id: str) -> CostBasis:
        if self.mode == "own":
            return CostBasis("own", owner_profile=self.owner_profile)
        return CostBasis("catalog", dict(self.per_gpu).get(gpu_id, self.usd_per_gpu_hour))

    def unpriced(self, gpu: Accelerator, node: str | None) -> str | None:
        """Why `gpu` has no price under this pricing, or None."""
        if self.mode == "own":
            if node is None:
                return "no catalog server to own"
            host = server(node)
            if host.price_usd is None or host.power_w is None:
                return f"{host.id} is rented only: no published price or power to own"
            return None
        if self.usd_per_gpu_hour is not None or gpu.id in dict(self.per_gpu):
            return None
        return None if prices_for(gpu.id) else "no catalog price"

    def check(self) -> None:
        if self.mode == "own":
            owner_profiles().get(self.owner_profile)
        for gpu_id, price in self.per_gpu:
            accelerator(gpu_id)
            if not price > 0:
                raise InputError("price", f"{gpu_id}: must be > 0 $/GPU-hour, got {price}")


@dataclass(frozen=True)
class Constraints:
    """What the user allows; empty tuples mean "every one that applies"."""

    models: tuple[str, ...]
    gpus: tuple[str, ...] = ()
    servers: tuple[str, ...] = ()
    gpus_per_replica: int | None = None  # exactly this many, else up to the maximum
    max_gpus_per_replica: int = DEFAULT_MAX_GPUS_PER_REPLICA
    max_gpus: int | None = None  # the whole fleet
    precisions: tuple[str, ...] = ()
    kv_precisions: tuple[str, ...] = ()
    engine: str | None = None
    efficiency: tuple[tuple[str, float], ...] = ()  # stated factors, on every configuration
    pricing: Pricing = Pricing()
    priced_only: bool = True  # dollar objectives skip accelerators without a price
    max_candidates: int = MAX_PLAN_CANDIDATES


@dataclass(frozen=True)
class Space:
    configs: tuple[Config, ...]
    caps: dict[Config, tuple[int, ...]]
    skipped: tuple[str, ...]  # why accelerators named or in the catalog were left out

    @property
    def candidates(self) -> int:
        return sum(len(c) for c in self.caps.values())


def build_space(c: Constraints) -> Space:
    """Every configuration the constraints allow (see the module docstring), checked."""
    archs = [model(m) for m in c.models]
    if not archs:
        raise InputError("model", "give at least one model")
    for p in c.precisions:
        weight_and_compute(p, "precision")
    for p in c.kv_precisions:
        precision(p, "kv_precision")
    eng = engine(c.engine)
    gpus, skipped = _accelerators(c)
    configs: list[Config] = []
    caps: dict[Config, tuple[int, ...]] = {}
    for arch in archs:
        for gpu, node_id, node_size in gpus:
            for config in _configs(arch, gpu, node_id, node_size, c):
                cap_top = eng.max_sequences * config.dp_attention
                caps[config] = _caps(cap_top)
                configs.append(config)
        total = sum(len(v) for v in caps.values())
        if total > c.max_candidates:
            raise InputError(
                "max_candidates",
                f"the search holds {total:,} candidates, over the bound of "
                f"{c.max_candidates:,}; allow fewer accelerators (gpu), precisions or a "
                "smaller max_gpus_per_replica",
            )
    if not configs:
        raise _nothing_left(c, archs, gpus, skipped)
    return Space(tuple(configs), caps, tuple(skipped))


def _nothing_left(
    c: Constraints,
    archs: list[ModelArch],
    gpus: list[tuple[Accelerator, str | None, int]],
    skipped: list[str],
) -> InputError:
    """The error for a search the constraints leave empty, naming the one that emptied it
    (the search is tried again without it)."""
    unpriced = f" ({len(skipped)} accelerators have no price: give --price)" if skipped else ""

    def any_left(relaxed: Constraints) -> bool:
        return any(
            True
            for arch in archs
            for g, node, size in gpus
            for _ in _configs(arch, g, node, size, relaxed)
        )

    if c.max_gpus is not None and any_left(replace(c, max_gpus=None)):
        return InputError(
            "max_gpus", f"no layout of the model fits in {c.max_gpus:,} GPUs{unpriced}"
        )
    if c.gpus_per_replica is not None and any_left(replace(c, gpus_per_replica=None)):
        return InputError(
            "gpus_per_replica",
            f"no layout of the model has exactly {c.gpus_per_replica} GPUs on the allowed "
            f"accelerators (tensor parallel must divide its heads){unpriced}",
        )
    return InputError("gpu", f"no configuration is left to search after the filters{unpriced}")


def _accelerators(c: Constraints) -> tuple[list[tuple[Accelerator, str | None, int]], list[str]]:
    """(accelerator, server id, accelerators per server) for each allowed accelerator; those
    a dollar objective cannot price are left out with the reason (an error when named)."""
    c.pricing.check()
    if c.servers:
        nodes = [server(s) for s in c.servers]
        if c.gpus:
            wanted = {accelerator(g).id for g in c.gpus}
            nodes = [n for n in nodes if n.accelerator in wanted]
            if not nodes:
                raise InputError("gpu", f"no allowed server holds {', '.join(sorted(wanted))}")
        named: list[tuple[Accelerator, str | None, int]] = [
            (accelerator(n.accelerator), n.id, n.accelerators_per_server) for n in nodes
        ]
        return _priced(named, c, "server"), []
    chosen = [accelerator(g) for g in c.gpus] if c.gpus else list(accelerators())
    found: list[tuple[Accelerator, str | None, int]] = []
    for gpu in {g.id: g for g in chosen}.values():
        node = server_for(gpu)
        found.append((gpu, node.id if node else None, node.accelerators_per_server if node else 8))
    if c.gpus:
        return _priced(found, c, "gpu"), []
    skipped = [f"{g.id}: {why}" for g, n, _ in found if (why := _unpriced(c, g, n))]
    return [f for f in found if not _unpriced(c, f[0], f[1])], skipped


def _unpriced(c: Constraints, gpu: Accelerator, node: str | None) -> str | None:
    return c.pricing.unpriced(gpu, node) if c.priced_only else None


def _priced(
    found: list[tuple[Accelerator, str | None, int]], c: Constraints, field: str
) -> list[tuple[Accelerator, str | None, int]]:
    for gpu, node, _ in found:
        why = _unpriced(c, gpu, node)
        if why:
            raise InputError(
                field,
                f"{gpu.id} cannot be priced ({why}); give a price for it (price "
                f"{gpu.id}=USD) or choose the objective gpus",
            )
    return found


def _configs(
    arch: ModelArch, gpu: Accelerator, node: str | None, node_size: int, c: Constraints
) -> Iterator[Config]:
    widest_gpus = min(c.gpus_per_replica or c.max_gpus_per_replica, c.max_gpus or MAX_GPUS)
    if node is None and not gpu.interconnect_bandwidth_bytes_per_s:
        widest_gpus = 1  # no link between devices: a replica is one device
    elif node is not None and not server(node).scale_out_bandwidth_bytes_per_s:
        widest_gpus = min(widest_gpus, node_size)  # no link between servers: one server
    for tp, pp, dp, ep in _layouts(arch, node_size, widest_gpus):
        gpus = tp * pp * dp
        if c.gpus_per_replica is not None and gpus != c.gpus_per_replica:
            continue
        for weights in _weight_precisions(arch, gpu, c):
            for kv in _kv_precisions(gpu, weights, c):
                yield Config(
                    model=arch.id,
                    gpu=gpu.id,
                    server=node,
                    tp=tp,
                    pp=pp,
                    dp_attention=dp,
                    ep=ep,
                    weight_precision=weights,
                    kv_precision=kv,
                    engine=c.engine,
                    efficiency=c.efficiency,
                )


def _layouts(arch: ModelArch, node_size: int, max_gpus: int) -> list[tuple[int, int, int, int]]:
    """(tp, pp, dp_attention, ep) layouts (see the module docstring)."""
    sizes = [t for t in tensor_parallel_sizes(arch) if t <= min(node_size, max_gpus)]
    out: list[tuple[int, int, int, int]] = []
    if not sizes:
        return out
    widest = max(sizes)
    base = [(tp, 1) for tp in sizes]
    base += [(widest, pp) for pp in PIPELINE_STAGES if widest * pp <= max_gpus]
    base = [(tp, pp) for tp, pp in base if pp <= arch.num_layers]
    for tp, pp in base:
        out.append((tp, pp, 1, 1))
        if arch.moe is not None and tp * pp > 1:
            out.append((tp, pp, 1, tp * pp))
    if arch.moe is not None:
        dp = 2
        while dp <= min(node_size, max_gpus):
            out.append((1, 1, dp, dp))
            dp *= 2
    return out


def _weight_precisions(arch: ModelArch, gpu: Accelerator, c: Constraints) -> list[str]:
    if c.precisions:  # checked in build_space; kept as written (w4a16 names two)
        return list(dict.fromkeys(c.precisions))
    released = precision(arch.released_precision).name
    if precision(released).bytes_per_element < 2:  # published narrow: served as published
        return [released]
    eight = _eight_bit(gpu)
    return ["bf16", eight] if eight else ["bf16"]


def _kv_precisions(gpu: Accelerator, weights: str, c: Constraints) -> list[str]:
    if c.kv_precisions:
        return list(dict.fromkeys(precision(p, "kv_precision").name for p in c.kv_precisions))
    eight = _eight_bit(gpu)
    return ["bf16", eight] if eight else ["bf16"]


def _eight_bit(gpu: Accelerator) -> str | None:
    """The 8-bit format the chip multiplies in: fp8, else int8, else none."""
    if gpu.peak_flops_per_s("fp8"):
        return "fp8"
    return "int8" if gpu.peak_flops_per_s("int8") else None


def _caps(top: int) -> tuple[int, ...]:
    caps = {top}
    cap = SMALLEST_CAP
    while cap < top:
        caps.add(cap)
        cap *= 2
    return tuple(sorted(caps))
