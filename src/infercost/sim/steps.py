"""Step times for the simulator, tabulated once from the performance model.

The simulator asks for one step's time millions of times, so the roofline of `perf.step` is
broken into the parts that vary with the step's contents:

    step(b sequences, n tokens, attention work A, KV read R)
        = max(matmul[n] + head · b,           # per-token matmuls, the output head once per
              weights[n])                     #  sequence, vs weight reads (tabulated: MoE
                                              #  weight reads depend on n nonlinearly)
        + max(attention_s_per_unit · A,       # QKᵀ and AV FLOPs, A = Σ query × context tokens
              kv_s_per_token · R)             # KV bytes read and written, R = Σ context tokens
        + exposed communication[n]
        + step overhead + token overhead · b

`step_seconds` is that formula, compiled, and the one place it is written: the event loop
and `StepTable.decode_s` both call it. A decode token attends over its context and itself,
so b decodes at total context C contribute A = R = C + b.

Communication is tabulated twice, for a step of one-token decodes and for one that carries a
prompt's tokens: an expert all-to-all over nodes takes a different path in each
(`perf.step`: DeepEP's low-latency kernels for decodes, the node-deduplicated ones for
prompts).

`matmul`, `weights` and `communication` are tabulated for every token count a step can carry
(the engine's budget); the attention and KV coefficients are exact because the perf model is
linear in context. Tabulating from `perf.step.step_time` itself (no second formula) keeps the
simulator and the analytic model in agreement; a test checks that they agree.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from infercost.perf.deployment import Deployment
from infercost.perf.memory import kv_bytes_for_context, kv_share_per_gpu
from infercost.perf.step import step_time

# Slots of the float parameter array the loop carries (`StepTable.params`).
HEAD_S, ATT, KVC, OVERLAP, STEP_OH, TOK_OH = 0, 1, 2, 3, 4, 5


@njit(cache=True)
def step_seconds(
    tokens: int,
    seqs: float,
    attention: float,
    reads: float,
    matmul: NDArray[np.float64],
    weights: NDArray[np.float64],
    comm: NDArray[np.float64],
    pf: NDArray[np.float64],
) -> float:
    """One step of `tokens` tokens over `seqs` sequences (see the module docstring)."""
    n = min(tokens, matmul.shape[0] - 1)
    busy = max(matmul[n] + pf[HEAD_S] * seqs, weights[n])
    busy += max(pf[ATT] * attention, pf[KVC] * reads)
    link = comm[0, n] if tokens <= seqs else comm[1, n]  # decodes alone, or a prompt in it
    exposed = link - min(link, pf[OVERLAP] * busy)
    return float(busy + exposed + pf[STEP_OH] + pf[TOK_OH] * seqs)


@dataclass(frozen=True)
class StepTable:
    matmul_s: NDArray[np.float64]  # [tokens] matmul compute of `tokens` tokens, output head aside
    head_s: float  # the output head's matmul, once per sequence in the step
    weights_s: NDArray[np.float64]  # [tokens] weight-read time (experts touched grow with tokens)
    # [2, tokens] communication before overlap: row 0 for a step of one-token decodes, row 1
    # for a step that carries a prompt (an expert all-to-all takes another path: perf/step.py)
    comm_s: NDArray[np.float64]
    attention_s_per_unit: float  # compute per (query token × context token)
    kv_s_per_token: float  # KV bytes moved per context token, as time
    comm_overlap: float
    step_overhead_s: float
    token_overhead_s: float

    @property
    def max_tokens(self) -> int:
        return len(self.matmul_s) - 1

    def params(self) -> NDArray[np.float64]:
        """The scalars of the step formula, in the slots `step_seconds` reads."""
        values = np.zeros(6)
        values[HEAD_S] = self.head_s
        values[ATT] = self.attention_s_per_unit
        values[KVC] = self.kv_s_per_token
        values[OVERLAP] = self.comm_overlap
        values[STEP_OH] = self.step_overhead_s
        values[TOK_OH] = self.token_overhead_s
        return values

    def decode_s(self, batch: int, context_tokens: float) -> float:
        """One decode step of `batch` sequences holding `context_tokens` in all."""
        work = context_tokens + batch
        args = (self.matmul_s, self.weights_s, self.comm_s, self.params())
        return float(step_seconds(batch, batch, work, work, *args))


_TABLES: dict[Any, StepTable] = {}  # the last tables built, by what they are built from
MAX_TABLES = 64


def step_table(dep: Deployment, max_tokens: int) -> StepTable:
    """`dep`'s step table (see `build_step_table`), built once for each deployment and size:
    a plan simulates the same pools again and again as it grows and bisects them."""
    key = (_frozen(dep), max_tokens)
    table = _TABLES.get(key)
    if table is None:
        table = build_step_table(dep, max_tokens)
        if len(_TABLES) >= MAX_TABLES:
            _TABLES.pop(next(iter(_TABLES)))
        _TABLES[key] = table
    return table


def _frozen(value: Any) -> Any:
    """A hashable value equal for equal inputs: a dataclass by its compared fields, a mapping
    by its sorted items, a sequence as a tuple."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = [f for f in dataclasses.fields(value) if f.compare]
        return (type(value).__name__, *(_frozen(getattr(value, f.name)) for f in fields))
    if isinstance(value, dict):
        return tuple(sorted((str(k), _frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple | set | frozenset):
        items = [_frozen(v) for v in value]
        return tuple(sorted(items, key=repr) if isinstance(value, set | frozenset) else items)
    if isinstance(value, np.ndarray):
        return (value.dtype.str, value.shape, value.tobytes())
    return value


def build_step_table(dep: Deployment, max_tokens: int) -> StepTable:
    """Tabulate `dep`'s step parts for steps of 0…`max_tokens` tokens (see module docstring).

    Per-token parts come from steps of `n` one-token sequences with no context (attention
    and KV vanish, overheads are subtracted); the context coefficients from the difference
    a long context makes to one sequence's step.
    """
    eff = dep.efficiency
    bandwidth = dep.gpu.memory_bandwidth_bytes_per_s
    matmul = np.zeros(max_tokens + 1)
    weights = np.zeros(max_tokens + 1)
    comm = np.zeros((2, max_tokens + 1))
    bare = dep.with_efficiency(comm_overlap=0.0)
    for n in range(1, max_tokens + 1):
        s = step_time(bare, n, 0.0, 1.0)
        matmul[n] = s.compute_s  # attention over a one-token context is negligible
        # memory_s = weights / (bandwidth · memory) + KV written / (bandwidth · attention_memory)
        weights[n] = s.memory_s - _kv_bytes(bare, n) / (bandwidth * eff.attention_memory)
        comm[0, n] = s.communication_s
        comm[1, n] = step_time(bare, 1, 0.0, float(n)).communication_s if n > 1 else comm[0, n]
    one = step_time(bare, 1, 0.0, 1.0)
    # The head runs once per sequence: two one-token sequences against one two-token one.
    head = step_time(bare, 2, 0.0, 1.0).compute_s - step_time(bare, 1, 0.0, 2.0).compute_s
    matmul -= head * np.arange(max_tokens + 1)
    matmul[0], weights[0] = 0.0, weights[1]
    far = step_time(bare, 1, 1_000_000.0, 1.0)
    attention = (far.compute_s - one.compute_s) / 1_000_000.0
    kv = (far.memory_s - one.memory_s) / 1_000_000.0
    return StepTable(
        matmul_s=np.maximum(matmul, 0.0),
        head_s=max(head, 0.0),
        weights_s=np.maximum(weights, 0.0),
        comm_s=comm,
        attention_s_per_unit=attention,
        kv_s_per_token=kv,
        comm_overlap=eff.comm_overlap,
        step_overhead_s=eff.step_overhead_s,
        # per sequence of the whole replica: attention-DP ranks each run their share at once
        token_overhead_s=eff.token_overhead_s / dep.parallelism.dp_attention,
    )


def _kv_bytes(dep: Deployment, tokens: int) -> float:
    """KV bytes `tokens` one-token sequences write (no context to read)."""
    share = kv_share_per_gpu(dep) * dep.parallelism.pp
    local = tokens / dep.parallelism.dp_attention
    return local * kv_bytes_for_context(dep.model, dep.kv, 1.0) * share
