"""Moving a prompt's KV cache from a prefill replica to a decode replica.

In a disaggregated deployment the prefill pool computes a prompt's KV and the decode pool
continues from it, so the whole prompt's KV crosses a link once per request:

    bytes      = KV of the prompt, every layer, in the decode pool's KV precision
    senders    = the prefill accelerators that hold a share of it (its TP shards × PP
                 stages: each sends its own share at once)
    link       = NVLink within a server when both replicas are of one accelerator and fit
                 in one server (colocated), else each accelerator's share of the
                 scale-out network (the slower end's)
    time       = bytes / senders / (link bandwidth × link efficiency) + one link latency

Cached prompt tokens move too: the decode pool needs the whole context. The decode replica
holds the memory for the KV from the moment it admits the request, while it arrives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from infercost.catalog.models import ModelArch
from infercost.perf.deployment import Deployment
from infercost.perf.memory import kv_bytes_for_context, kv_share_per_gpu
from infercost.units import Precision


@dataclass(frozen=True)
class KvLink:
    """The path a prompt's KV takes from a prefill replica to a decode replica."""

    model: ModelArch
    kv: Precision  # the decode pool's KV precision
    share_per_sender: float  # fraction of a sequence's KV one prefill accelerator sends
    bandwidth_bytes_per_s: float  # one sender's link, efficiency applied
    latency_s: float
    colocated: bool  # both replicas in one server: NVLink

    def kv_bytes(self, prompt_tokens: float | NDArray[np.float64]) -> Any:
        """KV bytes of whole prompts, each length worked out once."""
        lengths, where = np.unique(np.asarray(prompt_tokens, dtype=float), return_inverse=True)
        each = np.array([kv_bytes_for_context(self.model, self.kv, t) for t in lengths])
        return each[where].reshape(np.shape(prompt_tokens))

    def seconds(self, prompt_tokens: float | NDArray[np.float64]) -> Any:
        """Transfer time of prompts of `prompt_tokens` tokens (a number or an array)."""
        sent = self.kv_bytes(prompt_tokens) * self.share_per_sender
        if not self.bandwidth_bytes_per_s > 0:  # no network between the two: never arrives
            out = np.where(sent > 0, np.inf, self.latency_s)
            return float(out) if np.ndim(out) == 0 else out
        out = sent / self.bandwidth_bytes_per_s + self.latency_s
        return float(out) if np.ndim(out) == 0 else out

    def to_dict(self) -> dict[str, Any]:
        return {
            "kv_bytes_per_token": float(self.kv_bytes(1.0)),
            "share_per_sender": self.share_per_sender,
            "link_bytes_per_s": self.bandwidth_bytes_per_s,
            "latency_s": self.latency_s,
            "link": "nvlink (colocated)" if self.colocated else "scale-out network",
        }


def kv_link(prefill: Deployment, decode: Deployment) -> KvLink:
    """The KV path between a prefill and a decode deployment (see the module docstring)."""
    colocated = prefill.gpu.id == decode.gpu.id and prefill.gpus + decode.gpus <= min(
        prefill.gpus_per_node, decode.gpus_per_node
    )
    bandwidth = (
        prefill.intra_node_bandwidth_bytes_per_s
        if colocated
        else min(prefill.inter_node_bandwidth_bytes_per_s, decode.inter_node_bandwidth_bytes_per_s)
    )
    return KvLink(
        model=decode.model,
        kv=decode.kv,
        share_per_sender=kv_share_per_gpu(prefill),
        bandwidth_bytes_per_s=bandwidth * prefill.efficiency.link,
        latency_s=prefill.efficiency.collective_latency_s,
        colocated=colocated,
    )
