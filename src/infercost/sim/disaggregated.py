"""A disaggregated fleet: a prefill pool and a decode pool, each behind its own router.

A request is prefilled by a replica of the prefill pool (its prompt, and the first token),
then its KV moves to a replica of the decode pool (`perf.transfer`), which generates the
rest. The two pools do not wait on each other except through that hand-off, so they are
simulated one after the other with the same event loop (`sim.engine.simulate`):

    1. the prefill pool serves every request as a one-token answer: its first token is the
       end of the prefill, and the pool's own queueing and chunking are in it;
    2. each request reaches the decode pool when its prefill ends; a decode replica admits
       it when a slot and KV room are free, the KV arrives over the link while that room is
       held, and the first token reaches the user as it lands (so TTFT = prefill, any wait
       for a decode slot, and the transfer); the other output − 1 tokens are decode steps.

Records name the replica of each pool; the summary keeps each pool's statistics beside the
fleet's.

A subset of a large fleet is simulated at each pool's own load per replica: the prefill
pool gets every request, and a random `decode_share` of them (seeded) go on to the decode
pool; the others were load on the prefill pool only, and have no record.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from infercost.errors import InputError
from infercost.perf.deployment import Deployment
from infercost.perf.transfer import KvLink, kv_link
from infercost.records import Records, Slo, distribution, summarise
from infercost.sim.engine import Fleet, SimResult, simulate


@dataclass(frozen=True)
class Pool:
    """One pool of a disaggregated fleet: a replica's deployment and how many run."""

    deployment: Deployment
    fleet: Fleet

    def to_dict(self) -> dict[str, Any]:
        dep = self.deployment
        return {
            "replicas": self.fleet.replicas,
            "gpu": dep.gpu.id,
            "gpus_per_replica": dep.gpus,
            "parallelism": dep.parallelism.to_dict(),
            "router": self.fleet.router,
            "max_seqs": self.fleet.max_seqs,
        }


@dataclass(frozen=True)
class DisaggregatedResult:
    records: Records  # the whole journey: arrival, first token at the user, last token
    prefill: SimResult
    decode: SimResult
    link: KvLink
    transfer_s: NDArray[np.float64]  # per request, in the records' order

    def summary(self, slos: list[Slo] | None = None) -> dict[str, Any]:
        out = summarise(self.records, slos)
        out["kv_transfer_s"] = distribution(self.transfer_s)
        out["kv_link"] = self.link.to_dict()
        prefill = summarise(self.prefill.records)
        decode = self.decode.summary()
        out["pools"] = {
            "prefill": {**self.prefill.replica_stats, "ttft_s": prefill["ttft_s"]},
            "decode": {
                **self.decode.replica_stats,
                "wait_s": decode["ttft_s"],  # arrival at the pool to landing: slot wait + transfer
                "tpot_s": decode["tpot_s"],
                "itl_s": decode["itl_s"],
                "throughput_output_tok_s": decode["throughput_output_tok_s"],
            },
        }
        return out


def subset(prefill: int, decode: int, most: int) -> tuple[int, int]:
    """(d, p): d ≤ `most` of `decode` replicas, and the p of `prefill` that carry at least
    their d/D share of the traffic at the fleet's load per replica (p/P ≥ d/D); the decode
    pool then takes a (d/D) ÷ (p/P) share of the prefilled requests."""
    d = min(decode, most)
    return d, min(math.ceil(prefill * d / decode - 1e-9), prefill)


def simulate_disaggregated(
    prefill: Pool,
    decode: Pool,
    arrival_s: NDArray[np.float64],
    input_tokens: NDArray[np.int64],
    output_tokens: NDArray[np.int64],
    progress: Callable[[int, int], None] | None = None,
    link: KvLink | None = None,
    decode_share: float = 1.0,
    seed: int = 0,
) -> DisaggregatedResult:
    """Run the requests through both pools (see the module docstring). `link` replaces the
    KV path the two deployments imply (a test can make it free)."""
    if not 0 < decode_share <= 1:
        raise InputError("decode_share", f"must be in (0, 1], got {decode_share}")
    order = np.argsort(arrival_s, kind="stable")
    arrival = np.asarray(arrival_s, dtype=np.float64)[order]
    prompt = np.asarray(input_tokens, dtype=np.int64)[order]
    output = np.maximum(np.asarray(output_tokens, dtype=np.int64)[order], 1)
    n = len(arrival)
    half = None if progress is None else (lambda done, _total: progress(done // 2, n))
    first = simulate(prefill.deployment, arrival, prompt, np.ones(n, np.int64), prefill.fleet, half)
    link = link or kv_link(prefill.deployment, decode.deployment)
    if not link.bandwidth_bytes_per_s > 0:
        raise InputError(
            "server", "the prefill and decode servers have no scale-out bandwidth between them"
        )
    transfer = np.asarray(link.seconds(prompt.astype(np.float64)), dtype=np.float64)
    ok = first.records.ok
    if decode_share < 1:
        ok &= np.random.default_rng(seed).random(n) < decode_share
    if not ok.any():
        raise InputError("requests", "none reached the decode pool: give more requests")
    handed = first.records.finish_s[ok]  # the prefill's end: the request joins the decode pool
    rest = None if progress is None else (lambda done, _total: progress(n // 2 + done // 2, n))
    second = simulate(
        decode.deployment, handed, prompt[ok], output[ok], decode.fleet, rest,
        kv_transfer_s=transfer[ok],
    )  # fmt: skip
    records = _journey(first.records, second.records, ok, arrival, prompt, output)
    return DisaggregatedResult(records, first, second, link, transfer[ok])


def _journey(
    pre: Records,
    dec: Records,
    ok: NDArray[np.bool_],
    arrival: NDArray[np.float64],
    prompt: NDArray[np.int64],
    output: NDArray[np.int64],
) -> Records:
    """One record per request that went through both pools, in arrival order (`dec` is in
    the order of the prefills' ends, the order it was simulated in); a request whose
    prompt could not be prefilled keeps the prefill pool's error."""
    failed = ~pre.ok
    kept = ok | failed
    index = np.flatnonzero(kept)
    where = np.full(len(arrival), -1, dtype=np.int64)
    where[index] = np.arange(len(index))
    handed = where[np.flatnonzero(ok)[np.argsort(pre.finish_s[ok], kind="stable")]]
    m = len(index)
    first, finish = np.full(m, np.nan), np.full(m, np.nan)
    replica = np.full(m, -1, dtype=np.int64)
    preemptions = pre.preemptions[index].copy()
    error = (np.asarray(pre.error, dtype=object)[index] if len(pre.error) == len(arrival)
             else np.full(m, "", dtype=object))  # fmt: skip
    first[handed] = dec.first_token_s
    finish[handed] = dec.finish_s
    replica[handed] = dec.replica
    preemptions[handed] += dec.preemptions
    if len(dec.error) == len(handed):
        bad = dec.error != ""
        error[handed[bad]] = dec.error[bad]
    return Records(
        arrival_s=arrival[index],
        first_token_s=first,
        finish_s=finish,
        input_tokens=prompt[index],
        output_tokens=output[index],
        replica=replica,
        preemptions=preemptions,
        error=error,
        prefill_replica=pre.replica[index],
    )
